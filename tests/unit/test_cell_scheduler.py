"""The cell scheduler's bookkeeping when a worker dies, driven event by event as xdist's
DSession drives it (the real run is tests/integration/test_xdist.py; its crash timing is up to
the machine, these orders are not)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from pytest_luxgate.plugin.xdist import make_cell_scheduler

Producer = pytest.importorskip("xdist.remote").Producer

CELLS = ("a", "b", "c", "d", "e", "f")
CHECKS = ("test_wer", "test_start")
COLLECTION = [f"test_gate.py::{check}[{cell}]" for cell in CELLS for check in CHECKS]


class Worker:
    """What the scheduler sees of an xdist WorkerController: an id, a command channel, a state."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.sent: list[list[int]] = []
        self.shutting_down = False

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.append(list(indices))

    def shutdown(self) -> None:
        self.shutting_down = True


def _scheduler():
    config = SimpleNamespace(getvalue=lambda name: ["2*popen"], option=SimpleNamespace(loadscopereorder=False))
    sched = make_cell_scheduler(config, Producer("test", enabled=False), lambda nodeid: nodeid[nodeid.index("[") + 1:-1])
    workers = Worker("gw0"), Worker("gw1")
    for w in workers:
        sched.add_node(w)
    for w in workers:
        sched.add_node_collection(w, COLLECTION)
    sched.schedule()
    return sched, workers


def _left(sched, worker: Worker) -> list[int]:
    """Indices the worker was sent and has not reported done, in the order it runs them."""
    return [i for batch in worker.sent for i in batch
            if not sched.assigned_work[worker][sched._split_scope(COLLECTION[i])][COLLECTION[i]]]


def _run(sched, worker: Worker, n: int) -> None:
    """The worker reports its next n tests done."""
    for _ in range(n):
        sched.mark_test_complete(worker, _left(sched, worker)[0])


def _join(sched, name: str) -> Worker:
    """A replacement worker starts, collects and is scheduled."""
    w = Worker(name)
    sched.add_node(w)
    sched.add_node_collection(w, COLLECTION)
    sched.schedule()
    return w


def _cells(worker: Worker) -> list[str]:
    return [COLLECTION[batch[0]].split("[")[1][:-1] for batch in worker.sent if batch]


def _finish(sched, *workers: Worker) -> None:
    """Every worker runs all it is sent, one test at a time, taking turns."""
    while any(_left(sched, w) for w in workers):
        for w in workers:
            if _left(sched, w):
                _run(sched, w, 1)


def test_cells_are_units_and_each_worker_starts_on_two() -> None:
    sched, (gw0, gw1) = _scheduler()
    assert _cells(gw0) == ["a", "c"] and _cells(gw1) == ["b", "d"]
    assert [[COLLECTION[i] for i in batch] for batch in gw0.sent][0] == COLLECTION[0:2]
    assert list(sched.workqueue) == ["luxgate-cell:e", "luxgate-cell:f"]


def test_a_replacement_arriving_after_the_others_finished_is_shut_down() -> None:
    # the order that hung: gw0 finished cells and died in its last one after gw1 had finished
    sched, (gw0, gw1) = _scheduler()
    _run(sched, gw1, 2)                    # b done: gw1 is sent e
    _run(sched, gw0, 2)                    # a done: gw0 is sent f; the queue is empty
    assert _cells(gw0) == ["a", "c", "f"] and not sched.workqueue
    _run(sched, gw1, 4)                    # gw1 finishes d and e and is told to stop
    assert gw1.shutting_down and sched.remove_node(gw1) is None  # worker_workerfinished
    _run(sched, gw0, 2)                    # c done; f's first test kills gw0
    assert sched.remove_node(gw0) == COLLECTION[10]  # worker_errordown
    assert not sched.workqueue, "a finished cell was queued again"
    gw2 = _join(sched, "gw2")
    assert gw2.shutting_down and gw2.sent == [], "the replacement must be told there is nothing to do"
    assert sched.tests_finished


def test_the_lost_cell_is_dropped_and_the_cell_queued_behind_it_runs_once() -> None:
    sched, (gw0, gw1) = _scheduler()
    assert sched.remove_node(gw0) == COLLECTION[0]  # gw0 dies in a's first test, c not started
    assert list(sched.workqueue) == ["luxgate-cell:e", "luxgate-cell:f", "luxgate-cell:c"]
    gw2 = _join(sched, "gw2")
    _finish(sched, gw1, gw2)
    assert sorted(_cells(gw1) + _cells(gw2)) == ["b", "c", "d", "e", "f"]  # a is not run again
    assert gw1.shutting_down and gw2.shutting_down and sched.tests_finished
