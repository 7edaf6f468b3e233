"""Loops: a stretch of the clip played (or re-generated) again.

A TTS loop is not a sample copy: a flow-matching or VITS model that falls back
into an earlier phrase re-synthesises it, with other durations, pitch and
phase. So the search runs on spectral-envelope features (MFCC without c0,
mean-normalised over the clip: timbre and phone identity, not phase or level)
and allows the repeat to drift in tempo.

Method: a local alignment (Smith-Waterman) in the time-lag plane. For every
frame t and lag L the score is cos(f[t], f[t-L]) - MATCH_SIM; a path may keep
its lag, or change it by one frame at a penalty (one copy slower or faster).
Paths whose score stays positive for at least MIN_REPEAT_S are candidates.
Silent frames score slightly negative, so a pause inside a repeated phrase is
bridged but silence never matches silence on its own.

Legitimate repeats ("No, no, no", a refrain) look identical here: the caller
maps candidate spans to words and checks the text.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..core.audio import RATE_16K, to_16k
from ..core.jit import compiled

FEAT_RATE = RATE_16K
HOP_S = 0.01
WIN_S = 0.025
N_MELS = 40
N_MFCC = 20            # c1..c19 used
MATCH_SIM = 0.55       # cosine above which two frames "sound alike" (same phone, same voice)
LAG_STEP_PENALTY = 0.6  # cost of one frame of tempo drift between the copies
SILENCE_DB = -35.0     # frames this far below the loudest 5% are silence
SILENCE_SCORE = -0.05  # pause vs pause: bridges a pause inside a repeat, never starts a match
MISMATCH_SCORE = -0.5  # speech vs pause
MIN_LAG_S = 0.2        # shorter lags are one sustained sound, not a repeat
MIN_REPEAT_S = 0.3     # report paths at least this long
MAX_LAG_S = 30.0       # a TTS loop falls back to something it just said; also keeps the cost linear

DEFAULTS: dict[str, float] = {
    "longest_repeat_s": 0.5,
}
"""Recommended limit (value must be <= limit to pass), after the caller has
dropped candidates that map to words the text itself repeats.

Measured by bench/calibrate_detectors.py (docs/CALIBRATION.md; tuning /
held-out corpus): clean sentences without repeated words reach 0.44 / 0.42 s
(rhymes at slow speed: "potatoes ... tomatoes"); texts that repeat words reach
0.57 s (for the caller's cross-check). Copy-paste loops of 0.6-1.5 s read
>= 0.58 s (100 %); Piper re-synthesised phrases of >= 0.9 s are caught 29/30,
shorter ones 9/18 (only the part whose prosody survived matches).
"""


@dataclass(frozen=True)
class LoopMetrics:
    """The longest repeated stretch, plus every candidate for the caller to check.

    start_s/end_s are the *second* occurrence; the first is lag_s earlier.
    candidates: (start_s, end_s, lag_s, similarity), longest first.
    """

    longest_repeat_s: float
    lag_s: float
    start_s: float
    similarity: float
    candidates: tuple[tuple[float, float, float, float], ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["candidates"] = [list(c) for c in self.candidates]
        return d


def audio_loops(audio: np.ndarray, sample_rate: int, *, min_repeat_s: float = MIN_REPEAT_S,
                min_lag_s: float = MIN_LAG_S, max_lag_s: float = MAX_LAG_S,
                max_candidates: int = 10) -> LoopMetrics:
    """Find repeated stretches (see module doc).

    Cost: linear in the frames once the clip is longer than max_lag_s. With the DP
    compiled (numba): ~0.35 ms of CPU per second of audio for the features (a third of
    it soxr's resampling, a third the FFT) plus ~0.2 ms the search on a 10 s take,
    ~1 ms on a 73 s one, where every voiced frame's similarities span all 3,000 lags
    (~6 us of BLAS per frame). BENCHMARKS.md "Detector throughput".
    """
    feats, voiced = _features(audio, sample_rate)
    n = len(feats)
    min_lag = max(1, round(min_lag_s / HOP_S))
    min_len = max(2, round(min_repeat_s / HOP_S))
    if n < min_lag + min_len:
        return LoopMetrics(0.0, 0.0, 0.0, 0.0, ())
    raw = _align(feats, voiced, min_lag, min_len, max(min_lag + 1, round(max_lag_s / HOP_S)))
    cands = _suppress(raw)[:max_candidates]
    out = tuple((round(s * HOP_S, 3), round(e * HOP_S, 3), round(lag * HOP_S, 3), round(sim, 3))
                for s, e, lag, sim in cands)
    if not out:
        return LoopMetrics(0.0, 0.0, 0.0, 0.0, ())
    s, e, lag, sim = out[0]
    return LoopMetrics(round(e - s, 3), lag, s, sim, out)


# ------------------------------------------------------------------ features

@functools.lru_cache(maxsize=16)
def _mel_filterbank(n_fft: int, sr: int, n_mels: int, fmin: float = 60.0, fmax: float = 7600.0) -> np.ndarray:
    """Triangular mel filters, (n_mels, n_fft // 2 + 1); read-only, built once per shape (a
    Python loop over the bands: 0.2-0.5 ms, twice per take with the tail-buzz scan)."""

    def hz2mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    mels = np.linspace(hz2mel(np.array(fmin)), hz2mel(np.array(fmax)), n_mels + 2)
    hz = 700.0 * (10 ** (mels / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    fb = np.zeros((n_mels, len(bins)))
    for m in range(n_mels):
        lo, c, hi = hz[m], hz[m + 1], hz[m + 2]
        fb[m] = np.clip(np.minimum((bins - lo) / (c - lo), (hi - bins) / (hi - c)), 0.0, None)
    fb.flags.writeable = False  # shared by every caller
    return fb


def _features(audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm, mean-normalised MFCC frames (10 ms hop) and a 'not silence' mask."""
    x = to_16k(audio, sr)
    win, hop = int(WIN_S * FEAT_RATE), int(HOP_S * FEAT_RATE)
    if len(x) < win:
        return np.zeros((0, N_MFCC - 1)), np.zeros(0, dtype=bool)
    from numpy.lib.stride_tricks import sliding_window_view

    frames = sliding_window_view(x.astype(np.float64), win)[::hop] * np.hanning(win)
    n_fft = 512
    power = np.abs(np.fft.rfft(frames, n_fft)) ** 2
    mel = power @ _mel_filterbank(n_fft, FEAT_RATE, N_MELS).T
    logmel = np.log(mel + 1e-10)
    energy_db = 10 * np.log10(power.sum(axis=1) + 1e-20)
    ref = np.percentile(energy_db, 95)
    voiced = energy_db > ref + SILENCE_DB
    k = np.arange(N_MELS)
    dct = np.cos(np.pi / N_MELS * (k[None, :] + 0.5) * np.arange(N_MFCC)[:, None])
    mfcc = (logmel @ dct.T)[:, 1:]  # drop c0: level is not identity
    if voiced.any():
        mfcc = mfcc - mfcc[voiced].mean(axis=0)  # remove the voice/channel average
        mfcc = mfcc / (mfcc[voiced].std(axis=0) + 1e-8)  # every coefficient gets a say
    norm = np.linalg.norm(mfcc, axis=1, keepdims=True)
    return mfcc / np.maximum(norm, 1e-8), voiced


# ------------------------------------------------------------------ alignment

_BLOCK = 128  # voiced frames whose similarities are one np.matmul: 128 x 3,001 lags = 3 MB


def _align(f: np.ndarray, voiced: np.ndarray, min_lag: int, min_len: int,
           max_lag: int) -> list[tuple[int, int, int, float]]:
    """Smith-Waterman over (t, lag); returns (start, end, lag, mean sim) per path.

    Each lag L carries one path state; a state moves to L+-1 when the copies
    drift. When the state held at L is not continued at L (it died, restarted or
    moved), its best-scoring prefix is emitted; prefixes of paths that moved on
    are duplicates that `_suppress` removes.

    The similarities of a voiced frame against all lags are numpy's matrix-vector
    product on a view of the features in reverse (no copy), as in the full search; a
    run of voiced frames is one stacked `np.matmul`, which makes the same BLAS call
    (gemv) per frame, so the same bits. The DP runs compiled (`_dp_frames`) with the
    full search's arithmetic, operation for operation, so the result is the same bit
    for bit (tests/unit/test_loops_search.py compares with tests/loops_reference.py).
    """
    n = len(f)
    m = min(n, max_lag + 1)  # lag index L in [0, m)
    # rows n-1-t .. n-1-t+m-1 of these are frames clip(t - L, 0, n-1) for L = 0..m-1
    rev_f = np.ascontiguousarray(np.concatenate([f[::-1], np.repeat(f[:1], m, axis=0)]), dtype=np.float64)
    rev_v = np.concatenate([voiced[::-1], np.repeat(voiced[:1], m)]).astype(np.bool_)
    voiced = np.ascontiguousarray(voiced, dtype=np.bool_)
    windows = as_strided(rev_f, shape=(n, m, rev_f.shape[1]), strides=(rev_f.strides[0], *rev_f.strides),
                         writeable=False)  # windows[row] = rev_f[row:row + m], row = n-1-t for frame t
    f = rev_f[n - 1::-1]
    # dense state, index L + 1; a dead lag on each side stands for "no neighbour". Path state
    # rows: start, simsum, best, best_end, best_sim (frame numbers are exact in float64)
    h = np.zeros(m + 2)
    state = np.zeros((5, m + 2))
    alive = np.zeros(m, dtype=np.int64)  # lags alive at t-1, ascending: alive[:n_alive]
    n_alive = n_out = 0
    out = np.zeros((64, 4))  # emitted paths: start, best_end, lag, best_sim
    t = min_lag
    for a, b in _voiced_blocks(voiced, min_lag):
        sims = np.ascontiguousarray(np.matmul(windows[n - b:n - a][::-1], f[a:b, :, None])[:, :, 0])
        n_alive, out, n_out = _dp_frames(t, a, b, sims, voiced, rev_v, min_lag, min_len,
                                         h, state, alive, n_alive, out, n_out, False)
        t = b
    n_alive, out, n_out = _dp_frames(t, n, n, np.zeros((0, m)), voiced, rev_v, min_lag, min_len,
                                     h, state, alive, n_alive, out, n_out, True)
    out = out[:n_out]
    return list(zip(out[:, 0].astype(np.int64).tolist(), out[:, 1].astype(np.int64).tolist(),
                    out[:, 2].astype(np.int64).tolist(), out[:, 3].tolist()))


def _voiced_blocks(voiced: np.ndarray, min_lag: int) -> list[tuple[int, int]]:
    """[a, b) frame ranges from min_lag on: the runs of voiced frames, cut at _BLOCK frames."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced[min_lag:].astype(np.int8), [0]]))) + min_lag
    return [(a, min(a + _BLOCK, e)) for s, e in zip(edges[::2].tolist(), edges[1::2].tolist())
            for a in range(s, e, _BLOCK)]


@compiled
def _dp_frames(t0: int, a: int, b: int, sims: np.ndarray, voiced: np.ndarray, rev_v: np.ndarray,
               min_lag: int, min_len: int, h: np.ndarray, state: np.ndarray, alive: np.ndarray,
               n_alive: int, out: np.ndarray, n_out: int, final: bool) -> tuple[int, np.ndarray, int]:
    """The DP over frames t0..b-1 (frames before a unvoiced; sims[t - a]: frame t's similarity
    at every lag), updating h, state and alive in place; emitted paths of at least min_len
    are appended to out (grown when a frame might not fit). final: emit the paths still
    alive at the end (the last frame processed left room for them).

    Per frame only the lags that can be alive are updated: those whose own score is positive
    (both frames voiced and alike) and the neighbours of those alive a frame before; every
    other cell is dead whatever the DP does (h 0). All candidates read the previous frame's
    h and state (new values are kept aside and written after the frame), as the full
    search's vectorised update does."""
    n = len(voiced)
    m = len(h) - 2
    cand = np.empty(m, dtype=np.int64)
    mark = np.zeros(m + 1, dtype=np.bool_)
    new_h = np.empty(m)
    new_state = np.empty((5, m))
    for t in range(t0, b):
        hi = min(t, m - 1)
        row = n - 1 - t
        v = voiced[t]
        if not v and n_alive == 0:
            continue
        for k in range(n_alive):
            mark[alive[k] - 1] = True
            mark[alive[k]] = True
            mark[alive[k] + 1] = True
        nc = 0
        if v:
            sim = sims[t - a]
            for L in range(min_lag, hi + 1):
                if mark[L] or (sim[L] > MATCH_SIM and rev_v[row + L]):
                    cand[nc] = L
                    nc += 1
        else:
            for L in range(min_lag, hi + 1):
                if mark[L]:
                    cand[nc] = L
                    nc += 1
        for k in range(n_alive):
            mark[alive[k] - 1] = False
            mark[alive[k]] = False
            mark[alive[k] + 1] = False
        if nc == 0:
            continue  # nothing alive and nothing alike: every cell stays dead
        if n_out + 2 * nc > out.shape[0]:
            # room for this frame's emitted paths and for its survivors, should the final flush
            # follow; copied element by element (numba took ~2 s to compile two slice copies)
            grown = np.empty((2 * (n_out + nc), 4))
            for r in range(n_out):
                for q in range(4):
                    grown[r, q] = out[r, q]
            out = grown
        for k in range(nc):
            c = cand[k]
            i = c + 1
            # the three ways into (t, L), in np.argmax's order: own lag first, then L-1, L+1
            own = h[i]
            prev = own
            src = i
            if h[i - 1] - LAG_STEP_PENALTY > prev:
                prev = h[i - 1] - LAG_STEP_PENALTY
                src = i - 1
            if h[i + 1] - LAG_STEP_PENALTY > prev:
                prev = h[i + 1] - LAG_STEP_PENALTY
                src = i + 1
            fresh = prev <= 0
            both = rev_v[row + c]
            if v:
                s_c = sim[c]
                # speech vs speech: similarity; speech vs pause: a clear mismatch
                score = s_c - MATCH_SIM if both else MISMATCH_SCORE
            else:
                # pause vs pause: almost neutral (a repeated phrase keeps its pauses)
                score = MISMATCH_SCORE if both else SILENCE_SCORE
            nh = score if fresh else prev + score
            dead = nh <= 0
            # a lag alive at t-1 (own > 0) ends unless its own state goes on at its own lag
            if n_alive and own > 0 and (dead or src != i) and state[3, i] - state[0, i] >= min_len:
                out[n_out, 0] = state[0, i]
                out[n_out, 1] = state[3, i]
                out[n_out, 2] = c
                out[n_out, 3] = state[4, i]
                n_out += 1
            if fresh:
                n_start, n_sum, n_best, n_best_end, n_best_sim = float(t), 0.0, 0.0, float(t), 0.0
            else:
                n_start, n_sum, n_best = state[0, src], state[1, src], state[2, src]
                n_best_end, n_best_sim = state[3, src], state[4, src]
            if v:
                n_sum = n_sum + (s_c if both else 0.0)
            if not dead and nh > n_best:
                n_best_sim = n_sum / max(t + 1 - n_start, 1.0)
                n_best_end = float(t + 1)
                n_best = nh
            new_state[0, k], new_state[1, k], new_state[2, k] = n_start, n_sum, n_best
            new_state[3, k], new_state[4, k] = n_best_end, n_best_sim
            new_h[k] = 0.0 if dead else nh
        n_alive = 0
        for k in range(nc):
            i = cand[k] + 1
            h[i] = new_h[k]
            for r in range(5):
                state[r, i] = new_state[r, k]
            if new_h[k] > 0:
                alive[n_alive] = cand[k]
                n_alive += 1
    if final:
        for k in range(n_alive):
            i = alive[k] + 1
            if state[3, i] - state[0, i] >= min_len:
                out[n_out, 0] = state[0, i]
                out[n_out, 1] = state[3, i]
                out[n_out, 2] = alive[k]
                out[n_out, 3] = state[4, i]
                n_out += 1
    return n_alive, out, n_out


def _suppress(cands: list[tuple[int, int, int, float]]) -> list[tuple[int, int, int, float]]:
    """Keep the longest of overlapping candidates (neighbouring lags find the same repeat)."""
    kept: list[tuple[int, int, int, float]] = []
    for c in sorted(cands, key=lambda c: (c[1] - c[0], c[3]), reverse=True):
        s, e, lag, _ = c
        clash = False
        for ks, ke, klag, _ in kept:
            overlap = min(e, ke) - max(s, ks)
            if overlap > 0.5 * min(e - s, ke - ks) and abs(lag - klag) <= max(5, 0.2 * klag):
                clash = True
                break
        if not clash:
            kept.append(c)
    return kept
