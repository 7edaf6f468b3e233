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

FEAT_RATE = 16_000
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

    Cost: linear in the frames once the clip is longer than max_lag_s, ~6 ms of CPU
    per second of audio on the loaded 2-core build machine (~160x real time:
    BENCHMARKS.md, bench/detectors.py): ~2.6 ms the search (~26 us of numpy calls per
    10 ms frame), the rest the features; the full (frames x lags) search it replaces
    took ~2.5x that.
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
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    if sr != FEAT_RATE:
        import soxr

        x = soxr.resample(x, sr, FEAT_RATE).astype(np.float32)
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

def _align(f: np.ndarray, voiced: np.ndarray, min_lag: int, min_len: int,
           max_lag: int) -> list[tuple[int, int, int, float]]:
    """Smith-Waterman over (t, lag); returns (start, end, lag, mean sim) per path.

    Each lag L carries one path state; a state moves to L+-1 when the copies
    drift. When the state held at L is not continued at L (it died, restarted or
    moved), its best-scoring prefix is emitted; prefixes of paths that moved on
    are duplicates that `_suppress` removes.

    Sparse in the lags: a cell can be alive only if its own score is positive
    (both frames voiced and alike) or a state was alive at its lag or a
    neighbouring one a frame before; every other cell is dead whatever the DP
    does, so each frame updates only those candidates (a few percent of the
    lags) and frames with none are skipped. The arithmetic per candidate is the
    full search's, operation for operation, so the result is the same bit for
    bit (tests/unit/test_loops_search.py compares with the full search). The
    similarities of a frame against all lags are one matrix-vector product on a
    view of the features in reverse (no copy), as in the full search.
    """
    n = len(f)
    m = min(n, max_lag + 1)  # lag index L in [0, m)
    # rows n-1-t .. n-1-t+m-1 of these are frames clip(t - L, 0, n-1) for L = 0..m-1
    rev_f = np.concatenate([f[::-1], np.repeat(f[:1], m, axis=0)])
    rev_v = np.concatenate([voiced[::-1], np.repeat(voiced[:1], m)])
    # dense state, index L + 1; a dead lag on each side stands for "no neighbour".
    # Path state rows: start, simsum, best, best_end, best_sim (frame numbers are exact
    # in float64, so one array moves a path's whole state in one gather)
    h = np.zeros(m + 2)
    state = np.zeros((5, m + 2))
    alive = np.zeros(0, dtype=np.int64)  # lags alive at t-1, ascending
    mark = np.zeros(m + 1, dtype=bool)
    fresh_state = np.zeros((5, 1))
    # the three ways into (t, L), in np.argmax's order (own lag first, then L-1, then L+1):
    # one gather and one subtraction give all three options (h - 0.0 is h, bit for bit)
    step = np.array([[0], [-1], [1]])
    penalty = np.array([[0.0], [LAG_STEP_PENALTY], [LAG_STEP_PENALTY]])
    # emitted paths: (start, simsum, best, best_end, best_sim) columns and their lags, in the
    # order emitted; filtered and turned into tuples once at the end
    emitted: list[np.ndarray] = []
    emitted_lags: list[np.ndarray] = []

    for t in range(min_lag, n):
        hi = min(t, m - 1)
        row = n - 1 - t
        v_src = rev_v[row:row + m]
        if voiced[t]:
            sim = rev_f[row:row + m] @ f[t]
            pos = np.flatnonzero((sim[min_lag:hi + 1] > MATCH_SIM) & v_src[min_lag:hi + 1])
            if not alive.size:
                if not pos.size:
                    continue  # nothing alive and nothing alike: every cell stays dead
                c = pos + min_lag  # nothing alive: the candidates are the alike cells alone
            else:
                mark[pos + min_lag] = True
                mark[alive - 1] = True
                mark[alive] = True
                mark[alive + 1] = True
                c = np.flatnonzero(mark[min_lag:hi + 1]) + min_lag
                mark[:] = False
        elif not alive.size:
            continue
        else:
            mark[alive - 1] = True
            mark[alive] = True
            mark[alive + 1] = True
            c = np.flatnonzero(mark[min_lag:hi + 1]) + min_lag
            mark[:] = False
        i = c + 1
        options = h[i + step] - penalty
        choice = options.argmax(axis=0)
        prev = options.max(axis=0)  # the chosen option's value: argmax's pick is a maximum
        keep_lag = choice == 0
        fresh = prev <= 0
        if voiced[t]:
            both = v_src[c]
            s_c = sim[c]
            # speech vs speech: similarity; speech vs pause: a clear mismatch
            score = np.where(both, s_c - MATCH_SIM, MISMATCH_SCORE)
        else:
            # pause vs pause: almost neutral (a repeated phrase keeps its pauses)
            score = np.where(v_src[c], MISMATCH_SCORE, SILENCE_SCORE)
        new_h = np.where(fresh, score, prev + score)
        dead = new_h <= 0
        if alive.size:
            # a lag alive at t-1 is always a candidate (c holds it), and is continued when its
            # own state goes on at its own lag (it was alive, so not fresh) and stays alive
            ended = (options[0] > 0) & (dead | ~keep_lag)
            if ended.any():
                lags = i[ended]
                emitted.append(state[:, lags])
                emitted_lags.append(lags)
        fresh_state[0, 0] = fresh_state[3, 0] = t
        n_state = np.where(fresh, fresh_state, state[:, i + step[choice, 0]])
        n_start, n_sum, n_best, n_best_end, n_best_sim = n_state
        if voiced[t]:
            n_sum += np.where(both, s_c, 0.0)
        improved = ~dead & (new_h > n_best)
        n_best_sim[improved] = (n_sum / np.maximum(t + 1 - n_start, 1))[improved]
        n_best_end[improved] = t + 1
        n_best[improved] = new_h[improved]
        state[:, i] = n_state
        h[i] = np.where(dead, 0.0, new_h)
        alive = c[~dead]
    if alive.size:
        emitted.append(state[:, alive + 1])
        emitted_lags.append(alive + 1)
    return _emitted(emitted, emitted_lags, min_len)


def _emitted(cols: list[np.ndarray], lags: list[np.ndarray], min_len: int) -> list[tuple[int, int, int, float]]:
    """(start, best_end, lag, best_sim) of every emitted path at least min_len long, in order."""
    if not cols:
        return []
    st = np.concatenate(cols, axis=1)
    idx = np.concatenate(lags)
    keep = st[3] - st[0] >= min_len
    st, idx = st[:, keep], idx[keep]
    return list(zip(st[0].astype(np.int64).tolist(), st[3].astype(np.int64).tolist(),
                    (idx - 1).tolist(), st[4].tolist()))


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
