"""The sparse loop search equals the full one (tests/loops_reference.py), bit for bit.

Both sum each similarity over the coefficients in order (`sequential_similarity`). The
original full search took them from BLAS, another order (~1e-16 apart, tested below); its
candidates are the same except where two ways into a cell tie in real numbers (two
neighbouring paths crossing unvoiced partners get the same constant scores, so which one
continues is decided by the last bit of their sums). Measured on 300 constructed cases like
these: 22 raw candidate lists differ (duplicate prefixes emitted at other lags or ends), after
`_suppress` the ten reported candidates differ in 1 (a lag one frame off, same span and
similarity), the longest in none. Neither choice is better; the sparse search's sums are the
same bits on every machine, where BLAS's depend on its kernel.

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
from loops_reference import align_full, blas_similarity, sequential_similarity

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
    want = align_full(f, voiced, min_lag, min_len, max_lag, sequential_similarity)
    assert loops._align(f, voiced, min_lag, min_len, max_lag) == want


@pytest.mark.parametrize("seed", range(6))
def test_other_coefficient_counts_and_short_lags(seed: int) -> None:
    """`_similarities` sums 8k + 3 coefficients; others are padded with zeros (no effect)."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(8, 400))
    f, voiced = _features(rng, n)
    f = np.ascontiguousarray(f[:, : int(rng.integers(1, f.shape[1] + 1))])
    min_lag, min_len = int(rng.integers(1, 6)), int(rng.integers(2, 20))
    max_lag = int(rng.integers(min_lag + 1, n + 50))
    want = align_full(f, voiced, min_lag, min_len, max_lag, sequential_similarity)
    assert loops._align(f, voiced, min_lag, min_len, max_lag) == want


def test_the_summation_order_moves_similarities_by_ulps_only() -> None:
    """What the bit-for-bit comparison above leaves out: BLAS's order against the search's."""
    f, _ = _features(np.random.default_rng(3), 600)
    for t in range(0, 600, 7):
        src = np.arange(600)
        assert np.max(np.abs(blas_similarity(f, src, t) - sequential_similarity(f, src, t))) <= 1e-15


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
    assert got == align_full(f, voiced, 20, 30, 3000, sequential_similarity)
    longest = max(got, key=lambda c: c[1] - c[0])
    assert abs(longest[2] - 100) <= 3 and longest[1] - longest[0] >= 50, longest


def test_the_compiled_dp_runs_and_equals_the_full_search_off_the_main_thread() -> None:
    """The gate's overlap thread (run/ahead.py) may run the loop search: the compiled DP
    (numba, nogil) must give the same candidates there, and be what `_align` calls."""
    import threading

    f, voiced = _features(np.random.default_rng(7), 500)
    want = align_full(f, voiced, 20, 20, 400, sequential_similarity)
    got: list[object] = []
    worker = threading.Thread(target=lambda: got.append(loops._align(f, voiced, 20, 20, 400)))
    worker.start()
    worker.join()
    assert got == [want] and want
    from numba.core.dispatcher import Dispatcher

    dp = loops._dp_frames.dispatcher()
    assert isinstance(dp, Dispatcher) and dp.signatures  # compiled (or from numba's cache), not Python


def test_the_chunked_power_spectrum_is_the_one_call_formula_bit_for_bit() -> None:
    """`_features` transforms _FFT_ROWS frames per call; one call on every frame (float32
    samples made float64 first, as before) gives the same bits, across chunk edges too."""
    from numpy.lib.stride_tricks import sliding_window_view

    n = 160 * (2 * loops._FFT_ROWS + 37) + 400
    x = (0.1 * np.random.default_rng(4).standard_normal(n)).astype(np.float32)
    window = np.hanning(400)
    whole = np.abs(np.fft.rfft(sliding_window_view(x.astype(np.float64), 400)[::160] * window, 512)) ** 2
    chunked = loops._power_spectrum(sliding_window_view(x, 400)[::160], window, 512)
    assert chunked.shape == whole.shape and chunked.tobytes() == whole.tobytes()
