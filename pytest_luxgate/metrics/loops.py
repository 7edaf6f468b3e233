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

    Cost: linear in the frames once the clip is longer than max_lag_s. Compiled (numba),
    per second of audio: ~0.1 ms of CPU for soxr's resampling (none when the audio comes at
    16 kHz, as analyze passes it) and ~0.2 ms for the rest of the features, plus ~0.07 ms
    the search on the five standard scenarios (2-12 s) and ~0.3 ms on a 73 s take, where
    every voiced frame's similarities span all 3,000 lags (~1.4 us per frame for those,
    ~2 us for the DP): 0.62-0.67 ms per second in all there (1.41-1.46 with a BLAS gemv
    per frame and the DP scanning every lag). BENCHMARKS.md "Detector throughput".
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

    n_fft = 512
    power = _power_spectrum(sliding_window_view(x, win)[::hop], np.hanning(win), n_fft)
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


_FFT_ROWS = 256  # frames per FFT call: ~1 MB of temporaries, reused from cache


def _power_spectrum(frames: np.ndarray, window: np.ndarray, n_fft: int) -> np.ndarray:
    """|rfft(frame * window, n_fft)|^2 per frame (float64), _FFT_ROWS frames at a time.

    The same bits as one call on every frame: numpy transforms each row on its own with one
    plan, the rest is elementwise (a float32 frame meets the float64 window as its exact
    float64 value). In one call a 73 s take made ~80 MB of temporaries, whose fresh pages cost
    more than the FFT (17 ms, chunked 10 ms)."""
    power = np.empty((len(frames), n_fft // 2 + 1))
    for s in range(0, len(frames), _FFT_ROWS):
        np.abs(np.fft.rfft(frames[s:s + _FFT_ROWS] * window, n_fft), out=power[s:s + _FFT_ROWS])
    return np.square(power, out=power)


# ------------------------------------------------------------------ alignment

_BLOCK = 128  # voiced frames per pair of compiled calls: 128 x 3,017 similarities = 3 MB
_PAD = 8      # sims/flags column of lag L is L + _PAD: room for a group's overrun, 8-byte words


def _align(f: np.ndarray, voiced: np.ndarray, min_lag: int, min_len: int,
           max_lag: int) -> list[tuple[int, int, int, float]]:
    """Smith-Waterman over (t, lag); returns (start, end, lag, mean sim) per path.

    Each lag L carries one path state; a state moves to L+-1 when the copies
    drift. When the state held at L is not continued at L (it died, restarted or
    moved), its best-scoring prefix is emitted; prefixes of paths that moved on
    are duplicates that `_suppress` removes.

    The similarities of a run of voiced frames against all lags are computed compiled
    (`_similarities`: each a sum over the coefficients in their order), then the DP runs
    compiled (`_dp_frames`) with the full search's arithmetic, operation for operation. So
    the result is the full search's (tests/loops_reference.py) bit for bit when that one
    sums its similarities in the same order; with its original BLAS product (another
    order: similarities ~1e-16 apart) every candidate is the same except where two ways
    into a cell tie exactly in real numbers (both neighbours crossing unvoiced partners:
    the same constant scores), which the last bit decides (tests/unit/test_loops_search.py).
    """
    n = len(f)
    m = min(n, max_lag + 1)  # lag index L in [0, m)
    f = _padded_coefficients(np.ascontiguousarray(f, dtype=np.float64))
    # column r of rev_t is frame n-1-r: frame t's partners at lags L = 0, 1, .. are columns
    # n-1-t+L, ascending, so one frame's similarities read every coefficient row forwards
    rev_t = np.ascontiguousarray(f[::-1].T)
    f = np.concatenate([f, np.zeros((3, f.shape[1]))])  # a block's last group of 4 may overrun
    rev_v = np.ascontiguousarray(voiced[::-1], dtype=np.uint8)
    voiced = np.ascontiguousarray(voiced, dtype=np.bool_)
    # dense state, index L + 1; a dead lag on each side stands for "no neighbour". Path state
    # per lag: start, simsum, best, best_end, best_sim (frame numbers are exact in float64)
    h = np.zeros(m + 2)
    state = np.zeros((m + 2, 5))
    alive = np.zeros(m, dtype=np.int64)  # lags alive at t-1, ascending: alive[:n_alive]
    width = 8 * ((m + 2 * _PAD + 7) // 8)
    sims = np.zeros((_BLOCK + 3, width))
    flags = np.zeros((_BLOCK + 3, width), dtype=np.uint8)  # alike and partner voiced
    n_alive = n_out = 0
    out = np.zeros((64, 4))  # emitted paths: start, best_end, lag, best_sim
    t = min_lag
    for a, b in _voiced_blocks(voiced, min_lag):
        _similarities(rev_t, f, rev_v, a, b, min_lag, sims, flags)
        n_alive, out, n_out = _dp_frames(t, a, b, sims, flags, voiced, rev_v, min_lag, min_len,
                                         h, state, alive, n_alive, out, n_out, False)
        t = b
    n_alive, out, n_out = _dp_frames(t, n, n, sims, flags, voiced, rev_v, min_lag, min_len,
                                     h, state, alive, n_alive, out, n_out, True)
    out = out[:n_out]
    return list(zip(out[:, 0].astype(np.int64).tolist(), out[:, 1].astype(np.int64).tolist(),
                    out[:, 2].astype(np.int64).tolist(), out[:, 3].tolist()))


def _padded_coefficients(f: np.ndarray) -> np.ndarray:
    """f with zero coefficients appended up to 8k + 3 (k >= 1), the counts `_similarities`
    sums; the MFCCs' 19 need none. A zero product can change a sum only in the sign of an
    exact zero, which no comparison or later sum sees."""
    d = f.shape[1]
    want = max(11, d + (3 - d) % 8)
    return f if want == d else np.concatenate([f, np.zeros((len(f), want - d))], axis=1)


def _voiced_blocks(voiced: np.ndarray, min_lag: int) -> list[tuple[int, int]]:
    """[a, b) frame ranges from min_lag on: the runs of voiced frames, cut at _BLOCK frames."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced[min_lag:].astype(np.int8), [0]]))) + min_lag
    return [(a, min(a + _BLOCK, e)) for s, e in zip(edges[::2].tolist(), edges[1::2].tolist())
            for a in range(s, e, _BLOCK)]


@compiled
def _similarities(rev_t: np.ndarray, f: np.ndarray, rev_v: np.ndarray, a: int, b: int, min_lag: int,
                  sims: np.ndarray, flags: np.ndarray) -> None:
    """sims[t - a, L + 8] = f[t] . f[t - L] for frames t in [a, b) and lags L in [min_lag,
    min(t, m - 1)] (m = the lags the arrays hold; rev_t: the features transposed, time
    reversed, rev_v their voicing; f: the features with 3 zero frames after), and flags there:
    1 where that is above MATCH_SIM and frame t - L voiced. Lags up to 3 beyond either end
    get leftovers, which the DP masks.

    Each similarity is ((f0 g0 + f1 g1) + f2 g2) + ... over the coefficients in order, with
    no fused multiply-add: the same bits on any machine. Four consecutive frames go together
    (their partners are the same columns, shifted by one) and eight coefficients per pass
    over the partners, then the last three, so each loaded partner value serves up to 32
    products and the loops run on SIMD lanes: ~5x faster than a BLAS gemv per frame, which
    re-reads the 3,000 partners' features for every frame (and sums in an order of its own)."""
    n_dim = rev_t.shape[0]
    n = rev_t.shape[1]
    m = sims.shape[1] - 2 * _PAD
    for t0 in range(a, b, 4):
        lo = max(0, n - 4 - t0 + min_lag)  # partner columns [lo, hi) cover the four frames' lags
        hi = min(n, n - 1 - t0 + m)
        if hi <= lo:
            continue
        i = t0 - a
        c = lo - (n - 1 - t0) + _PAD  # frame t0 + k meets partner column lo at sims column c + k
        o0 = sims[i, c:c + hi - lo]
        o1 = sims[i + 1, c + 1:c + 1 + hi - lo]
        o2 = sims[i + 2, c + 2:c + 2 + hi - lo]
        o3 = sims[i + 3, c + 3:c + 3 + hi - lo]
        for d in range(0, n_dim - 3, 8):
            x0, x1, x2, x3 = rev_t[d, lo:hi], rev_t[d + 1, lo:hi], rev_t[d + 2, lo:hi], rev_t[d + 3, lo:hi]
            x4, x5, x6 = rev_t[d + 4, lo:hi], rev_t[d + 5, lo:hi], rev_t[d + 6, lo:hi]
            x7 = rev_t[d + 7, lo:hi]
            p0, p1, p2, p3, p4, p5, p6, p7 = f[t0, d:d + 8]
            q0, q1, q2, q3, q4, q5, q6, q7 = f[t0 + 1, d:d + 8]
            r0, r1, r2, r3, r4, r5, r6, r7 = f[t0 + 2, d:d + 8]
            s0, s1, s2, s3, s4, s5, s6, s7 = f[t0 + 3, d:d + 8]
            if d == 0:  # the first pass writes, the others add: no zeroing pass
                for j in range(hi - lo):
                    y0, y1, y2, y3, y4, y5, y6, y7 = x0[j], x1[j], x2[j], x3[j], x4[j], x5[j], x6[j], x7[j]
                    o0[j] = p0 * y0 + p1 * y1 + p2 * y2 + p3 * y3 + p4 * y4 + p5 * y5 + p6 * y6 + p7 * y7
                    o1[j] = q0 * y0 + q1 * y1 + q2 * y2 + q3 * y3 + q4 * y4 + q5 * y5 + q6 * y6 + q7 * y7
                    o2[j] = r0 * y0 + r1 * y1 + r2 * y2 + r3 * y3 + r4 * y4 + r5 * y5 + r6 * y6 + r7 * y7
                    o3[j] = s0 * y0 + s1 * y1 + s2 * y2 + s3 * y3 + s4 * y4 + s5 * y5 + s6 * y6 + s7 * y7
                continue
            for j in range(hi - lo):
                y0, y1, y2, y3, y4, y5, y6, y7 = x0[j], x1[j], x2[j], x3[j], x4[j], x5[j], x6[j], x7[j]
                o0[j] = o0[j] + p0 * y0 + p1 * y1 + p2 * y2 + p3 * y3 + p4 * y4 + p5 * y5 + p6 * y6 + p7 * y7
                o1[j] = o1[j] + q0 * y0 + q1 * y1 + q2 * y2 + q3 * y3 + q4 * y4 + q5 * y5 + q6 * y6 + q7 * y7
                o2[j] = o2[j] + r0 * y0 + r1 * y1 + r2 * y2 + r3 * y3 + r4 * y4 + r5 * y5 + r6 * y6 + r7 * y7
                o3[j] = o3[j] + s0 * y0 + s1 * y1 + s2 * y2 + s3 * y3 + s4 * y4 + s5 * y5 + s6 * y6 + s7 * y7
        d = n_dim - 3
        x0, x1, x2 = rev_t[d, lo:hi], rev_t[d + 1, lo:hi], rev_t[d + 2, lo:hi]
        p0, p1, p2 = f[t0, d:d + 3]
        q0, q1, q2 = f[t0 + 1, d:d + 3]
        r0, r1, r2 = f[t0 + 2, d:d + 3]
        s0, s1, s2 = f[t0 + 3, d:d + 3]
        v = rev_v[lo:hi]
        g0 = flags[i, c:c + hi - lo]
        g1 = flags[i + 1, c + 1:c + 1 + hi - lo]
        g2 = flags[i + 2, c + 2:c + 2 + hi - lo]
        g3 = flags[i + 3, c + 3:c + 3 + hi - lo]
        for j in range(hi - lo):
            y0, y1, y2 = x0[j], x1[j], x2[j]
            u0 = o0[j] + p0 * y0 + p1 * y1 + p2 * y2
            u1 = o1[j] + q0 * y0 + q1 * y1 + q2 * y2
            u2 = o2[j] + r0 * y0 + r1 * y1 + r2 * y2
            u3 = o3[j] + s0 * y0 + s1 * y1 + s2 * y2
            o0[j], o1[j], o2[j], o3[j] = u0, u1, u2, u3
            g0[j] = v[j] if u0 > MATCH_SIM else 0
            g1[j] = v[j] if u1 > MATCH_SIM else 0
            g2[j] = v[j] if u2 > MATCH_SIM else 0
            g3[j] = v[j] if u3 > MATCH_SIM else 0


@compiled
def _dp_frames(t0: int, a: int, b: int, sims: np.ndarray, flags: np.ndarray, voiced: np.ndarray,
               rev_v: np.ndarray, min_lag: int, min_len: int, h: np.ndarray, state: np.ndarray,
               alive: np.ndarray, n_alive: int, out: np.ndarray, n_out: int,
               final: bool) -> tuple[int, np.ndarray, int]:
    """The DP over frames t0..b-1 (frames before a unvoiced; sims and flags[t - a, L + 8]:
    frame t's similarity at lag L, and whether it is a candidate by itself), updating h,
    state and alive in place; emitted paths of at least min_len are appended to out (grown
    when a frame might not fit). final: emit the paths still alive at the end (the last
    frame processed left room for them). rev_v[r]: frame n-1-r voiced.

    Per frame only the lags that can be alive or end a path are updated: those whose own
    score is positive (both frames voiced and alike: the flags), those alive a frame before,
    and the neighbours of those among them with h above LAG_STEP_PENALTY (marked in the
    flags here); every other cell is dead whatever the DP does (h 0): with no positive way
    in it starts fresh, and without a positive score of its own it dies at once. (Skipping
    the neighbours of alive lags with less h: 22 % fewer candidates on a 73 s take.)
    The flags are read eight at a time (~4 % of speech cells are alike, ~100 lags alive: on
    a 73 s take over 80 % of the words are 0). All candidates read the previous frame's h and
    state (the new values of the lags left alive are kept aside and written after the frame;
    a dead lag's state is never read again), as the full search's vectorised update does."""
    n = len(voiced)
    m = len(h) - 2
    cand = np.empty(m, dtype=np.uint64)
    new_h = np.empty(m)
    new_state = np.empty((m, 5))
    for t in range(t0, b):
        hi = min(t, m - 1)
        row = n - 1 - t
        v = voiced[t]
        if (not v and n_alive == 0) or hi < min_lag:
            continue
        nc = 0
        if v:
            sim = sims[t - a, _PAD:]
            fl = flags[t - a]  # column L + 8: words[q] holds lags 8q - 8 .. 8q - 1
            for col in range(min_lag, min_lag + _PAD):
                fl[col] = 0  # leftovers below min_lag
            for col in range(hi + 1 + _PAD, hi + 1 + 2 * _PAD):
                fl[col] = 0  # and above hi (older blocks' rows end there too)
            for k in range(n_alive):
                L = alive[k]
                fl[L + _PAD] = 1
                if h[L + 1] > LAG_STEP_PENALTY:  # else its neighbours are dead cells either way
                    fl[max(L - 1, min_lag) + _PAD] = 1
                    fl[min(L + 1, hi) + _PAD] = 1
            words = fl.view(np.uint64)
            for q in range((min_lag + _PAD) >> 3, ((hi + _PAD) >> 3) + 1):
                if words[q] != 0:
                    for col in range(q << 3, (q << 3) + 8):
                        cand[nc] = np.uint64(col - _PAD)
                        nc += fl[col]  # no branch: a word holds one lag or several at random
        else:
            last = -1  # the alive lags and the neighbours that matter (above), ascending, once each
            for k in range(n_alive):
                L = alive[k]
                step = h[L + 1] > LAG_STEP_PENALTY
                for c in range(max(L - step, min_lag, last + 1), min(L + step, hi) + 1):
                    cand[nc] = np.uint64(c)
                    nc += 1
                    last = c
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
        one = np.uint64(1)  # unsigned indices: no negative-index fix-up per access
        urow = np.uint64(row)
        n_new = 0  # lags alive after this frame, ascending; their h and state in new_h, new_state
        for k in range(nc):
            c = cand[k]
            i = c + one
            # the three ways into (t, L), in np.argmax's order: own lag first, then L-1, L+1
            own = h[i]
            prev = own
            src = i
            if h[i - one] - LAG_STEP_PENALTY > prev:
                prev = h[i - one] - LAG_STEP_PENALTY
                src = i - one
            if h[i + one] - LAG_STEP_PENALTY > prev:
                prev = h[i + one] - LAG_STEP_PENALTY
                src = i + one
            fresh = prev <= 0
            both = rev_v[urow + c]
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
            if own > 0 and (dead or src != i) and state[i, 3] - state[i, 0] >= min_len:
                out[n_out, 0] = state[i, 0]
                out[n_out, 1] = state[i, 3]
                out[n_out, 2] = c
                out[n_out, 3] = state[i, 4]
                n_out += 1
            if dead:
                continue  # h 0; its state is never read again (only an alive lag's is)
            if fresh:
                n_start, n_sum, n_best, n_best_end, n_best_sim = float(t), 0.0, 0.0, float(t), 0.0
            else:
                n_start, n_sum, n_best = state[src, 0], state[src, 1], state[src, 2]
                n_best_end, n_best_sim = state[src, 3], state[src, 4]
            if v:
                n_sum = n_sum + (s_c if both else 0.0)
            if nh > n_best:
                n_best_sim = n_sum / max(t + 1 - n_start, 1.0)
                n_best_end = float(t + 1)
                n_best = nh
            new_state[n_new, 0], new_state[n_new, 1], new_state[n_new, 2] = n_start, n_sum, n_best
            new_state[n_new, 3], new_state[n_new, 4] = n_best_end, n_best_sim
            new_h[n_new] = nh
            alive[n_new] = c  # the marks above were read from alive already
            n_new += 1
        for k in range(nc):
            h[cand[k] + np.uint64(1)] = 0.0
        for k in range(n_new):
            i = alive[k] + 1
            h[i] = new_h[k]
            for r in range(5):
                state[i, r] = new_state[k, r]
        n_alive = n_new
    if final:
        for k in range(n_alive):
            i = alive[k] + 1
            if state[i, 3] - state[i, 0] >= min_len:
                out[n_out, 0] = state[i, 0]
                out[n_out, 1] = state[i, 3]
                out[n_out, 2] = alive[k]
                out[n_out, 3] = state[i, 4]
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
