"""What a join between two chunk takes sounds like: click, loudness jump, timbre jump.

Pure functions of (audio, rate, seam times). Three things go wrong at a join:

- a click or discontinuity: a sample-level jump (a cut without crossfade,
  a stray impulse) is broadband, so it shows above 6 kHz where voiced speech
  has almost no energy. The score is the loudest 0.5 ms of high-passed energy
  near the seam in dB above the louder of the typical (median) levels of the
  10 ms just before and just after it: a step from silence into a fricative
  is no transient, a click stands out from both sides.
- a loudness jump: the speech level (power of the active 20 ms frames) of the
  stretch before the seam vs the stretch after it, each reaching to the
  neighbouring seam or the end of the audio, i.e. chunk vs chunk. Shorter
  windows were measured and rejected: over the nearest 0.3 s of speech clean
  Piper joins already differ by up to 17 dB (0.6 s: 10.5 dB), because phrase
  ends are quiet and phrase starts loud, so a 6 dB fault drowns (docs/SEAMS.md).
- a spectral-envelope jump: the level-free long-term spectrum of the voiced
  frames of the same two stretches in mel bands; RMS difference over bands,
  in dB. Voiced frames only, because how many fricatives a chunk happens to
  hold moves the all-frame spectrum of clean joins by up to 9.4 dB.

Loudness and timbre need speech on both sides and are None otherwise. The
constants were calibrated in bench/calibrate_seams.py (docs/SEAMS.md).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .level import FLOOR_DB, db, window_rms

HP_HZ = 6000.0          # voiced speech has almost nothing up here; clicks are broadband
CLICK_WIN_S = 0.0005    # a click is 0.1-2 ms; a plosive burst lasts 5-30 ms and fills its context too
CLICK_HOP_S = 0.00025
CLICK_GUARD_S = 0.001   # the context leaves out +-1 ms around the candidate...
CLICK_CTX_S = 0.010     # ...and reaches 10 ms either side
CLICK_SEARCH_S = 0.015  # a seam's click may sit anywhere inside the crossfade (+- half of 30 ms)
CLICK_FLOOR_DB = -70.0  # high-passed energy floor re speech level: digital silence is not -inf
FRAME_S = 0.02          # level/spectrum frames
ACTIVE_DB = -30.0       # a frame within 30 dB of the loud frames near it is speech
MIN_ACTIVE_S = 0.2      # less speech than this on a side: no loudness/timbre value
VOICED_HZ = 1000.0      # a frame with half its power below this is voiced (vowel, nasal, approximant)
MEL_BANDS = 24
MEL_LO_HZ, MEL_HI_HZ = 100.0, 8000.0
SCAN_REPORT_DB = 10.0   # click_scan lists transients at least this far above their context

DEFAULTS: dict[str, float] = {
    "seam_click_db": 10.0,
    "seam_level_jump_db": 5.5,
    "seam_spectral_jump_db": 10.0,
    "click_scan_db": 45.0,
}
"""Recommended limits (value must be <= limit; the level jump as an absolute
value). Measured in bench/calibrate_seams.py on 275 clean joins of Piper and
espeak-ng speech and the same joins spoiled (docs/SEAMS.md):

- seam_click_db 10: clean joins reach 6.4 dB, an injected 3-sample click
  27 dB or more (48 dB typically); a hard cut inside voiced speech reads
  3.9-47 dB and 94 % of cuts exceed 10 (the rest land where the two
  waveforms happen to meet, and are the least audible).
- seam_level_jump_db 5.5: clean joins differ by up to 5.1 dB chunk to chunk
  (Piper normalises every pass to its peak; the same text in one pass varies
  up to 6.9 dB between phrases), so a +-6 dB fault is caught wherever it does
  not happen to undo a natural difference: 68 % of joins (espeak-ng 81 %,
  Piper 57 %). A tighter limit would fail clean Piper joins.
- seam_spectral_jump_db 10: clean joins reach 7.2 dB, a chunk low-passed at
  3 kHz 12.1 dB or more.
- click_scan_db 45 (whole file, seam times unknown): plosive bursts and
  espeak-ng's own edges reach 41 dB in clean speech, a click in a pause
  27-71 dB (>= 45 for 94 % of clicks at 0.05 x peak); a click inside voiced
  speech mostly stays below it. Give the seam times where you have them.
"""


@dataclass(frozen=True)
class Seam:
    """One join, measured."""

    index: int                          # 0-based, in time order
    time_s: float
    click_db: float                     # loudest 1 ms above 4 kHz re its context, dB
    click_at_s: float | None
    level_jump_db: float | None         # speech level after - before
    spectral_jump_db: float | None      # RMS over mel bands of the level-free spectra
    level_before_db: float | None = None
    level_after_db: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SeamMetrics:
    seams: tuple[Seam, ...]

    @property
    def count(self) -> int:
        return len(self.seams)

    def worst(self, field: str) -> Seam | None:
        """The seam with the largest |field| (None when no seam has a value)."""
        scored = [s for s in self.seams if getattr(s, field) is not None]
        return max(scored, key=lambda s: abs(getattr(s, field)), default=None)

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "seams": [s.to_dict() for s in self.seams]}


def seam_metrics(audio: np.ndarray, rate: int, seams: Sequence[float]) -> SeamMetrics:
    """Measure each seam (seconds); seams outside the audio are an error."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    duration = len(x) / rate
    bad = [t for t in seams if not 0 <= t <= duration]
    if bad:
        raise ValueError(f"seam time(s) {bad} outside the audio (0-{duration:.2f} s)")
    if not len(seams):
        return SeamMetrics(())
    level = _speech_level(x, rate)
    frames_t, frames_db = _frames(x, rate)
    times = sorted(float(s) for s in seams)
    bounds = [0.0, *times, duration]
    out = []
    for i, t in enumerate(times):
        click_db, click_at = _click_at(x, rate, t, level)
        before = _side(x, rate, frames_t, frames_db, level, bounds[i], t)
        after = _side(x, rate, frames_t, frames_db, level, t, bounds[i + 2])
        jump = spectral = None
        if before is not None and after is not None:
            jump = round(after[0] - before[0], 2)
            if before[1] is not None and after[1] is not None:
                spectral = round(float(np.sqrt(np.mean((after[1] - before[1]) ** 2))), 2)
        out.append(Seam(i, round(t, 3), round(click_db, 2), click_at, jump, spectral,
                        None if before is None else round(before[0], 2),
                        None if after is None else round(after[0], 2)))
    return SeamMetrics(tuple(out))


def click_scan(audio: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """Every transient standing SCAN_REPORT_DB or more above its context: (time_s, score_db)."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    level = _speech_level(x, rate)
    t, score = _contrast(_highpass(x, rate), rate, level, 0, len(x))
    hits = np.nonzero(score >= SCAN_REPORT_DB)[0]
    out: list[tuple[float, float]] = []
    for i in hits:  # one entry per transient: the best window within +-CLICK_GUARD_S
        if out and t[i] - out[-1][0] <= CLICK_GUARD_S:
            if score[i] > out[-1][1]:
                out[-1] = (float(t[i]), float(score[i]))
            continue
        out.append((float(t[i]), float(score[i])))
    return [(round(a, 4), round(b, 2)) for a, b in out]


# ----------------------------------------------------------------- helpers

def _speech_level(x: np.ndarray, rate: int) -> float:
    """dB of the loud part of the clip (95th percentile of 20 ms windows)."""
    _, rms = window_rms(x, rate, FRAME_S, FRAME_S / 2)
    return float(np.percentile(db(rms), 95)) if rms.size else FLOOR_DB


def _highpass(x: np.ndarray, rate: int) -> np.ndarray:
    """Zero-phase high-pass above HP_HZ (raised-cosine edge an octave wide, FFT);
    at low sample rates the band is the top quarter below Nyquist instead."""
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / rate)
    cutoff = min(HP_HZ, 0.75 * rate / 2)
    lo = cutoff / 2
    gain = np.clip((f - lo) / (cutoff - lo), 0.0, 1.0)
    spec *= 0.5 - 0.5 * np.cos(np.pi * gain)
    return np.fft.irfft(spec, n=len(x))


def _contrast(hp: np.ndarray, rate: int, level_db: float, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """(window times, dB of each 1 ms window above the louder median of its two contexts)."""
    t, rms = window_rms(hp, rate, CLICK_WIN_S, CLICK_HOP_S, a, b)
    lv = np.maximum(db(rms), level_db + CLICK_FLOOR_DB)
    g, k = int(round(CLICK_GUARD_S / CLICK_HOP_S)), int(round(CLICK_CTX_S / CLICK_HOP_S))
    if lv.size == 0:
        return t, lv
    pad = np.pad(lv, k, mode="edge")
    win = sliding_window_view(pad, 2 * k + 1)
    before = np.median(win[:, : k - g], axis=1)
    after = np.median(win[:, k + g + 1:], axis=1)
    return t + CLICK_WIN_S / 2, lv - np.maximum(before, after)


def _click_at(x: np.ndarray, rate: int, t: float, level_db: float) -> tuple[float, float | None]:
    """Loudest transient contrast within CLICK_SEARCH_S of t, and where it is."""
    reach = CLICK_SEARCH_S + CLICK_CTX_S + CLICK_WIN_S
    # high-pass only a stretch around the seam: 50 ms beyond what is read keeps the
    # FFT's wrap-around at the stretch's edges (a ~1 ms ringing) out of the result
    lo, hi = max(0, int((t - reach - 0.05) * rate)), min(len(x), int(np.ceil((t + reach + 0.05) * rate)))
    hp = _highpass(x[lo:hi], rate)
    a, b = int((t - reach) * rate) - lo, int(np.ceil((t + reach) * rate)) - lo
    times, score = _contrast(hp, rate, level_db, max(0, a), min(len(hp), b))
    times = times + lo / rate
    near = np.abs(times - t) <= CLICK_SEARCH_S
    if not near.any():
        return 0.0, None
    i = int(np.argmax(np.where(near, score, -np.inf)))
    return float(score[i]), round(float(times[i]), 4)


def _frames(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    t, rms = window_rms(x, rate, FRAME_S, FRAME_S / 2)
    return t, db(rms)


def _side(x: np.ndarray, rate: int, frames_t: np.ndarray, frames_db: np.ndarray, level_db: float,
          a: float, b: float) -> tuple[float, np.ndarray | None] | None:
    """(speech level dB, level-free mel spectrum dB) of the speech between a and b seconds."""
    idx = np.nonzero((frames_t >= a) & (frames_t + FRAME_S <= b))[0]
    if not idx.size:
        return None
    # active = within ACTIVE_DB of this side's own loud frames, so that a chunk 6 dB
    # quieter keeps the same frames (a threshold from the whole take would drop its
    # soft frames and bias its level up); a side without speech-level sound has none
    own = float(np.percentile(frames_db[idx], 95))
    active = idx[frames_db[idx] >= own + ACTIVE_DB]
    if own < level_db + ACTIVE_DB or len(active) * FRAME_S / 2 < MIN_ACTIVE_S:
        return None
    power = np.mean(10 ** (frames_db[active] / 10))
    n = int(round(FRAME_S * rate))
    starts = np.round(frames_t[active] * rate).astype(int)
    starts = starts[starts + n <= len(x)]
    spectra = np.abs(np.fft.rfft(x[starts[:, None] + np.arange(n)] * np.hanning(n), axis=1)) ** 2
    low = np.fft.rfftfreq(n, 1.0 / rate) < VOICED_HZ
    voiced = spectra[spectra[:, low].sum(axis=1) >= 0.5 * spectra.sum(axis=1)]
    if len(voiced) * FRAME_S / 2 < MIN_ACTIVE_S:
        return float(10 * np.log10(power)), None
    bands = 10 * np.log10(_mel_matrix(n, rate) @ voiced.mean(axis=0) + 1e-20)
    return float(10 * np.log10(power)), bands - bands.mean()


def _mel_matrix(n_fft: int, rate: int) -> np.ndarray:
    """Triangular mel filters (HTK mel scale) over the rfft bins of an n_fft frame."""
    hi = min(MEL_HI_HZ, rate / 2)
    mel = np.linspace(2595 * np.log10(1 + MEL_LO_HZ / 700), 2595 * np.log10(1 + hi / 700), MEL_BANDS + 2)
    edges = 700 * (10 ** (mel / 2595) - 1)
    f = np.fft.rfftfreq(n_fft, 1.0 / rate)
    lo, mid, top = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.maximum(0.0, np.minimum((f - lo) / (mid - lo), (top - f) / (top - mid)))
