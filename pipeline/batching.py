"""One inference thread per served model, merging concurrent requests into one model call.

Request threads hand work to the model's `ModelWorker` and wait on a future. The worker runs one
job at a time (torch modules are not re-entrant across threads), so one model's requests never
queue behind another model's. Jobs submitted with `batched(fn, item)` that are waiting together
are passed to `fn` as one list (dynamic micro-batching, as serving systems do): when the worker
frees up, it takes every queued job of the same function, up to `max_batch`, without waiting for
more. A lone request therefore pays nothing extra, and under load each model call serves many.
"""
from __future__ import annotations

import collections
import os
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class _Job:
    fn: Callable
    args: tuple
    batched: bool
    future: Future = field(default_factory=Future)


class ModelWorker:
    def __init__(self, name: str, max_batch: int = 64, batching: bool = True, nice: int = 0):
        self.name, self.max_batch, self.batching, self.nice = name, max_batch, batching, nice
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._held: collections.deque[_Job] = collections.deque()   # taken while gathering a batch
        self.calls = 0       # model calls made: with batching, fewer than the jobs
        self.jobs = 0
        self._thread = threading.Thread(target=self._loop, name=f"model-{name}", daemon=True)
        self._thread.start()

    def call(self, fn: Callable, *args) -> Future:
        """Run fn(*args) on the worker thread."""
        return self._put(_Job(fn, args, batched=False))

    def batched(self, fn: Callable[[list], list], item: Any) -> Future:
        """fn(items)[i] for this item, where `items` are the jobs of `fn` waiting together. `fn` returns
        one result per item, in order; an exception instance in that list fails its item alone."""
        return self._put(_Job(fn, (item,), batched=True))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(5)

    def _put(self, job: _Job) -> Future:
        self._queue.put(job)
        return job.future

    def _next(self, block: bool) -> _Job | None:
        if self._held:
            return self._held.popleft()
        return self._queue.get() if block else self._queue.get_nowait()

    def _gather(self, first: _Job) -> list[_Job]:
        """`first` and the queued jobs of the same function (the others keep their order)."""
        batch, others = [first], []
        while len(batch) < self.max_batch:
            try:
                job = self._next(block=False)
            except queue.Empty:
                break
            if job is None:
                others.append(job)
                break
            same = job.batched and job.fn == first.fn   # bound methods compare equal, never identical
            (batch if same else others).append(job)
        self._held.extend(others)
        return batch

    def _loop(self) -> None:
        if self.nice and hasattr(os, "setpriority"):  # Linux schedules threads as tasks: this one alone yields
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
        while True:
            job = self._next(block=True)
            if job is None:
                return
            if not job.batched:
                self._run_one(job)
                continue
            batch = self._gather(job) if self.batching else [job]
            self.calls, self.jobs = self.calls + 1, self.jobs + len(batch)
            try:
                results = job.fn([j.args[0] for j in batch])
            except Exception as e:  # the whole call failed: every item says why
                results = [e] * len(batch)
            for j, r in zip(batch, results):
                (j.future.set_exception if isinstance(r, BaseException) else j.future.set_result)(r)

    def _run_one(self, job: _Job) -> None:
        self.calls, self.jobs = self.calls + 1, self.jobs + 1
        try:
            r = job.fn(*job.args)
        except Exception as e:
            job.future.set_exception(e)
        else:
            job.future.set_result(r)
