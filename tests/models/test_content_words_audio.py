"""test_wer on real Piper speech: two swapped content words fail whatever WER says; the clean take passes."""
from __future__ import annotations

import pytest
from speech_corpus import stack_take

from pytest_luxgate.judging.analysis import analyze
from pytest_luxgate.judging.checks import judge
from pytest_luxgate.judging.thresholds import resolve

ASR = "faster-whisper:base"  # the gate's default ASR

TEXT = "The museum opens at nine in the morning, Monday to Friday, and on Sundays."
SWAPPED = "The stadium opens at nine in the morning, Monday to Friday, and on Mondays."


def test_swapped_content_words_fail_wer_with_the_words_named(piper_stack) -> None:
    audio, rate = stack_take(piper_stack, SWAPPED)
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
    audio, rate = stack_take(piper_stack, TEXT)
    ev = analyze(audio, rate, TEXT, ASR)
    result = judge("wer", ev, resolve())
    assert result.passed, result.message
    assert ev.content_words is not None and ev.content_words.count == 0


# a second, unrelated neural voice family (Kokoro-82M, male and female), never tuned on
KOKORO_PAIRS = [
    ("jm_kumo", "Please send the report to Denver by Friday afternoon.",
     "Please send the report to Boston by Monday afternoon."),
    ("jf_alpha", "The bakery sells fresh bread and warm cookies every morning.",
     "The bakery sells fresh cheese and warm cookies every evening."),
]


def _kokoro(text: str, voice: str, tmp_path_factory):
    import speech_corpus

    return speech_corpus.kokoro(text, tmp_path_factory.getbasetemp() / "kokoro", voice=voice)


@pytest.mark.parametrize(("voice", "text", "swapped"), KOKORO_PAIRS, ids=[p[0] for p in KOKORO_PAIRS])
def test_a_kokoro_voice_passes_clean_and_fails_swapped(voice: str, text: str, swapped: str,
                                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    clean = analyze(*_kokoro(text, voice, tmp_path_factory), text, ASR)
    assert judge("wer", clean, resolve()).passed, clean.transcript.text
    bad = analyze(*_kokoro(swapped, voice, tmp_path_factory), text, ASR)
    result = judge("wer", bad, resolve())
    assert not result.passed and "content_word_errors 2" in result.message, (bad.transcript.text, result.message)


# a word the text does not have, said by the take (a hallucinated word), in a sentence WER alone passes
LIBRARY = "The library closes early on public holidays."
LIBRARY_ADDED = "The library closes early on public holidays quickly."


def test_an_added_content_word_fails_wer_with_the_word_named(piper_stack) -> None:
    bad = analyze(*stack_take(piper_stack, LIBRARY_ADDED), LIBRARY, ASR)
    assert bad.wer.wer <= resolve()["wer"]  # one extra word in eight
    result = judge("wer", bad, resolve())
    assert not result.passed, bad.transcript.text
    assert "content_word_errors 1" in result.message and "“quickly” added" in result.message
    clean = analyze(*stack_take(piper_stack, LIBRARY), LIBRARY, ASR)
    assert judge("wer", clean, resolve()).passed, clean.transcript.text
