"""`analyze` resamples a take to 16 kHz once and hands that to the VAD and the loop search
(judging/analysis.py); each made the same soxr call itself before, so what they find from
the 16 kHz copy must equal what they find from the take, at every rate a stack gives."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from pytest_luxgate.listeners.vad import VAD_RATE, speech_segments, to_16k
from pytest_luxgate.metrics.loops import audio_loops

HUMAN = Path(__file__).resolve().parents[1] / "data" / "human"


@pytest.mark.parametrize("rate", [16_000, 22_050, 24_000, 44_100, 48_000])
def test_vad_and_loops_on_the_shared_16k_copy(rate: int) -> None:
    speech, sr = sf.read(HUMAN / "arctic_a0007.wav", dtype="float32")
    # the sentence twice with a pause: a loop to find, and speech up to the last sample
    audio = np.concatenate([speech, np.zeros(sr // 3, dtype=np.float32), speech])
    if rate != sr:
        audio = soxr.resample(audio, sr, rate).astype(np.float32)
    x16 = to_16k(audio, rate)
    assert speech_segments(x16, VAD_RATE, duration_s=len(audio) / rate) == speech_segments(audio, rate)
    assert audio_loops(x16, VAD_RATE) == audio_loops(audio, rate)
