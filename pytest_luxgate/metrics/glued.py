"""Noise glued to speech: where the words really begin and end.

A burst of noise or garbage glued to the first or last word with no gap
between them moves every edge clock with it: Silero hears one stretch of
sound, Whisper stretches the word over it, and the envelope walk in
`edges._Context.walk_edge` takes it for the word's first (or last)
consonant. So the edge metrics saw nothing "before the onset".

This module looks at the sound itself, frame by frame (20 ms, 10 ms hop),
near each edge, and classifies every frame:

- *voiced*: periodic (YIN aperiodicity < VOICED_APERIODICITY at 60-500 Hz);
- *noise*: loud (> NOISE_LEVEL_DB re speech) and either aperiodic
  (>= NOISE_APERIODICITY) and not shaped like a sibilant (more than
  SIBILANT_LOW_DB of its 1-8 kHz energy below 1 kHz), or not voiced and
  impulsive (crackle: kurtosis > CRACKLE_KURTOSIS).

Why those classes: the only sounds at the edge of an English word as loud as
-10 dB re the speech level are voiced (vowels, sonorants) or sibilants
(/s/ /z/ /sh/ /ch/, energy above 2-4 kHz). The broadband unvoiced consonants
are quieter (espeak's /f/ /th/: -14..-21 dB) or short (an aspirated /t/:
40-50 ms, even at -9 dB). Broadband noise (white, pink, brown) at that level
has as much energy below 1 kHz as a vowel and no periodicity; crackle is
impulsive. Speech-like garbage (speech-shaped noise, reversed speech) is
partly periodic and is NOT found here (docs/CALIBRATION.md).

Crackle is sparse: between its loudest clicks lie frames that hold a quieter click or
none, under the level gate. A gap of up to CLICK_HOLE such frames between two clicking
noise frames is bridged likewise (`click_gap_frames`).

Low-frequency noise (brown, rumble) holds its energy under a few hundred Hz, and a
20 ms frame holds only a few of its cycles: its frame level swings by 10 dB and more, so
at -10 dB re speech it dips under the level gate for 50-70 ms at a time. Such a gap
between noise frames is bridged when every frame of it is *rumble* (aperiodic, louder
than VOICED_LEVEL_DB, energy mostly below 1 kHz: RUMBLE_LOW_DB); the bridge never
extends a run outward, and the consonants next to a word's noise-like frames are
periodic or high-frequency, so clean edges gain nothing (docs/CALIBRATION.md).

A run of >= MIN_RUN noise frames that starts at the sound's onset and comes
before its first voiced stretch is not a consonant: the words begin after it
(`lead_noise`); mirrored at the end (`tail_noise`). Everything works at the
clip's own rate except the voicing measure, which runs at 16 kHz.

Outside the text's words (before the first word's start, after the last word's end, where a
forced alignment of the text puts them: listeners/aligner.py) a frame needs less to be noise:
loud, not sibilant-shaped and merely *unvoiced* (YIN at or above VOICED_APERIODICITY, not
NOISE_APERIODICITY); and before the first word only a vowel's steady part is voiced (YIN under
BEFORE_TEXT_VOICED_APERIODICITY, the strict VOWEL_APERIODICITY). Noise shaped like speech (the
take's own spectrum) keeps a voice's harmonics: YIN reads its loud frames 0.2-0.8, and under
0.5 on 19 % of them (Piper, espeak-ng, human voices) to 45 % (Kokoro), enough for a voiced run
that ended the search for a burst; under 0.2 on 0-10 %. A vowel's onset lies inside the words,
and so does the breathy /h/ of a slow "Happy" (aperiodic, -13 dB, 0.2 s), which the aligner
starts the text on; a vowel the aligner leaves before the text (a voice's epenthetic vowel) has
a steady part under 0.2 and stays voiced. After the last word the aligner may end a slow final
vowel early, and its decay reads 0.2-0.5 as the level and pitch fall: there voicing stays at
VOICED_APERIODICITY. Frames inside the text keep the stricter tests (docs/CALIBRATION.md
"Unvoiced sound outside the text" and "Partly periodic sound before the text").

Speech-like garbage needs to know where the text begins and ends: `sound_before`
(`sound_after`) counts the loud frames that are not sibilant-shaped before (after)
the point where a forced alignment of the text (listeners/aligner.py) puts the
first word's start (the last word's end), voiced or not, and the quieter moments of up
to SOUND_HOLE frames between two of them (garbage swings in level as syllables do).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.jit import compiled
from .level import db, true_runs

FRAME_S = 0.02
HOP_S = 0.01
VOICED_APERIODICITY = 0.5  # YIN's cumulative-mean-normalised difference at the best lag
VOWEL_APERIODICITY = 0.2  # a vowel's steady part (Kokoro, Piper: 0.01-0.2); speech-shaped noise: 95 % of frames above
BEFORE_TEXT_VOICED_APERIODICITY = VOWEL_APERIODICITY  # voicing before the aligned text: a vowel's steady part only
NOISE_APERIODICITY = 0.7  # ...and above this a frame is noise-like (white, pink: ~1; vowel onsets up to ~0.65)
NOISE_LEVEL_DB = -14.0     # a frame louder than this re speech, unvoiced and not sibilant, is noise
RUMBLE_LOW_DB = 6.0        # energy < 1 kHz vs 1-8 kHz of low-frequency noise (brown: +8..+25 dB)
SIBILANT_LOW_DB = -12.0    # energy < 1 kHz vs 1-8 kHz: white noise -8.7 dB, /s/ /sh/ far lower
AT_SPEECH_LEVEL_DB = 0.0   # a frame as loud as the speech itself (its RMS level): a syllable's, not an edge's
CRACKLE_KURTOSIS = 15.0    # Gaussian noise and fricatives ~3, a plosive release ~11; a few clicks per frame >> 15
LO_BAND = (60.0, 1000.0)
HI_BAND = (1000.0, 8000.0)
YIN_RATE = 16_000
YIN_WIN_S = 0.04
F0_RANGE = (60.0, 500.0)


def frame_features(x: np.ndarray, sr: int, level_db: float, a: float, b: float) -> dict[str, np.ndarray]:
    """Per-frame features of x[a:b] (seconds): t (frame start), level (dB re speech),
    low (dB, energy below 1 kHz re 1-8 kHz), aper (YIN aperiodicity), kurt."""
    fr = _Frames(x, sr, level_db, a, b)
    every = np.arange(fr.n)
    fr.need_aper(every)
    fr.need_shape(every)
    return {"t": fr.t, "level": fr.level, "low": fr.low, "aper": fr.aper, "kurt": fr.kurt}


class _Frames:
    """`frame_features` of one stretch, the costly ones (YIN, spectrum, kurtosis) computed
    only for the frames a decision reads: a frame under VOICED_LEVEL_DB is neither voiced
    nor noise whatever its periodicity, and the lead/tail search stops at the first voiced
    run. Each frame's value is computed from that frame alone (numpy's FFTs and row
    reductions give a row the same bits whichever other rows come with it), so a frame's
    features are those `frame_features` gives it."""

    def __init__(self, x: np.ndarray, sr: int, level_db: float, a: float, b: float) -> None:
        win, self.hop = round(FRAME_S * sr), round(HOP_S * sr)
        i0, i1 = max(0, int(a * sr)), min(len(x), int(b * sr))
        self.sr, self.seg = sr, np.asarray(x[i0:i1], dtype=np.float64)
        if len(self.seg) < win:
            self.n, self.frames = 0, np.zeros((0, win))
        else:
            from numpy.lib.stride_tricks import sliding_window_view

            self.frames = sliding_window_view(self.seg, win)[::self.hop]
            self.n = len(self.frames)
        self.t = (i0 + np.arange(self.n) * self.hop) / sr
        self.level = db(np.sqrt(np.mean(self.frames ** 2, axis=1))) - level_db
        self.aper, self.low, self.kurt = np.ones(self.n), np.zeros(self.n), np.zeros(self.n)
        self._aper_done = np.zeros(self.n, dtype=bool)
        self._shape_done = np.zeros(self.n, dtype=bool)
        self._y16: np.ndarray | None = None
        #: frames wholly outside the aligned text (`outside_text`), where unvoiced sound is noise
        self.outside = np.zeros(self.n, dtype=bool)
        #: per frame, YIN under this is voiced: BEFORE_TEXT_VOICED_APERIODICITY before the text's start
        self.voicing = np.full(self.n, VOICED_APERIODICITY)

    def outside_text(self, start: float | None = None, end: float | None = None) -> None:
        """Mark the frames that end by `start` (the aligned text's start) or begin at or after
        `end` (its end) as outside the text's words."""
        if start is not None:
            before = self.t + FRAME_S <= start
            self.outside |= before
            self.voicing[before] = BEFORE_TEXT_VOICED_APERIODICITY
        if end is not None:
            self.outside |= self.t >= end

    def need_aper(self, rows: np.ndarray) -> None:
        """Compute the YIN aperiodicity of these frames (indices) if not done yet."""
        rows = rows[~self._aper_done[rows]]
        if rows.size:
            if self._y16 is None:
                self._y16 = _yin_signal(self.seg, self.sr, self.n)
            self.aper[rows] = _yin_rows(self._y16, self.sr, rows)
            self._aper_done[rows] = True

    def need_shape(self, rows: np.ndarray) -> None:
        """Compute `low` (spectral tilt) and `kurt` of these frames if not done yet."""
        rows = rows[~self._shape_done[rows]]
        if not rows.size:
            return
        frames = self.frames[rows]
        win = frames.shape[1]
        nfft = 1 << int(np.ceil(np.log2(win)))
        spec = np.abs(np.fft.rfft(frames * np.hanning(win), nfft)) ** 2
        f = np.fft.rfftfreq(nfft, 1 / self.sr)
        lo = spec[:, (f >= LO_BAND[0]) & (f < LO_BAND[1])].sum(axis=1)
        hi = spec[:, (f >= HI_BAND[0]) & (f < min(HI_BAND[1], self.sr / 2))].sum(axis=1)
        self.low[rows] = 10 * np.log10((lo + 1e-20) / (hi + 1e-20))
        c = frames - frames.mean(axis=1, keepdims=True)
        c2 = c * c
        m2 = np.mean(c2, axis=1)
        # c2 * c2, not c ** 4: numpy's pow was a quarter of this function's time
        self.kurt[rows] = np.mean(c2 * c2, axis=1) / np.maximum(m2 ** 2, 1e-30)
        self._shape_done[rows] = True

    def voiced(self, lo: int, hi: int, aperiodicity: float = VOICED_APERIODICITY, min_run: int = 1) -> np.ndarray:
        """Per frame in [lo, hi): periodic (YIN below `aperiodicity` and the frame's own
        `voicing`, BEFORE_TEXT_VOICED_APERIODICITY before the text) and louder than
        VOICED_LEVEL_DB re speech. With min_run, frames outside every run of that many loud
        frames read False unmeasured: they cannot be in a voiced run that long."""
        loud = self.level[lo:hi] > VOICED_LEVEL_DB
        if min_run > 1:  # the runs over all frames: a chunk's edge must not cut one short
            loud = _in_long_runs(self.level > VOICED_LEVEL_DB, min_run)[lo:hi]
        rows = lo + np.nonzero(loud)[0]
        self.need_aper(rows)
        out = np.zeros(max(0, min(hi, self.n) - lo), dtype=bool)
        # before the text only a vowel's steady part is voicing (module doc)
        out[rows - lo] = self.aper[rows] < np.minimum(aperiodicity, self.voicing[rows])
        return out

    def first_voiced_run(self, n: int, from_end: bool = False) -> int | None:
        """`_first_run(self.voiced(0, self.n), n)` (from the end: `_first_run(that[::-1], n)`), computing
        voicing a chunk of frames at a time from that end until such a run is found: the
        search stops at the word's first vowel, usually a few frames in."""
        step = CHUNK
        done = 0
        while True:
            done = min(self.n, done + step)
            lo, hi = (self.n - done, self.n) if from_end else (0, done)
            mask = self.voiced(lo, hi, min_run=n)
            i = _first_run(mask[::-1] if from_end else mask, n)
            # a run inside the frames seen is the first of all frames: any earlier run would
            # lie wholly inside them too
            if i is not None or done == self.n:
                return i
            step *= 2

    def could_be_noise(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Frame indices in [lo, hi) that a noise run over [lo, hi) could hold, from the level
        alone: a noise frame is louder than NOISE_LEVEL_DB, a rumble frame that bridges two of
        them louder than VOICED_LEVEL_DB, and a crackle's gap (CLICK_HOLE) any level, so a noise
        run lies within a run of loud frames (the others bridged as `noise` and `_noise_runs`
        bridge them) holding at least MIN_RUN frames."""
        level = self.level[lo:hi]
        core = level > NOISE_LEVEL_DB
        loud = (_bridged(core, level > VOICED_LEVEL_DB, RUMBLE_HOLE)
                | _bridged(core, np.ones_like(core), CLICK_HOLE))
        return lo + np.nonzero(_in_long_runs(loud, MIN_RUN, MAX_HOLE))[0]

    def noise(self, lo: int, hi: int) -> np.ndarray:
        """`noise_frames` of frames [lo, hi), rumble between them and the gaps between a
        crackle's clicks bridged (`_bridged`), except that frames that cannot be in a run kept
        by `_noise_runs` over [lo, hi) (`could_be_noise`) read False unmeasured."""
        rows = self.could_be_noise(lo, hi)
        self.need_aper(rows)
        self.need_shape(rows)
        feat = {"t": self.t[rows], "level": self.level[rows], "aper": self.aper[rows],
                "low": self.low[rows], "kurt": self.kurt[rows]}
        n = max(0, min(hi, self.n) - lo)

        def measured(values: np.ndarray) -> np.ndarray:  # per frame of [lo, hi); False unmeasured
            out = np.zeros(n, dtype=bool)
            out[rows - lo] = values
            return out

        core = measured(noise_frames(feat)) | (measured(unvoiced_frames(feat, self.voicing[rows]))
                                               & self.outside[lo:lo + n])
        clicks = core & measured(_impulsive(feat))
        # near silence needs only the level, which every frame has
        between = (self.level[lo:lo + n] <= VOICED_LEVEL_DB) | measured(click_gap_frames(feat))
        return (_bridged(core, measured(rumble_frames(feat)), RUMBLE_HOLE)
                | _bridged(clicks, between, CLICK_HOLE))


def _bridged(core: np.ndarray, weak: np.ndarray, max_gap: int) -> np.ndarray:
    """`core` with its gaps of at most `max_gap` frames filled where every frame of the gap
    is `weak`: a noise whose frame level swings (brown noise: 20 ms hold only a few of its
    cycles; crackle: its clicks are sparse) dips under the level gate a few frames at a time."""
    out = core.copy()
    idx = np.nonzero(core)[0]
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= max_gap + 1 and weak[a + 1:b].all():
            out[a + 1:b] = True
    return out


def _in_long_runs(mask: np.ndarray, min_true: int, max_hole: int = 0) -> np.ndarray:
    """`mask` with only the True frames of runs (up to max_hole False frames inside bridged,
    as in `_noise_runs`) that hold at least min_true of them."""
    out = np.zeros(len(mask), dtype=bool)
    idx = np.nonzero(mask)[0]
    if idx.size < min_true:
        return out
    for run in np.split(idx, np.nonzero(np.diff(idx) > max_hole + 1)[0] + 1):
        if run.size >= min_true:
            out[run] = True
    return out


def _yin_signal(seg: np.ndarray, sr: int, n_frames: int) -> np.ndarray:
    """The stretch at YIN_RATE, padded so every frame's YIN window (centred on the frame,
    plus the longest lag) lies inside it."""
    if sr != YIN_RATE:
        import soxr

        y = soxr.resample(seg.astype(np.float32), sr, YIN_RATE).astype(np.float64)
    else:
        y = seg
    win, tmax = round(YIN_WIN_S * YIN_RATE), int(YIN_RATE / F0_RANGE[0])
    # the YIN window is centred on the 20 ms frame (a longer window is steadier across a transition)
    pad = (win - round(FRAME_S * YIN_RATE)) // 2
    y = np.concatenate([np.zeros(pad), y, np.zeros(win + tmax)])
    if n_frames > 0:
        short = int(_yin_starts(np.array([n_frames - 1]), sr)[0]) + win + tmax - len(y)
        if short > 0:
            y = np.concatenate([y, np.zeros(short)])
    return y


def _yin_starts(rows: np.ndarray, sr: int) -> np.ndarray:
    """Where each frame's YIN window starts at YIN_RATE: where its frame at the clip's rate
    does. That hop (220 samples at 22.05 kHz) is not always 10 ms, and a fixed 160 drifted a
    frame per ~4.4 s and, past ~12 s, ran out of rows (IndexError)."""
    return np.rint(rows * (round(HOP_S * sr) * YIN_RATE / sr)).astype(np.int64)


def _yin_rows(y: np.ndarray, sr: int, rows: np.ndarray) -> np.ndarray:
    """YIN (de Cheveigne & Kawahara 2002) cumulative-mean-normalised difference,
    minimum over lags for F0_RANGE, for these frames of `_yin_signal`'s y: ~0 for a periodic
    frame, ~1 for noise (also low-passed noise, whose plain autocorrelation looks periodic)."""
    win, tmax = round(YIN_WIN_S * YIN_RATE), int(YIN_RATE / F0_RANGE[0])
    tmin = int(YIN_RATE / F0_RANGE[1])
    from numpy.lib.stride_tricks import sliding_window_view

    fr = sliding_window_view(y, win + tmax)[_yin_starts(rows, sr)]
    out = np.ones(len(rows))
    heard = np.any(fr[:, :win], axis=1)  # an all-zero frame keeps aperiodicity 1
    fr = fr[heard]
    if not fr.shape[0]:
        return out
    n = fr.shape[1]
    # circular correlation is linear for the lags read (tau <= tmax) once nfft >= n: j + tau < n
    nfft = 1 << int(np.ceil(np.log2(n)))
    r = np.fft.irfft(np.fft.rfft(fr, nfft) * np.conj(np.fft.rfft(fr[:, :win], nfft)), nfft)
    out[heard] = _yin_minimum(fr, r, win, tmax, tmin)
    return out


@compiled
def _yin_minimum(fr: np.ndarray, r: np.ndarray, win: int, tmax: int, tmin: int) -> np.ndarray:
    """Per row (frame): min over tau in [tmin, tmax] of the cumulative-mean-normalised
    difference d(tau) / mean(d(1..tau)), d(tau) = sum_j<win (x_j - x_{j+tau})^2 =
    e(0) + e(tau) - 2 r(tau) with e(tau) the energy of x[tau:tau + win] and r the FFT's
    correlation. The arithmetic is numpy's (sequential running sums, as its cumsum), one
    row at a time instead of (frames x lags) temporaries."""
    n_rows, n = fr.shape
    out = np.empty(n_rows)
    e = np.empty(n + 1)  # e[k] = sum of x_j^2 for j < k
    for row in range(n_rows):
        x = fr[row]
        e[0] = 0.0
        for j in range(n):
            e[j + 1] = e[j] + x[j] * x[j]
        e0 = e[win]
        total = 0.0
        best = np.inf
        for tau in range(1, tmax + 1):
            d = max(e0 + (e[win + tau] - e[tau]) - 2 * r[row, tau], 0.0)
            total = total + d
            dn = d / max(total / tau, 1e-20)
            if tau >= tmin and dn < best:
                best = dn
        out[row] = best
    return out


def noise_frames(feat: dict[str, np.ndarray]) -> np.ndarray:
    """Boolean per frame: loud, unvoiced, and broadband or impulsive (see module doc)."""
    if feat["t"].size == 0:
        return np.zeros(0, dtype=bool)
    broadband = (feat["aper"] >= NOISE_APERIODICITY) & (feat["low"] > SIBILANT_LOW_DB)
    return (feat["level"] > NOISE_LEVEL_DB) & (broadband | _impulsive(feat))


def unvoiced_frames(feat: dict[str, np.ndarray],
                    aperiodicity: float | np.ndarray = VOICED_APERIODICITY) -> np.ndarray:
    """Boolean per frame: loud (> NOISE_LEVEL_DB), not voiced (YIN at or above `aperiodicity`,
    per frame where an array) and not sibilant-shaped: noise where it lies outside the text's
    words, before them with BEFORE_TEXT_VOICED_APERIODICITY (module doc). Noise shaped like
    speech is partly harmonic and reads 0.2-0.8."""
    return ((feat["level"] > NOISE_LEVEL_DB) & (feat["aper"] >= aperiodicity)
            & (feat["low"] > SIBILANT_LOW_DB))


def _impulsive(feat: dict[str, np.ndarray]) -> np.ndarray:
    """Not voiced and impulsive: a click. A few clicks in a frame read as partly periodic to
    YIN (0.5-0.7), so a click only has to be not voiced."""
    return (feat["aper"] >= VOICED_APERIODICITY) & (feat["kurt"] > CRACKLE_KURTOSIS)


def rumble_frames(feat: dict[str, np.ndarray]) -> np.ndarray:
    """Boolean per frame: audible (> VOICED_LEVEL_DB), aperiodic as noise is, and with most of
    its energy below 1 kHz (RUMBLE_LOW_DB): a quiet moment of low-frequency noise. Bridged only
    between noise frames (`_bridged`), never a run of its own: an /h/ before a back vowel may
    read so too."""
    return ((feat["level"] > VOICED_LEVEL_DB) & (feat["aper"] >= NOISE_APERIODICITY)
            & (feat["low"] >= RUMBLE_LOW_DB))


def click_gap_frames(feat: dict[str, np.ndarray]) -> np.ndarray:
    """Boolean per frame: what lies between the clicks of a crackle: a quieter click (impulsive,
    not voiced, over VOICED_LEVEL_DB) or near silence (under it)."""
    return _impulsive(feat) | (feat["level"] <= VOICED_LEVEL_DB)


MIN_RUN = 6        # noise frames (10 ms hop, 20 ms each: 70 ms of sound). Clean edges reach 5: Piper's
                   # aspirated /t/ of "Today" (4, at -9 dB), espeak's final /t/ release after /f/
                   # in "left" at 130 wpm (5); a burst of >= 0.1 s gives ~9
TOUCH_S = 0.06     # the run must reach the outer end of the sound (onset/offset) within this: glued
                   # noise is the first (last) thing heard; a loud stretch with the word going on
                   # beyond it (a mic thump from a final /f/ in a human "himself") is part of the word
MAX_HOLE = 1       # one odd frame inside a burst (a quiet moment of brown noise, a gap in crackle)
RUMBLE_HOLE = 8    # frames of rumble (`rumble_frames`) bridged between noise frames: brown noise at
                   # -10 dB re speech dips under NOISE_LEVEL_DB for 50-70 ms at a time (20 ms hold
                   # only a few of its cycles); clean edges have no such gaps (CALIBRATION.md)
SOUND_HOLE = 8     # frames between two loud frames outside the text counted with them (`sound_between`):
                   # speech-like garbage at -10 dB re speech dips under NOISE_LEVEL_DB between its
                   # syllables; no clean take of eighteen draws has two loud frames outside the text
                   # with a gap between them that this changes (CALIBRATION.md)
CLICK_HOLE = 3     # frames between two clicking frames of a crackle that hold a quieter click or near
                   # silence (its clicks are sparse: 100-400 a second leave some 20 ms frames without one)
VOICED_MIN_RUN = 3  # a word's voicing: 3 voiced frames (40 ms)
VOICED_LEVEL_DB = -25.0
STOP_BURST_FRAMES = 2  # a plosive's release: broadband, 10-20 ms (two frames at a 10 ms hop)
SEARCH_S = 0.6     # a burst of up to 0.3 s plus the word's first (last) consonant
CHUNK = 16         # frames whose voicing is computed at once while searching for the first voiced run


def first_voiced(x: np.ndarray, sr: int, level_db: float, a: float, b: float) -> float | None:
    """Start of the first voiced frame (periodic, louder than VOICED_LEVEL_DB re speech) in [a, b]."""
    fr = _Frames(x, sr, level_db, a, b)
    i = fr.first_voiced_run(1)
    return None if i is None else float(fr.t[i])


def vowel_spans(x: np.ndarray, sr: int, level_db: float, a: float, b: float) -> list[tuple[float, float]]:
    """(start, end) of every run of >= VOICED_MIN_RUN frames in [a, b] as periodic as a vowel's
    steady part (YIN < VOWEL_APERIODICITY, louder than VOICED_LEVEL_DB re speech)."""
    fr = _Frames(x, sr, level_db, a, b)
    if fr.n == 0:
        return []
    return [(float(fr.t[s]), float(fr.t[e - 1] + FRAME_S))
            for s, e in true_runs(fr.voiced(0, fr.n, VOWEL_APERIODICITY, VOICED_MIN_RUN))
            if e - s >= VOICED_MIN_RUN]


def _noise_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True (end exclusive), merging runs split by at most MAX_HOLE frames,
    keeping those of >= MIN_RUN noise frames."""
    idx = np.nonzero(mask)[0]
    if idx.size == 0:
        return []
    runs, s, prev = [], idx[0], idx[0]
    for i in idx[1:]:
        if i - prev > MAX_HOLE + 1:
            runs.append((s, prev + 1))
            s = i
        prev = i
    runs.append((s, prev + 1))
    return [(a, b) for a, b in runs if mask[a:b].sum() >= MIN_RUN]


def _first_run(mask: np.ndarray, n: int) -> int | None:
    for i in range(len(mask) - n + 1):
        if mask[i:i + n].all():
            return i
    return None


def lead_noise(x: np.ndarray, sr: int, level_db: float, onset: float,
               text_start: float | None = None) -> tuple[float, float] | None:
    """(start, end) of noise glued to the speech before its first voiced sound,
    found from `onset` (where the sound starts); None when there is none. `text_start`: where
    an aligner put the first word (before it, unvoiced sound is noise: module doc)."""
    a = max(0.0, onset - 2 * HOP_S)
    fr = _Frames(x, sr, level_db, a, min(len(x) / sr, onset + SEARCH_S))
    fr.outside_text(start=text_start)
    if fr.n == 0:
        return None
    # no noise run can start before onset + TOUCH_S: known from the level alone, before any
    # voicing or spectrum is measured
    could = fr.could_be_noise()
    if not could.size or fr.t[could[0]] > onset + TOUCH_S:
        return None
    v = fr.first_voiced_run(VOICED_MIN_RUN)
    stop = fr.n if v is None else v
    runs = _noise_runs(fr.noise(0, stop))
    if not runs or fr.t[runs[0][0]] > onset + TOUCH_S:
        return None
    s, e = runs[-1]
    return float(fr.t[s]), float(fr.t[e - 1] + FRAME_S)


class Sound(NamedTuple):
    """Loud, not sibilant sound outside the text (`sound_between`), in seconds."""

    seconds: float     # its frames and the gaps bridged between them
    start: float       # its first frame's start
    end: float         # its last frame's end
    at_level_s: float  # its frames at or above AT_SPEECH_LEVEL_DB (no gap counted)


def sound_before(x: np.ndarray, sr: int, level_db: float, t: float) -> Sound | None:
    """Loud sound before `t` that is not shaped like a sibilant (`sound_between`). `t` is where
    an aligner that knows the text put its first word (listeners/aligner.py), so such sound is
    neither silence nor the word: garbage, voiced or not, glued or apart. A word's own /s/ /sh/
    left outside by the aligner is not counted; None when there is no such frame."""
    return sound_between(x, sr, level_db, 0.0, t)


def onset_like(x: np.ndarray, sr: int, level_db: float, a: float, b: float, loud_db: float) -> bool:
    """Whether the frames in [a, b] louder than `loud_db` (re speech) sound like the start of a
    word: a sibilant (/s/ /sh/) or voiced, breathy as a vowel after /h/ may be (YIN under
    VOICED_APERIODICITY), but for at most STOP_BURST_FRAMES others that are not impulsive (a
    plosive's release, as in "Potatoes", is broadband for 10-20 ms; a click is impulsive:
    kurtosis over CRACKLE_KURTOSIS). Broadband noise is neither, and 0.1 s of it is nine
    frames; quieter frames are not asked."""
    feat = frame_features(x, sr, level_db, a, b)
    word_like = (feat["low"] <= SIBILANT_LOW_DB) | (feat["aper"] < VOICED_APERIODICITY)
    other = ~word_like & (feat["level"] > loud_db)
    return (int(np.count_nonzero(other)) <= STOP_BURST_FRAMES
            and not np.any(other & (feat["kurt"] > CRACKLE_KURTOSIS)))


def sound_after(x: np.ndarray, sr: int, level_db: float, t: float) -> Sound | None:
    """`sound_before` mirrored: such sound after `t`, where the aligner ended the text's last
    word. Its `at_level_s` matters here: after the aligned end a word leaves its decay, a
    release or an accent's reduced vowel (clean: 3rd-loudest frame at most -5.3 dB, a Kokoro
    "Check this" said "Check thisu"), never a frame as loud as the speech itself, which is a
    syllable more (docs/CALIBRATION.md "As loud as the speech, after the text")."""
    return sound_between(x, sr, level_db, t, len(x) / sr)


def sound_between(x: np.ndarray, sr: int, level_db: float, a: float, b: float) -> Sound | None:
    """The 20 ms frames wholly in [a, b] (10 ms hop) louder than NOISE_LEVEL_DB re speech with
    more than SIBILANT_LOW_DB of their 1-8 kHz energy below 1 kHz, and the gaps of up to
    SOUND_HOLE frames between two of them; None when there is no such frame."""
    fr = _Frames(x, sr, level_db, a, b)
    rows = np.nonzero(fr.level > NOISE_LEVEL_DB)[0]
    if not rows.size:
        return None
    fr.need_shape(rows)
    loud = np.zeros(fr.n, dtype=bool)
    loud[rows[fr.low[rows] > SIBILANT_LOW_DB]] = True
    if not loud.any():
        return None
    # speech-like garbage swings as syllables do: its quieter moments between two loud ones
    # are the same sound, not silence, whatever their level
    sound = np.nonzero(_bridged(loud, np.ones_like(loud), SOUND_HOLE))[0]
    at_level = int(np.count_nonzero(loud & (fr.level >= AT_SPEECH_LEVEL_DB)))
    return Sound(round(sound.size * HOP_S, 3), float(fr.t[sound[0]]), float(fr.t[sound[-1]] + FRAME_S),
                 round(at_level * HOP_S, 3))


def tail_noise(x: np.ndarray, sr: int, level_db: float, offset: float,
               text_end: float | None = None) -> tuple[float, float] | None:
    """(start, end) of noise glued to the speech after its last voiced sound,
    searched back from `offset` (where the sound ends); None when there is none. `text_end`:
    where an aligner ended the last word (after it, unvoiced sound is noise: module doc)."""
    b = min(len(x) / sr, offset + 2 * HOP_S)
    fr = _Frames(x, sr, level_db, max(0.0, offset - SEARCH_S), b)
    fr.outside_text(end=text_end)
    if fr.n == 0:
        return None
    # ...nor end after offset - TOUCH_S (a word's decay is quieter than NOISE_LEVEL_DB by then)
    could = fr.could_be_noise()
    if not could.size or fr.t[could[-1]] + FRAME_S < offset - TOUCH_S:
        return None
    v = fr.first_voiced_run(VOICED_MIN_RUN, from_end=True)
    first = 0 if v is None else fr.n - v
    runs = _noise_runs(fr.noise(first, fr.n))
    if not runs or fr.t[first + runs[-1][1] - 1] + FRAME_S < offset - TOUCH_S:
        return None
    s, e = runs[0]
    return float(fr.t[first + s]), float(fr.t[first + e - 1] + FRAME_S)
