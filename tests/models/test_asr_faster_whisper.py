"""The default ASR backend on real speech: bundled weights, long clips, determinism."""
from __future__ import annotations

import numpy as np
import pytest

from pytest_luxgate.asr import ASRError, get_asr
from pytest_luxgate.asr.bundled import whisper_model_dir
from pytest_luxgate.metrics.text import normalize_words, word_error
from pytest_luxgate.matrix.prompts import DEFAULT_FILE, load_prompts, read_prompt_audio


@pytest.fixture(scope="module")
def prompts() -> list[tuple[np.ndarray, int, str]]:
    out = []
    for p in load_prompts(DEFAULT_FILE):
        audio, rate = read_prompt_audio(p)
        out.append((audio, rate, p.text))
    return out


@pytest.mark.parametrize("model", ["tiny.en", "base"])
def test_bundled_model_transcribes_real_speech(model: str, prompts) -> None:
    asr = get_asr(f"faster-whisper:{model}")
    audio, rate, text = prompts[0]
    t = asr.transcribe(audio, rate)
    assert word_error(text, t.text).wer <= 0.1, t.text
    assert t.words and all(0 <= w.start <= w.end <= len(audio) / rate + 0.05 for w in t.words)
    assert model in t.model
    assert get_asr(f"faster-whisper:{model}") is asr, "a model must load once per process"


def test_base_weights_are_joined_once() -> None:
    first = whisper_model_dir("base")
    assert (first / "model.bin").stat().st_size > 100e6
    assert whisper_model_dir("base") == first


def test_clip_longer_than_30s_is_transcribed_completely(prompts) -> None:
    audio_a, rate, text_a = prompts[0]
    gap = np.zeros(int(0.4 * rate), dtype=np.float32)
    n = 8  # ~40 s
    long = np.concatenate([np.concatenate([audio_a, gap]) for _ in range(n)])
    assert len(long) / rate > 30
    t = get_asr("faster-whisper:base").transcribe(long, rate)
    heard = normalize_words(t.text)
    expected = normalize_words(text_a)
    assert abs(len(heard) - n * len(expected)) <= n, t.text
    assert heard[-3:] == expected[-3:], "the last window was lost"
    assert t.words[-1].end > 30


def test_same_audio_same_transcript(prompts) -> None:
    audio, rate, _ = prompts[1]
    asr = get_asr("faster-whisper:tiny.en")
    assert asr.transcribe(audio, rate) == asr.transcribe(audio, rate)


def test_unknown_backend_and_missing_dir_are_clear(tmp_path) -> None:
    with pytest.raises(ASRError, match="unknown ASR backend 'nope'"):
        get_asr("nope:model")
    with pytest.raises(ASRError, match="no model.bin"):
        get_asr(f"faster-whisper:{tmp_path}")
