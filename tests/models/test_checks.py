"""Checks on real Piper speech: verdicts both ways and messages a person can act on."""
from __future__ import annotations

import numpy as np
import pytest

from pytest_luxgate.judging.analysis import analyze
from pytest_luxgate.judging.checks import judge
from pytest_luxgate.judging.thresholds import resolve

ASR = "faster-whisper:tiny.en"


def _speak(stack, text: str, seed: int = 3, **params) -> tuple[np.ndarray, int]:
    out = stack.synthesize(text, None, {**stack.default_params(), **params}, seed)
    return out.audio, out.sample_rate


def _judge(audio: np.ndarray, rate: int, text: str, name: str):
    return judge(name, analyze(audio, rate, text, ASR), resolve())


def test_rate_passes_normal_speech_and_catches_a_collapsed_duration(piper_stack) -> None:
    text = "Please call me back when you have a moment this afternoon."
    audio, rate = _speak(piper_stack, text)
    assert _judge(audio, rate, text, "rate").passed
    slow, rate = _speak(piper_stack, text, length_scale=3.2)
    result = _judge(slow, rate, text, "rate")
    assert not result.passed
    assert "rate_min_sps" in result.message and "syllables" in result.message


def test_legitimate_repeats_in_the_text_pass(piper_stack) -> None:
    text = "No, no, no, I said no. It was very, very late."
    audio, rate = _speak(piper_stack, text)
    assert _judge(audio, rate, text, "repeat").passed


def test_a_looped_phrase_fails_and_names_where(piper_stack) -> None:
    text = "We walked along the river and talked about the weekend plans."
    audio, rate = _speak(piper_stack, text)
    ev = analyze(audio, rate, text, ASR)
    words = ev.transcript.words
    # play "along the river" twice: the loop a TTS falls into, glued in place
    a = next(w for w in words if w.text.lower().startswith("along")).start
    b = next(w for w in words if w.text.lower().startswith("river")).end
    i, j = int(a * rate), int(b * rate)
    looped = np.concatenate([audio[:j], audio[i:j], audio[j:]])
    result = _judge(looped, rate, text, "repeat")
    assert not result.passed
    assert "repeat" in result.message or "loop_s" in result.message
    assert " s" in result.message  # a time in the audio, or the repeated words


def test_wer_failure_shows_the_word_diff(piper_stack) -> None:
    said = "The invoice was paid on Tuesday morning."
    audio, rate = _speak(piper_stack, said)
    result = _judge(audio, rate, "The invoice was lost on Friday evening.", "wer")
    assert not result.passed
    assert result.value > result.threshold
    for word in ("lost", "friday", "evening"):
        assert word in result.message.lower()


def test_noise_before_speech_fails_start_with_its_level(piper_stack) -> None:
    text = "Fine, let us begin the meeting now."
    audio, rate = _speak(piper_stack, text)
    assert _judge(audio, rate, text, "start").passed
    rng = np.random.default_rng(0)
    hiss = (0.05 * rng.standard_normal(int(0.6 * rate))).astype(np.float32)
    result = _judge(np.concatenate([hiss, audio]), rate, text, "start")
    assert not result.passed
    assert "dB" in result.message or "lead_garbage_s" in result.message


def test_cut_off_ending_fails_tail(piper_stack) -> None:
    text = "Thanks for listening to the whole announcement."
    audio, rate = _speak(piper_stack, text)
    assert _judge(audio, rate, text, "tail").passed
    ev = analyze(audio, rate, text, ASR)
    last = ev.transcript.words[-1]
    cut = audio[: int((last.start + 0.5 * (last.end - last.start)) * rate)]
    result = _judge(cut, rate, text, "tail")
    assert not result.passed


@pytest.mark.parametrize("name", ["wer", "repeat", "start", "tail", "clipping", "rate"])
def test_every_check_passes_clean_speech(piper_take, name: str) -> None:
    audio, rate, text = piper_take
    result = _judge(audio, rate, text, name)
    assert result.passed, result.message


def test_an_alignment_made_elsewhere_is_the_one_analyze_would_make(piper_take) -> None:
    """The runner aligns a take on its side thread (run/runner._Made.aligned) and hands the result
    to analyze: the evidence is the same as when analyze aligns it, and the handed span is the one
    used (a span 0.3 s later leaves the first word's sound before the text)."""
    from dataclasses import replace
    from functools import partial

    from pytest_luxgate.listeners.aligner import text_span

    audio, rate, text = piper_take
    own = analyze(audio, rate, text, ASR)
    handed = analyze(audio, rate, text, ASR, aligned=partial(text_span, audio, rate, text))
    assert handed.details() == own.details()
    span = text_span(audio, rate, text)
    assert span is not None and own.start.text_start_s == span.start_s
    late = replace(span, start_s=span.start_s + 0.3)
    moved = analyze(audio, rate, text, ASR, aligned=lambda: late)
    assert moved.start.text_start_s == pytest.approx(late.start_s)
    assert moved.start.before_text_s > own.start.before_text_s, (moved.start, own.start)
