"""run/runner._Once: a take's alignment and listener models run once, on whichever thread asks
first (the side thread of run/ahead.py or the one that hears the take), and an error is raised
where the take is heard, not kept."""
from __future__ import annotations

import threading
import time

import pytest

from pytest_luxgate.run.runner import _Once


def test_runs_once_however_many_threads_ask() -> None:
    calls = []

    def slow() -> int:
        calls.append(threading.current_thread().name)
        time.sleep(0.05)  # the others ask while it runs: they wait, they do not run it again
        return 42

    once = _Once(slow)
    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(once())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [42] * 4 and len(calls) == 1
    assert once() == 42 and len(calls) == 1


def test_an_error_is_raised_again_by_the_next_caller() -> None:
    attempts = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("model failed to load")
        return "ok"

    once = _Once(flaky)
    with pytest.raises(RuntimeError, match="model failed to load"):
        once()  # the side thread's try: its error is swallowed there, not kept
    assert once() == "ok" and len(attempts) == 2
