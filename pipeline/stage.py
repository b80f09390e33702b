"""What every stage module shares: a main wrapper that turns known bad input into a clear message.

A ConfigError, a data-format error or a missing input ends the stage with exit code 2 and one line
naming the problem, instead of a traceback; outputs are written atomically, so earlier ones stay.
"""
from __future__ import annotations

import sys
import time

from pipeline.config import ConfigError
from pipeline.indexes import IndexFileError


def run_stage(name: str, main, user_errors: tuple = ()) -> None:
    start = time.perf_counter()
    print(f"[{name}] start", file=sys.stderr, flush=True)
    try:
        main()
    except (ConfigError, IndexFileError, FileNotFoundError, *user_errors) as e:
        print(f"[{name}] error: {e}", file=sys.stderr, flush=True)
        sys.exit(2)
    print(f"[{name}] done in {time.perf_counter() - start:.1f}s", file=sys.stderr, flush=True)
