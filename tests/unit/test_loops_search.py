"""The sparse loop search equals the full one (tests/loops_reference.py), bit for bit.

Constructed features: unit vectors walking slowly through a few prototypes, so
stretches repeat at drifting lags (paths that move between lags, fan out, die
and restart), with unvoiced frames scattered and in runs (pauses), at lag
limits below and above the clip length. Real speech: tests/models/test_loops_search_audio.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from loops_reference import align_full

from pytest_luxgate.metrics import loops


def _features(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    protos = rng.standard_normal((int(rng.integers(8, 60)), loops.N_MFCC - 1))
    walk = np.cumsum(rng.random(n) < 0.3) % len(protos)
    f = protos[walk] + float(rng.uniform(0.2, 0.8)) * rng.standard_normal((n, loops.N_MFCC - 1))
    for _ in range(int(rng.integers(1, 4))):  # stretches said again later, a little faster or slower
        a, size = int(rng.integers(0, n // 2)), int(rng.integers(20, 90))
        src = a + np.sort(rng.integers(0, size, size))  # frames repeated or skipped: tempo drift
        at = int(rng.integers(min(a + size, n - 1), n))
        take = src[: n - at]
        f[at:at + take.size] = f[take] + 0.3 * rng.standard_normal((take.size, f.shape[1]))
    f /= np.linalg.norm(f, axis=1, keepdims=True)
    voiced = rng.random(n) > float(rng.uniform(0.0, 0.2))
    for _ in range(int(rng.integers(0, 4))):  # pauses
        a = int(rng.integers(0, n))
        voiced[a:a + int(rng.integers(5, 60))] = False
    return f, voiced


@pytest.mark.parametrize("seed", range(40))
def test_sparse_search_equals_the_full_search(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(60, 700))
    f, voiced = _features(rng, n)
    min_lag, min_len = int(rng.integers(5, 30)), int(rng.integers(5, 40))
    max_lag = int(rng.integers(min_lag + 1, n + 50))
    want = align_full(f, voiced, min_lag, min_len, max_lag)
    assert loops._align(f, voiced, min_lag, min_len, max_lag) == want


def test_the_constructed_features_have_loops_to_find() -> None:
    """Guard for the test above: equal empty lists would prove nothing."""
    found = [len(align_full(*_features(np.random.default_rng(s), 400), 20, 20, 400)) for s in range(10)]
    assert sum(1 for k in found if k) >= 8, found


def test_a_copied_stretch_is_found_at_its_lag() -> None:
    rng = np.random.default_rng(5)
    f, voiced = _features(rng, 300)
    voiced[:] = True
    f[200:260] = f[100:160]  # 0.6 s copied 1 s later
    got = loops._align(f, voiced, 20, 30, 3000)
    assert got == align_full(f, voiced, 20, 30, 3000)
    longest = max(got, key=lambda c: c[1] - c[0])
    assert abs(longest[2] - 100) <= 3 and longest[1] - longest[0] >= 50, longest


def test_the_compiled_dp_runs_and_equals_the_full_search_off_the_main_thread() -> None:
    """The gate's overlap thread (run/ahead.py) may run the loop search: the compiled DP
    (numba, nogil) must give the same candidates there, and be what `_align` calls."""
    import threading

    f, voiced = _features(np.random.default_rng(7), 500)
    want = align_full(f, voiced, 20, 20, 400)
    got: list[object] = []
    worker = threading.Thread(target=lambda: got.append(loops._align(f, voiced, 20, 20, 400)))
    worker.start()
    worker.join()
    assert got == [want] and want
    from numba.core.dispatcher import Dispatcher

    dp = loops._dp_frames.dispatcher()
    assert isinstance(dp, Dispatcher) and dp.signatures  # compiled (or from numba's cache), not Python
