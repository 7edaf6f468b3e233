"""Sample-level checks: is the audio valid, how loud is it, is it clipped.

Also the small level helpers the edge metrics share (windowed RMS, the level of
the speech itself), so every "dB re speech" in this package means the same thing.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..core.jit import compiled
from ..core.types import Segment

#: |x| at or above this counts as full scale (int16 32735/32768 and up)
CLIP_LEVEL = 0.999
#: this many consecutive full-scale samples make a clipped run: a peak-normalised
#: waveform touches 0.999 for 1-4 samples at 48 kHz, a hard-clipped one sits there
MIN_CLIP_RUN = 3
#: floor for dB values, so silence reads as a very low number rather than -inf
FLOOR_DB = -120.0

DEFAULTS: dict[str, float] = {
    "clip_frac": 0.0005,
    "longest_clip_run_s": 0.0003,
}
"""Recommended limits (value must be <= limit to pass), measured by
bench/calibrate_detectors.py (docs/CALIBRATION.md):

- clip_frac 0.0005: the legacy limit, kept. Only samples inside runs count,
  so clean clips normalised to full scale read <= 0.00026; hard clipping after
  x2.5-x6 gain reads >= 0.0028 (100 %).
- longest_clip_run_s 0.0003 (0.3 ms): clean max 0.19 ms (3 samples at 16 kHz
  of a peak normalised to exactly 1.0); hard clipping 0.27-1.5 ms (99 %).
"""


@dataclass(frozen=True)
class LevelMetrics:
    """Loudness and clipping of one clip (dBFS: 0 dB = a full-scale sample)."""

    peak: float
    rms: float
    peak_dbfs: float
    rms_dbfs: float
    clip_frac: float          # share of samples inside clipped runs
    clip_runs: int            # runs of >= MIN_CLIP_RUN samples at |x| >= CLIP_LEVEL
    longest_clip_run: int     # samples
    longest_clip_run_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def db(x: float | np.ndarray) -> Any:
    """Amplitude ratio to dB with a floor (no -inf, no warnings)."""
    return np.maximum(20.0 * np.log10(np.maximum(np.asarray(x, dtype=np.float64), 1e-12)), FLOOR_DB)


def validate_audio(audio: Any, sample_rate: int) -> np.ndarray:
    """Return `audio` as 1-D float32 or raise ValueError saying what to fix."""
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer (Hz), got {sample_rate!r}")
    arr = np.asarray(audio)
    if arr.ndim != 1:
        if arr.ndim == 2 and 1 in arr.shape:
            hint = "squeeze it to 1-D with audio.reshape(-1)"
        elif arr.ndim == 2:
            hint = "mix it down to mono first, e.g. audio.mean(axis=1) for (samples, channels)"
        else:
            hint = "pass one mono clip as a 1-D array"
        raise ValueError(f"audio must be mono 1-D, got shape {arr.shape}; {hint}")
    if arr.size == 0:
        raise ValueError("audio is empty (0 samples): the engine returned nothing for this text")
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"audio must be numeric samples, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"audio must be float in [-1, 1], got integer dtype {arr.dtype}; "
                         f"divide by {np.iinfo(arr.dtype).max + 1} first")
    x = arr.astype(np.float32, copy=False)
    bad = ~np.isfinite(x)
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(f"audio has {int(bad.sum())} NaN/Inf samples (first at {first / sample_rate:.3f} s); "
                         "the model produced invalid output: check the checkpoint, dtype (fp16 overflow) and inputs")
    if float(np.max(np.abs(x))) < 1e-6:
        raise ValueError(f"audio is silent (peak below -120 dBFS over {x.size / sample_rate:.2f} s): "
                         "the engine produced no sound; check the voice prompt, the text and the vocoder")
    return x


def level_metrics(audio: np.ndarray, sample_rate: int | None = None) -> LevelMetrics:
    """Peak, RMS and hard-clipping statistics. `sample_rate` only feeds the *_s field."""
    x = np.abs(np.asarray(audio, dtype=np.float64).reshape(-1))
    if x.size == 0:
        raise ValueError("audio is empty (0 samples)")
    peak = float(x.max())
    rms = float(np.sqrt(np.mean(x ** 2)))
    runs = true_runs(x >= CLIP_LEVEL)
    runs = runs[runs[:, 1] - runs[:, 0] >= MIN_CLIP_RUN] if len(runs) else runs
    lengths = runs[:, 1] - runs[:, 0] if len(runs) else np.zeros(0, dtype=np.int64)
    longest = int(lengths.max()) if lengths.size else 0
    return LevelMetrics(
        peak=peak, rms=rms, peak_dbfs=float(db(peak)), rms_dbfs=float(db(rms)),
        clip_frac=float(lengths.sum() / x.size),
        clip_runs=int(lengths.size), longest_clip_run=longest,
        longest_clip_run_s=float(longest / sample_rate) if sample_rate else float("nan"),
    )


def true_runs(mask: np.ndarray) -> np.ndarray:
    """[start, end) index pairs of the True runs in a boolean array."""
    if not np.any(mask):
        return np.zeros((0, 2), dtype=np.int64)
    d = np.diff(np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]]))
    return np.stack([np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]], axis=1)


# ------------------------------------------------------------ shared level helpers

def window_rms(audio: np.ndarray, sample_rate: int, win_s: float, hop_s: float,
               start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """RMS of windows of `win_s` every `hop_s` inside audio[start:stop].

    Returns (window start times in seconds, rms). Cumulative sums make this
    O(n) whatever the window, so long windows on long clips stay cheap.
    """
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    stop = len(x) if stop is None else min(stop, len(x))
    start = max(0, start)
    win = max(1, round(win_s * sample_rate))
    hop = max(1, round(hop_s * sample_rate))
    if stop - start < win:
        if stop <= start:
            return np.zeros(0), np.zeros(0)
        seg = x[start:stop]
        return np.array([start / sample_rate]), np.array([np.sqrt(np.mean(seg ** 2))])
    idx = np.arange(0, stop - start - win + 1, hop)
    ((below, upto),) = _edge_energies(np.ascontiguousarray(x[start:stop]), [(idx, win)])
    power = np.maximum((upto - below) / win, 0.0)
    return (start + idx) / sample_rate, np.sqrt(power)


def window_rms_many(audio: np.ndarray, sample_rate: int,
                    windows: Sequence[tuple[float, float]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """`window_rms` of the whole clip for several (win_s, hop_s) at once: one pass over the
    samples instead of one each (the running sums at the windows' edges are the same
    numbers, summed in the same order, so each result has `window_rms`'s bits)."""
    x = np.ascontiguousarray(np.asarray(audio, dtype=np.float64).reshape(-1))
    sizes = [(max(1, round(win_s * sample_rate)), max(1, round(hop_s * sample_rate))) for win_s, hop_s in windows]
    starts = [np.arange(0, len(x) - win + 1, hop) for win, hop in sizes]
    sums = iter(_edge_energies(x, [(idx, win) for idx, (win, _) in zip(starts, sizes) if len(idx)]))
    out = []
    for (win_s, hop_s), (win, _), idx in zip(windows, sizes, starts):
        if len(idx) == 0:  # shorter than one window: window_rms's own answer
            out.append(window_rms(x, sample_rate, win_s, hop_s))
            continue
        below, upto = next(sums)
        out.append((idx / sample_rate, np.sqrt(np.maximum((upto - below) / win, 0.0))))
    return out


def _edge_energies(x: np.ndarray, windows: Sequence[tuple[np.ndarray, int]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each (window starts `idx`, length `win`): (c[idx], c[idx + win]) where
    c = [0, cumsum(x ** 2)], from one running sum over x. The same additions in the same
    order as numpy's cumsum (one per sample), so the same bits; but the sum is only kept
    where a window starts or ends, not as an array as long as the clip (three passes and
    temporaries of 13 MB each on a 73 s take, and the detectors call this eight times per
    take)."""
    if not windows:
        return []
    pos = np.concatenate([p for idx, win in windows for p in (idx, idx + win)])
    order = np.argsort(pos, kind="stable")
    energy = np.empty(len(pos))
    energy[order] = _energy_at(x, pos[order])
    out, k = [], 0
    for idx, _ in windows:
        out.append((energy[k:k + len(idx)], energy[k + len(idx):k + 2 * len(idx)]))
        k += 2 * len(idx)
    return out


@compiled
def _energy_at(x: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """c[p] for each p of the ascending `pos`, where c = [0, cumsum(x ** 2)]. The inner loop
    only adds, up to the next position (a test per sample took 2.5x as long)."""
    out = np.empty(len(pos))
    acc = 0.0
    p = 0
    for k in range(len(pos)):
        while p < pos[k]:
            v = x[p]
            acc = acc + v * v
            p += 1
        out[k] = acc
    return out


def speech_level_db(audio: np.ndarray, sample_rate: int, segments: Sequence[Segment]) -> float:
    """dBFS of the speech itself: power over the VAD segments, counting only
    20 ms windows within 40 dB of the loudest (so pauses inside a segment and a
    long silent tail do not drag it down). Without segments: the whole clip."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    parts = [x[int(s.start * sample_rate): int(np.ceil(s.end * sample_rate))] for s in segments]
    parts = [p for p in parts if p.size]
    body = np.concatenate(parts) if parts else x
    _, rms = window_rms(body, sample_rate, 0.02, 0.01)
    if rms.size == 0 or rms.max() <= 0:
        return FLOOR_DB
    active = rms[rms >= rms.max() * 10 ** (-40 / 20)]
    return float(db(np.sqrt(np.mean(active ** 2))))


#: background: 50 ms windows (the noise checks' window), kept this far from any VAD
#: speech edge so a decay or a soft onset the VAD was late on is not the room; the
#: median then outvotes the few that remain. Not further: prompts cut from
#: audiobooks keep only 0.25-0.35 s before and after the words (LibriVox clips in
#: tests/data/human), and a 0.2 s guard left them no room to measure
BACKGROUND_WIN_S = 0.05
BACKGROUND_HOP_S = 0.01
BACKGROUND_GUARD_S = 0.1
#: less non-speech than this says too little about a recording's room to rely on
BACKGROUND_MIN_S = 0.15
#: "silence" (a gap, a pause) and "consonant" stay this far above a take's own steady
#: background: a recording with a room 28 dB under its speech has no frame at -35 dB
#: re speech, and its room is neither a consonant nor a word (edges, pauses). The
#: detectors look at 10 ms windows, and those of a steady room reach +7 dB over its
#: 50 ms median (CMU ARCTIC a0007: p99 +5.9, max +6.7 dB); 10 dB clears that.
ROOM_MARGIN_DB = 10.0


def background_dbfs(audio: np.ndarray, sample_rate: int, segments: Sequence[Segment],
                    windows: tuple[np.ndarray, np.ndarray] | None = None) -> float | None:
    """Level of a recording's steady background in dBFS.

    The median 50 ms window away from speech (the room, hum, hiss), so one
    breath or click does not set it. None when there is less than
    BACKGROUND_MIN_S of such audio (a prompt trimmed tight to its words).
    `windows`: `window_rms(audio, sample_rate, BACKGROUND_WIN_S, BACKGROUND_HOP_S)`
    where the caller has it already (`window_rms_many`).
    """
    if windows is None:
        x = np.asarray(audio, dtype=np.float64).reshape(-1)
        windows = window_rms(x, sample_rate, BACKGROUND_WIN_S, BACKGROUND_HOP_S)
    t, rms = windows
    if rms.size == 0:
        return None
    away = np.ones(rms.size, dtype=bool)
    for s in segments:
        away &= (t + BACKGROUND_WIN_S <= s.start - BACKGROUND_GUARD_S) | (t >= s.end + BACKGROUND_GUARD_S)
    # windows overlap: count the seconds they cover, not the windows
    if not away.any() or (away.sum() - 1) * BACKGROUND_HOP_S + BACKGROUND_WIN_S < BACKGROUND_MIN_S:
        return None
    return float(np.median(db(rms[away])))


def background_db(audio: np.ndarray, sample_rate: int, segments: Sequence[Segment]) -> float | None:
    """`background_dbfs` in dB re the speech level (`speech_level_db`)."""
    bg = background_dbfs(audio, sample_rate, segments)
    return None if bg is None else bg - speech_level_db(audio, sample_rate, segments)
