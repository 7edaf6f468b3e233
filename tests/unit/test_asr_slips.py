"""The recogniser's slips on clean speech that test_wer excuses, and the faults it must still fail
(metrics/content_words.py: rare words heard close, sounds-alike WER regions). Pure: word lists in."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from pytest_luxgate.core.types import Transcript
from pytest_luxgate.metrics.content_words import (
    content_word_errors,
    is_rare_word,
    rare_words,
    sounds_alike_wer,
)
from pytest_luxgate.metrics.text import word_error

BRAND = "Quick quality check for LuxTTS."
PAUSES = "Wait... are you sure? I mean, really sure; because this test mixes pauses, commas, and emphasis."
MUSEUM = "The museum opens at nine in the morning, Monday to Friday, and on Sundays."


def _cw(text: str, heard: str, rare: bool = True, p: float = 0.95):
    w = word_error(text, heard)
    return content_word_errors(w, [p] * len(w.hyp_words), rare=rare_words(text) if rare else None)


def test_rare_words_are_judged_as_written():
    assert rare_words(BRAND) == {"lux", "tts"}  # "LuxTTS" is rare; the normaliser splits it
    assert rare_words(MUSEUM) == set()
    assert is_rare_word("LuxTTS,") and not is_rare_word("Sundays") and not is_rare_word("Boston")
    assert not is_rare_word("2019") and not is_rare_word("")  # numbers are never rare


def test_a_rare_brand_name_heard_close_is_excused():
    c = _cw(BRAND, "Quick quality check for LuxTPS.")  # tts/tps 0.167: over the common-word 0.12
    assert c.count == 0 and c.excused[0]["why"] == "rare word, sounds close"
    assert _cw(BRAND, "Quick quality check for LuxTPS.", rare=False).count == 1  # the rule off: an error


def test_a_rare_word_heard_far_and_a_common_word_swapped_still_count():
    assert _cw(BRAND, "Quick quality check for Lux Bakery.").count == 1  # far from "tts"
    c = _cw(MUSEUM, "The museum opens at nine in the morning, Monday to Friday, and on Mondays.")
    assert c.count == 1 and c.errors[0]["ref"] == ["sundays"]  # 0.143, a common word: still wrong
    text = "Install the update from the LuxTTS website tonight."  # a rare word beside a common swap
    assert _cw(text, "Install the update from the LuxTTS website tomorrow.").count == 1


def test_a_sounds_alike_segmentation_is_not_counted():
    w = word_error(PAUSES, "Wait, are you sure? I mean, really sure, because this test makes us pause "
                           "as calm as an emphasis.")
    assert w.wer > 0.4
    s = sounds_alike_wer(w)
    assert s.errors == 0 and s.wer == 0.0
    assert s.excused[0]["ref"] == ["mixes", "pauses", "commas", "and"] and s.excused[0]["errors"] == w.errors


@pytest.mark.parametrize("heard", [
    "Wait, are you sure? I mean, because this test mixes emphasis.",  # words dropped
    "Wait, are you sure? I mean, really sure, really sure, really sure; because this test mixes pauses, "
    "commas, and emphasis.",  # a phrase repeated
    "The museum opens at nine in the morning, Monday to Friday, and on Sundays.",  # another text
    "Sis sa emphasis commas pauses mixes test this because sure really.",  # garbled
])
def test_dropped_repeated_and_other_words_still_count(heard):
    w = word_error(PAUSES, heard)
    assert sounds_alike_wer(w).wer > 0.20 and w.wer > 0.20
    assert sounds_alike_wer(w).errors >= w.errors - 2  # at most a sounds-alike pair beside the fault


def test_a_wrong_number_is_never_sounds_alike():
    w = word_error("Your order of 250 dollars ships today.", "Your order of 350 dollars ships today.")
    assert sounds_alike_wer(w).errors == w.errors == 1
    w = word_error("Go 2 the shop.", "Go to the shop.")
    assert sounds_alike_wer(w).errors == 0  # the same sounds


def test_check_wer_judges_the_counted_wer_and_reports_the_raw_one():
    from pytest_luxgate.judging.checks import judge
    from pytest_luxgate.judging.thresholds import resolve

    heard = "Wait, are you sure? I mean, really sure, because this test makes us pause as calm as an emphasis."
    w = word_error(PAUSES, heard)
    unsure = [0.33 if x in ("calm", "us") else 0.9 for x in w.hyp_words]  # as Whisper heard it
    ev = SimpleNamespace(wer=w, content_words=content_word_errors(w, unsure, rare=rare_words(PAUSES)),
                         wer_counted=sounds_alike_wer(w), transcript=Transcript(heard))
    result = judge("wer", ev, resolve())
    assert result.passed and result.value == 0.0 and "raw WER 0.4" in result.message

    heard = "Wait, are you sure? I mean, because this test."
    w = word_error(PAUSES, heard)
    ev = SimpleNamespace(wer=w, content_words=content_word_errors(w, None), wer_counted=sounds_alike_wer(w),
                         transcript=Transcript(heard))
    result = judge("wer", ev, resolve())
    assert not result.passed and result.message.startswith("wer ")


def test_an_abbreviation_is_compared_as_said():
    w = word_error("The package weighs three kilograms.", "The package weighs 3 kg.")
    assert sounds_alike_wer(w).errors == 0 and content_word_errors(w, [0.99] * len(w.hyp_words)).count == 0
    w = word_error("The package weighs three kilograms.", "The package weighs 3 km.")  # another unit
    assert sounds_alike_wer(w).errors == 1 and content_word_errors(w, [0.99] * len(w.hyp_words)).count == 1
