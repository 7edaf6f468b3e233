"""run/ahead.py: stage one of upcoming jobs on a second thread, streamed to the consumer in order."""
from __future__ import annotations

import threading
import time
from typing import Iterator

import pytest

from pytest_luxgate.run.ahead import Ahead


class Recorder:
    """A producer that logs which job it starts, from which thread, and how far ahead it ran."""

    def __init__(self, items: int = 2, fail: dict[str, Exception] | None = None) -> None:
        self.started: list[str] = []
        self.threads: set[str] = set()
        self.items, self.fail = items, fail or {}
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, job: str) -> Iterator[str]:
        self.started.append(job)
        self.threads.add(threading.current_thread().name)
        self.gate.wait(10)
        for i in range(self.items):
            if job in self.fail and i == 1:
                raise self.fail[job]
            yield f"{job}:{i}"


def _wait_for(cond, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_streams_every_job_in_order_from_one_other_thread() -> None:
    rec = Recorder(items=3)
    ahead = Ahead(rec, ["a", "b", "c"], key=str)
    got = [list(ahead.stream(j)) for j in ("a", "b", "c")]
    ahead.close()
    assert got == [["a:0", "a:1", "a:2"], ["b:0", "b:1", "b:2"], ["c:0", "c:1", "c:2"]]
    assert rec.started == ["a", "b", "c"]
    assert rec.threads == {"luxgate-ahead"}


def test_starts_the_first_job_before_it_is_asked_and_stays_within_the_lookahead() -> None:
    rec = Recorder()
    ahead = Ahead(rec, ["a", "b", "c", "d"], key=str, lookahead=1)
    assert _wait_for(lambda: rec.started == ["a"])  # before any stream(): the consumer's set-up overlaps it
    time.sleep(0.05)
    assert rec.started == ["a"], "ran past the lookahead with nothing consumed"
    assert list(ahead.stream("a")) == ["a:0", "a:1"]
    assert _wait_for(lambda: rec.started == ["a", "b"])
    time.sleep(0.05)
    assert rec.started == ["a", "b"], "more than one job ahead of the consumer"
    ahead.close()


def test_an_exception_is_raised_where_the_job_is_consumed_after_what_it_yielded() -> None:
    rec = Recorder(fail={"b": ValueError("stack fell over")})
    ahead = Ahead(rec, ["a", "b", "c"], key=str)
    assert list(ahead.stream("a")) == ["a:0", "a:1"]
    got = []
    with pytest.raises(ValueError, match="stack fell over"):
        for item in ahead.stream("b"):
            got.append(item)
    assert got == ["b:0"]
    assert list(ahead.stream("c")) == ["c:0", "c:1"]  # the next job is unharmed
    ahead.close()


def test_a_job_outside_the_plan_or_out_of_order_is_made_once_on_request() -> None:
    rec = Recorder()
    ahead = Ahead(rec, ["a", "b", "c"], key=str)
    assert list(ahead.stream("zz")) == ["zz:0", "zz:1"]  # not in the plan
    assert list(ahead.stream("c")) == ["c:0", "c:1"]  # skips ahead
    assert list(ahead.stream("a")) == ["a:0", "a:1"]
    assert list(ahead.stream("b")) == ["b:0", "b:1"]
    ahead.close()
    assert sorted(rec.started) == ["a", "b", "c", "zz"] and len(rec.started) == 4  # nothing made twice
    with pytest.raises(RuntimeError, match="closing"):
        next(ahead.stream("d"))


def test_close_starts_nothing_new_and_later_runs_off_the_producer_thread() -> None:
    rec = Recorder()
    rec.gate.clear()  # hold job a inside the producer
    ahead = Ahead(rec, ["a", "b"], key=str)
    assert _wait_for(lambda: rec.started == ["a"])
    threading.Timer(0.1, rec.gate.set).start()
    ahead.close(wait=5)  # returns once the job under way is done
    assert not ahead._thread.is_alive() and not ahead._side.is_alive()
    assert rec.started == ["a"], "a job started after close()"

    ran: list[str] = []
    ahead2 = Ahead(Recorder(), ["x"], key=str)
    ahead2.later(lambda: ran.append(threading.current_thread().name))
    assert _wait_for(lambda: ran == ["luxgate-ahead-side"])
    ahead2.close()
