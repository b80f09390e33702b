"""ModelWorker: one thread per model; jobs of one batched function waiting together become one call."""
import threading

import pytest

from pipeline.batching import ModelWorker


def test_waiting_jobs_are_merged_into_one_call_and_answered_in_order():
    gate, calls = threading.Event(), []
    worker = ModelWorker("m", max_batch=8)
    blocker = worker.call(gate.wait)          # holds the worker while the others queue up

    def double(items):
        calls.append(list(items))
        return [2 * x for x in items]

    futures = [worker.batched(double, x) for x in range(5)]
    gate.set()
    assert blocker.result(5) is True
    assert [f.result(5) for f in futures] == [0, 2, 4, 6, 8]
    assert calls == [[0, 1, 2, 3, 4]] and worker.calls == 2 and worker.jobs == 6
    worker.close()


def test_max_batch_other_functions_and_per_item_errors():
    gate, calls = threading.Event(), []
    worker = ModelWorker("m", max_batch=2)
    worker.call(gate.wait)

    def checked(items):
        calls.append(list(items))
        return [ValueError(f"bad {x}") if x < 0 else x for x in items]

    a, b, c = worker.batched(checked, 1), worker.batched(checked, -1), worker.batched(checked, 3)
    other = worker.call(lambda: "plain")
    gate.set()
    assert a.result(5) == 1 and c.result(5) == 3 and other.result(5) == "plain"
    with pytest.raises(ValueError, match="bad -1"):
        b.result(5)
    assert calls == [[1, -1], [3]]
    worker.close()


def test_batching_off_calls_once_per_job_and_a_failed_call_fails_its_jobs():
    gate = threading.Event()
    worker = ModelWorker("m", batching=False)
    worker.call(gate.wait)
    futures = [worker.batched(lambda items: 1 / 0, x) for x in range(3)]
    gate.set()
    for f in futures:
        with pytest.raises(ZeroDivisionError):
            f.result(5)
    assert worker.calls == 4
    worker.close()
