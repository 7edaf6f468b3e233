"""test_wer on real Piper speech: two swapped content words fail whatever WER says; the clean take passes."""
from __future__ import annotations

from pytest_luxgate.judging.analysis import analyze
from pytest_luxgate.judging.checks import judge
from pytest_luxgate.judging.thresholds import resolve

ASR = "faster-whisper:base"  # the gate's default ASR

TEXT = "The museum opens at nine in the morning, Monday to Friday, and on Sundays."
SWAPPED = "The stadium opens at nine in the morning, Monday to Friday, and on Mondays."


def _take(stack, text: str):
    out = stack.synthesize(text, None, stack.default_params(), 3)
    return out.audio, out.sample_rate


def test_swapped_content_words_fail_wer_with_the_words_named(piper_stack) -> None:
    audio, rate = _take(piper_stack, SWAPPED)
    ev = analyze(audio, rate, TEXT, ASR)
    assert all(w.probability is not None for w in ev.transcript.words)  # faster-whisper fills it
    assert ev.wer.wer <= resolve()["wer"]  # WER alone would pass this take
    result = judge("wer", ev, resolve())
    assert not result.passed
    assert "content_word_errors 2" in result.message
    assert "“museum” heard as “stadium”" in result.message
    assert "“sundays” heard as “mondays”" in result.message
    assert "[-museum-]{+stadium+}" in result.message


def test_the_clean_take_passes(piper_stack) -> None:
    audio, rate = _take(piper_stack, TEXT)
    ev = analyze(audio, rate, TEXT, ASR)
    result = judge("wer", ev, resolve())
    assert result.passed, result.message
    assert ev.content_words is not None and ev.content_words.count == 0
