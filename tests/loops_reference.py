"""The loop search as it was before issue 18: the full (frames x lags) DP, row by row.

`pytest_luxgate.metrics.loops._align` now updates only the lags that can be alive; this
copy of the original (commit c3a0267) is the reference it must equal bit for bit
(tests/unit/test_loops_search.py on constructed features, tests/models/test_loops_search_audio.py
on real speech and injected loops). Kept verbatim: do not "fix" it. One addition: the
similarities' summation order is a parameter (`similarity`; the original's BLAS product by
default), since the sparse search sums in coefficient order and a DP tie (below) makes the
last bit of a sum visible in which lag keeps a path.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from pytest_luxgate.metrics.loops import (
    LAG_STEP_PENALTY,
    MATCH_SIM,
    MISMATCH_SCORE,
    SILENCE_SCORE,
)


def blas_similarity(f: np.ndarray, src: np.ndarray, t: int) -> np.ndarray:
    """Frame t's similarity to frames src as the original computed it (BLAS gemv)."""
    return f[src] @ f[t]


def sequential_similarity(f: np.ndarray, src: np.ndarray, t: int) -> np.ndarray:
    """The same, summed over the coefficients in order, ((f0 g0 + f1 g1) + f2 g2) + ..., as
    `loops._similarities` sums (numpy's elementwise products and sums: no fused multiply-add)."""
    g, x = f[src], f[t]
    s = g[:, 0] * x[0]
    for d in range(1, f.shape[1]):
        s = s + g[:, d] * x[d]
    return s


def align_full(f: np.ndarray, voiced: np.ndarray, min_lag: int, min_len: int,
           max_lag: int, similarity: Callable[[np.ndarray, np.ndarray, int], np.ndarray] = blas_similarity,
           ) -> list[tuple[int, int, int, float]]:
    """Smith-Waterman over (t, lag); returns (start, end, lag, mean sim) per path.

    Each lag L carries one path state; a state moves to L+-1 when the copies
    drift. When the state held at L is not continued at L (it died, restarted or
    moved), its best-scoring prefix is emitted; prefixes of paths that moved on
    are duplicates that `_suppress` removes.
    """
    n = len(f)
    m = min(n, max_lag + 1)  # lag index L in [0, m)
    neg = -1e9
    lags = np.arange(m)
    h = np.zeros(m)
    start = np.zeros(m, dtype=np.int64)
    simsum = np.zeros(m)
    best = np.zeros(m)
    best_end = np.zeros(m, dtype=np.int64)
    best_sim = np.zeros(m)
    out: list[tuple[int, int, int, float]] = []

    def emit(mask: np.ndarray) -> None:
        long_enough = mask & (best_end - start >= min_len)
        for L in np.nonzero(long_enough)[0]:
            out.append((int(start[L]), int(best_end[L]), int(L), float(best_sim[L])))

    shift = np.array([0, -1, 1])
    for t in range(n):
        src = np.clip(t - lags, 0, n - 1)
        sim = similarity(f, src, t)
        both = voiced[t] & voiced[src]
        neither = ~voiced[t] & ~voiced[src]
        # speech vs speech: similarity; pause vs pause: almost neutral (a repeated
        # phrase keeps its pauses); speech vs pause: a clear mismatch
        score = np.where(both, sim - MATCH_SIM, np.where(neither, SILENCE_SCORE, MISMATCH_SCORE))
        score[(lags < min_lag) | (lags > t)] = neg
        options = np.stack([h, np.concatenate([[neg], h[:-1]]) - LAG_STEP_PENALTY,
                            np.concatenate([h[1:], [neg]]) - LAG_STEP_PENALTY])
        choice = np.argmax(options, axis=0)
        prev = options[choice, lags]
        from_lag = np.clip(lags + shift[choice], 0, m - 1)
        fresh = prev <= 0
        new_h = np.where(fresh, score, prev + score)
        dead = new_h <= 0
        continued = ~fresh & ~dead & (choice == 0)
        emit((h > 0) & ~continued)
        n_start = np.where(fresh, t, start[from_lag])
        n_sum = np.where(fresh, 0.0, simsum[from_lag]) + np.where(both, sim, 0.0)
        n_best = np.where(fresh, 0.0, best[from_lag])
        n_best_end = np.where(fresh, t, best_end[from_lag])
        n_best_sim = np.where(fresh, 0.0, best_sim[from_lag])
        improved = ~dead & (new_h > n_best)
        n_best_sim = np.where(improved, n_sum / np.maximum(t + 1 - n_start, 1), n_best_sim)
        n_best_end = np.where(improved, t + 1, n_best_end)
        n_best = np.where(improved, new_h, n_best)
        h = np.where(dead, 0.0, new_h)
        start, simsum, best, best_end, best_sim = n_start, n_sum, n_best, n_best_end, n_best_sim
    emit(h > 0)
    return out
