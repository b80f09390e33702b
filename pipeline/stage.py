"""What every stage module shares: a main wrapper that turns known bad input into a clear message,
and a stop signal into a clean stop.

A ConfigError, a data-format error or a missing input ends the stage with exit code 2 and one line
naming the problem, instead of a traceback; outputs are written atomically, so earlier ones stay.
SIGTERM or SIGINT raise StageInterrupted in the stage's main thread: the open MLflow run is marked
KILLED (pipeline.tracking), the stage exits 128 + the signal's number (143, 130), and no output is
half-written.
"""
from __future__ import annotations

import signal
import sys
import time

from pipeline.config import ConfigError
from pipeline.errors import InputFileError
from pipeline.progress import say

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class RankFailed(RuntimeError):
    """A worker of a data-parallel stage failed; the message names its rank and how it ended."""


class StageInterrupted(BaseException):
    """A stop signal; a BaseException, so that no `except Exception` in a stage swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _interrupt(signum, _frame):
    raise StageInterrupted(signum)


def run_stage(name: str, main, user_errors: tuple = ()) -> None:
    start = time.perf_counter()
    say(name, "start")
    previous = {s: signal.signal(s, _interrupt) for s in STOP_SIGNALS}
    try:
        main()
    except (ConfigError, InputFileError, FileNotFoundError, RankFailed, *user_errors) as e:
        print(f"[{name}] error: {e}", file=sys.stderr, flush=True)
        sys.exit(2)
    except StageInterrupted as e:
        say(name, f"stopped by {e} after {time.perf_counter() - start:.1f}s; outputs of earlier runs are intact")
        sys.exit(128 + e.signum)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    say(name, f"done in {time.perf_counter() - start:.1f}s")
