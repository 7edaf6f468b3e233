"""core.blas.one_blas_thread: the limit is set, holds while anyone is inside, is restored.

Only the VAD runs under it (its results are compared within a tolerance); why the exact
detectors do not: core/blas.py.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from pytest_luxgate.core import blas
from pytest_luxgate.core.blas import one_blas_thread


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_limit_is_set_inside_and_restored_after_nesting() -> None:
    before = _blas_threads()
    with one_blas_thread():
        assert _blas_threads() and set(_blas_threads()) == {1}
        with one_blas_thread():
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}  # the inner exit must not restore while the outer is inside
    assert _blas_threads() == before


def test_overlapping_threads_restore_once_the_last_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    """A enters, B enters, A leaves, B leaves: one limit, restored when B leaves. (A fake
    controller: OpenBLAS 0.3.31 ignores a thread count set from a second thread once the
    main thread has set one, so the real library cannot show this; the gate runs analyze
    in the main thread.)"""
    events: list[str] = []

    class Limiter:
        def restore_original_limits(self) -> None:
            events.append("restore")

    class Controller:
        def limit(self, limits: int, user_api: str) -> Limiter:
            events.append(f"limit {limits} {user_api}")
            return Limiter()

    monkeypatch.setattr(blas, "_CONTROLLER", Controller())
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a() -> None:
        with one_blas_thread():
            a_in.set()
            b_in.wait(5)
        events.append("A out")
        a_out.set()

    def b() -> None:
        a_in.wait(5)
        with one_blas_thread():
            b_in.set()
            a_out.wait(5)
            events.append("B still in")

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start(), tb.start()
    ta.join(10), tb.join(10)
    assert events == ["limit 1 blas", "A out", "B still in", "restore"]
    assert blas._DEPTH == 0 and blas._LIMITER is None


def test_the_vad_runs_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_luxgate.listeners import silero, vad

    seen: list[list[int]] = []
    real = silero.frame_probabilities

    def spy(frames: np.ndarray, w: silero.SileroWeights) -> np.ndarray:
        seen.append(_blas_threads())
        return real(frames, w)

    monkeypatch.setattr(vad, "frame_probabilities", spy)
    vad.speech_probabilities(np.zeros(16_000, dtype=np.float32), 16_000)
    assert seen and set(seen[0]) == {1}
