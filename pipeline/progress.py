"""Progress lines for long work: one line per step to stderr, flushed, with elapsed time.
In a data-parallel run only rank 0 speaks (the others would repeat it)."""
from __future__ import annotations

import os
import sys
import time


def _quiet() -> bool:
    return os.environ.get("RANK", "0") != "0"


class Progress:
    def __init__(self, name: str, total: int | None = None):
        self.name, self.total, self.start = name, total, time.perf_counter()

    def step(self, i: int, message: str = "") -> None:
        if _quiet():
            return
        done = f"{i}/{self.total}" if self.total else str(i)
        print(f"[{self.name}] {done} {message} ({time.perf_counter() - self.start:.1f}s)",
              file=sys.stderr, flush=True)

    def done(self, message: str = "done") -> None:
        if _quiet():
            return
        print(f"[{self.name}] {message} in {time.perf_counter() - self.start:.1f}s", file=sys.stderr, flush=True)


def say(stage: str, message: str) -> None:
    if _quiet():
        return
    print(f"[{stage}] {message}", file=sys.stderr, flush=True)
