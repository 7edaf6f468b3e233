"""A robotic tail: the voice frozen in one state at the end of a take (edges.tail_metrics'
`tail_buzz_s`, limit in edges.DEFAULTS).

A vocoder stuck in one frame, a repeated pitch period or a hum holds its pitch, level and
spectral envelope still; speech never does for 50 ms, not even a held final vowel.
"""
from __future__ import annotations

import functools

import numpy as np

from .level import db, true_runs

BUZZ_LEVEL_DB = -30.0      # quieter than this is not an audible buzz
BUZZ_PERIODICITY = 0.8     # normalised autocorrelation at the pitch lag (speech vowels: 0.5-0.99)
BUZZ_SPAN = 5              # compare each 10 ms frame with the one 50 ms earlier
BUZZ_FLUX_DB = 1.0         # mean |change| of 24 log-mel bands over 50 ms
BUZZ_F0_CHANGE = 0.02      # relative pitch change over 50 ms (speech glides 3-10 %)
BUZZ_LEVEL_CHANGE_DB = 2.0  # level change over 50 ms (a final vowel decays faster)
BUZZ_BANDS = 24


def frozen_voice(x: np.ndarray, sr: int, level_db: float, t_from: float) -> tuple[float, float]:
    """Longest 'frozen voice' stretch of `x` from `t_from` to the end: (seconds, mean
    periodicity). `level_db` is the speech level the loudness limit is relative to.

    Frozen = loud, strongly periodic (a harmonic source) and *static*: over
    50 ms its spectral envelope (24 log-mel bands to 4 kHz), pitch and level
    all stay put. Natural speech is never static that long; even a held final
    vowel glides in pitch, moves its formants and decays. A vocoder stuck in
    one state, a repeated pitch period or a hum is static. Periodicity alone
    would flag long vowels; flux alone would flag steady noise; so all hold.
    Runs at the clip's own rate: a looped period is an integer number of
    samples there, and resampling would blur its periodicity.

    The spectra (two FFTs per frame, most of the cost) are computed only for frames the
    level alone leaves in the running (loud, and level steady over 50 ms), then for the
    frames 50 ms before those still periodic, then for the longest run's mean.
    """
    y = x[int(t_from * sr):]
    win, hop = round(0.04 * sr), round(0.01 * sr)  # 40 ms: two periods at 50 Hz
    if len(y) < win + (BUZZ_SPAN + 2) * hop:
        return 0.0, 0.0
    from numpy.lib.stride_tricks import sliding_window_view

    frames = sliding_window_view(y, win)[::hop]
    level = db(np.sqrt(np.mean(frames ** 2, axis=1))) - level_db
    k = BUZZ_SPAN
    cand = k + np.nonzero((level[k:] > BUZZ_LEVEL_DB)
                          & (np.abs(level[k:] - level[:-k]) < BUZZ_LEVEL_CHANGE_DB))[0]
    spec = _BuzzSpectra(frames, sr)
    spec.need(cand)
    cand = cand[spec.per[cand] > BUZZ_PERIODICITY]
    spec.need(cand - k)
    frozen = np.zeros(len(level), dtype=bool)
    frozen[cand] = ((np.mean(np.abs(spec.logmel[cand] - spec.logmel[cand - k]), axis=1) < BUZZ_FLUX_DB)
                    & (np.abs(np.log(spec.f0[cand] / spec.f0[cand - k])) < BUZZ_F0_CHANGE))
    frozen[1:-1] |= frozen[:-2] & frozen[2:]  # forgive one odd frame inside a run
    runs = true_runs(frozen)
    if len(runs) == 0:
        return 0.0, 0.0
    i = int(np.argmax(runs[:, 1] - runs[:, 0]))
    s, e = runs[i]
    # a frame is judged against the one 50 ms before, so the run began k frames earlier
    span = np.arange(max(0, s - k), e)
    spec.need(span)
    return float((e - s + k) * hop / sr), float(spec.per[span].mean())


class _BuzzSpectra:
    """Periodicity, pitch and log-mel envelope of `frozen_voice`'s frames, computed for the
    frames asked for (each frame's FFTs are its own: numpy gives a row the same bits
    whichever rows come with it)."""

    def __init__(self, frames: np.ndarray, sr: int) -> None:
        n, win = frames.shape
        self.frames, self.sr = frames, sr
        self.per, self.f0 = np.zeros(n), np.ones(n)
        self.logmel = np.zeros((n, BUZZ_BANDS))
        self.done = np.zeros(n, dtype=bool)

    def need(self, rows: np.ndarray) -> None:
        rows = rows[~self.done[rows]]
        if not rows.size:
            return
        sr = self.sr
        frames = self.frames[rows]
        win = frames.shape[1]
        w, wac_norm, fb = _buzz_tables(win, sr)
        nfft = 2 * win
        spec = np.abs(np.fft.rfft(frames * w, nfft)) ** 2
        # periodicity (Boersma 1993): autocorrelation of the windowed frame divided by
        # the window's own autocorrelation, so a perfectly periodic signal reads ~1
        ac = np.fft.irfft(spec, nfft)[:, :win]
        r = ac / np.maximum(ac[:, :1], 1e-20) / wac_norm
        lo, hi = sr // 500, sr // 50  # pitch 50-500 Hz
        rr = r[:, lo:hi]
        best = rr.max(axis=1)
        self.per[rows] = np.clip(best, 0.0, 1.0)
        # pitch = the shortest lag within 10 % of the best, so f0 does not jump octaves
        lag = lo + np.argmax(rr >= 0.9 * best[:, None], axis=1)
        self.f0[rows] = sr / lag
        mel = spec @ fb.T
        logmel = 10 * np.log10(mel + 1e-12)
        self.logmel[rows] = np.maximum(logmel, logmel.max(axis=1, keepdims=True) - 50)  # valleys do not count
        self.done[rows] = True


@functools.lru_cache(maxsize=8)
def _buzz_tables(win: int, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Hann window, its normalised autocorrelation (floored at 1e-3) and the mel
    filterbank for `frozen_voice` frames of `win` samples: the same for every take at a rate."""
    from .loops import _mel_filterbank

    nfft = 2 * win
    w = np.hanning(win)
    wac = np.fft.irfft(np.abs(np.fft.rfft(w, nfft)) ** 2, nfft)[:win]
    wac_norm = np.maximum(wac / wac[0], 1e-3)
    for arr in (w, wac_norm):
        arr.flags.writeable = False
    return w, wac_norm, _mel_filterbank(nfft, sr, BUZZ_BANDS, 80.0, min(4000.0, sr / 2 - 100))
