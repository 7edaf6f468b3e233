"""Waveform + spectrogram picture of one take, for the HTML report.

matplotlib (the `html` extra) with the Agg canvas on a bare `Figure`: no
pyplot, so no global figure state and no GUI backend is ever touched. The
picture marks what the checks talk about: speech onset/offset, chunk seams,
and the times named by failing checks. Audio is reduced before drawing (a
min/max envelope per pixel column, a spectrogram hop chosen for ~the plot's
width), so the cost stays near-constant per take instead of growing with
the sample count.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

#: the spectrogram shows speech up to here (formants and fricatives); above
#: is mostly empty for 16-24 kHz TTS output and would squash the useful band
MAX_FREQ_HZ = 8000.0


class PlotsUnavailable(RuntimeError):
    """matplotlib is not installed; the message says how to get it."""


@dataclass(frozen=True)
class Marks:
    """Times (seconds) to draw on a take's picture."""

    onset_s: float | None = None
    offset_s: float | None = None
    seams: Sequence[float] = ()
    #: (label, start, end or None for an instant) from failing checks
    failures: Sequence[tuple[str, float, float | None]] = field(default_factory=tuple)


def available() -> bool:
    """Whether matplotlib is installed, without importing it (~0.3 s): a warm rerun whose plots
    all come from the cache never needs it, and take_image imports it when it draws."""
    import importlib.util

    try:
        return importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):
        return False


def waveform_envelope(audio: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of `audio` in `columns` equal slices (what a plot of that width can show)."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if columns <= 0:
        raise ValueError(f"columns must be positive, got {columns}")
    if audio.size == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    columns = min(columns, audio.size)
    edges = np.linspace(0, audio.size, columns + 1).astype(np.int64)
    # reduceat over slice starts: one pass, no Python loop per column
    return np.minimum.reduceat(audio, edges[:-1]), np.maximum.reduceat(audio, edges[:-1])


#: MIME type of what take_image returns
IMAGE_MIME = "image/jpeg"


def take_image(audio: np.ndarray, sample_rate: int, marks: Marks, *,
               width_px: int = 960, height_px: int = 380) -> bytes:
    """JPEG bytes: waveform (top) and spectrogram (bottom) on one time axis, with `marks`.

    JPEG rather than PNG: a spectrogram is photo-like texture, and on a 12 s
    take the PNG was 350 kB against 70 kB at quality 80 with the lines and
    labels still crisp; every image is inlined in the report, so size counts.
    """
    try:
        from matplotlib import colormaps
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotsUnavailable("matplotlib is not installed: pip install 'pytest-luxgate[html]' "
                               "for waveform and spectrogram plots") from None
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size == 0 or sample_rate <= 0:
        raise ValueError("no audio to plot")
    duration = audio.size / sample_rate
    dpi = 100
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    # fixed margins, not a layout engine: constrained layout measured a third of the draw time
    wave_ax, spec_ax = fig.subplots(2, 1, sharex=True, gridspec_kw={
        "height_ratios": [1, 1.5], "left": 64 / width_px, "right": 1 - 12 / width_px,
        "top": 1 - 8 / height_px, "bottom": 42 / height_px, "hspace": 0.14})

    lo, hi = waveform_envelope(audio, width_px)
    t = (np.arange(lo.size) + 0.5) * (duration / max(lo.size, 1))
    wave_ax.fill_between(t, lo, hi, color="#3b6ea5", linewidth=0)
    wave_ax.set_ylim(-1.05, 1.05)
    wave_ax.set_yticks([-1, 0, 1])
    wave_ax.set_ylabel("amplitude")

    nfft = 512 if sample_rate >= 16000 else 256
    # hop so the image has about one frame per pixel column (never finer than nfft/4)
    hop = max(nfft // 4, audio.size // width_px)
    # digital silence has zero power: -inf dB, drawn as the colormap's floor, not as a gap
    cmap = colormaps["magma"].with_extremes(bad="black", under="black")
    with np.errstate(divide="ignore"):
        spec_ax.specgram(audio, NFFT=nfft, Fs=sample_rate, noverlap=max(0, nfft - hop),
                         cmap=cmap, scale="dB", vmin=-110, vmax=-20)
    spec_ax.set_ylim(0, min(MAX_FREQ_HZ, sample_rate / 2))
    spec_ax.yaxis.set_major_formatter(lambda v, _pos: f"{v / 1000:g}k")
    spec_ax.set_ylabel("Hz")
    spec_ax.set_xlabel("seconds")
    spec_ax.set_xlim(0, duration)

    handles = {}
    for ax in (wave_ax, spec_ax):
        for value in (marks.onset_s, marks.offset_s):
            if value is not None:
                handles["onset/offset"] = ax.axvline(value, color="#2ca02c", linestyle="--", linewidth=1.4)
        for s in marks.seams:
            handles["seam"] = ax.axvline(s, color="#17becf", linestyle=":", linewidth=1.6)
        for label, start, end in marks.failures:
            if end is not None and end > start:
                handles["failure"] = ax.axvspan(start, end, color="#d62728", alpha=0.28, linewidth=0)
            else:
                handles["failure"] = ax.axvline(start, color="#d62728", linewidth=1.8)
    for label, start, _end in marks.failures:
        wave_ax.annotate(label, (start, 1.0), xytext=(2, -2), textcoords="offset points",
                         color="#d62728", fontsize=8, va="top")
    if handles:
        wave_ax.legend(handles.values(), handles.keys(), loc="lower right", fontsize=7,
                       ncols=len(handles), framealpha=0.8)
    buf = io.BytesIO()
    fig.savefig(buf, format="jpg", dpi=dpi, pil_kwargs={"quality": 80, "optimize": True})
    return buf.getvalue()
