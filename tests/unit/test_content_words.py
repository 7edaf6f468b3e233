"""Content-word errors (metrics/content_words.py) on word lists: wrong words caught, slips excused."""
from __future__ import annotations

import pytest

from pytest_luxgate.metrics.content_words import (
    FUNCTION_WORDS,
    content_word_errors,
    hyp_probabilities,
    is_content_word,
    phoneme_distance,
    phonemes,
)
from pytest_luxgate.metrics.text import word_error

MUSEUM = "The museum opens at nine in the morning, Monday to Friday, and on Sundays."
STADIUM = "The stadium opens at nine in the morning, Monday to Friday, and on Mondays."


def errors(ref: str, hyp: str, probs: list[float] | None = None):
    w = word_error(ref, hyp)
    return content_word_errors(w, probs)


def test_museum_stadium_is_two_content_errors_though_wer_is_under_the_limit():
    w = word_error(MUSEUM, STADIUM)
    assert w.wer < 0.20
    c = content_word_errors(w, [0.95] * len(w.hyp_words))
    assert c.count == 2
    assert c.describe() == "“museum” heard as “stadium”, “sundays” heard as “mondays”"


def test_clean_transcript_has_none():
    c = errors(MUSEUM, "The museum opens at 9 in the morning, Monday to Friday, and on Sundays.")
    assert c.count == 0 and not c.errors and not c.excused


@pytest.mark.parametrize("ref, hyp", [
    ("Quick quality check for LuxTTS.", "Quick quality check for LuxTDS."),       # brand name, voicing
    ("Quick quality check for LuxTTS.", "Quick quality check for Lux TDS."),      # ... and spacing
    ("validate cadence and timbre stability", "validate cadence and tamber stability"),  # homophone
    ("The knight rode through the night.", "The night road through the knight."),  # homophones
    ("this test mixes pauses, commas", "this test mixes pauses, calm as"),         # split
    ("Walk two blocks.", "Walk to blocks."),                                       # number homophone
    ("Order number 8472 ships.", "Order number 8,472 ships!"),                     # punctuation, digits
    ("We open on Sundays.", "We open on Sunday."),                                  # ending
    ("The museum opens at nine.", "The museum opened at nine."),                   # ending
])
def test_sound_alike_and_form_slips_are_excused(ref, hyp):
    c = errors(ref, hyp, [0.99] * 20)
    assert c.count == 0, c.errors


def test_function_words_never_count():
    c = errors("I went to the shop for a pint of milk.", "I went to a shop for the pint on milk.", [0.99] * 20)
    assert c.count == 0
    assert {e["why"] for e in c.excused} == {"function words"}


def test_unsure_guess_is_excused_and_a_confident_one_is_not():
    ref, hyp = "Quick quality check for LuxTTS.", "Quick quality check for Lux TPS."
    w = word_error(ref, hyp)
    unsure = [0.99] * len(w.hyp_words)
    unsure[w.hyp_words.index("tps")] = 0.3
    assert content_word_errors(w, unsure).count == 0
    assert content_word_errors(w, unsure).excused[0]["why"] == "not confident"
    assert content_word_errors(w, [0.99] * len(w.hyp_words)).count == 1
    assert content_word_errors(w, None).count == 1  # no probabilities: the rule is off


def test_numbers_are_content_words_and_never_sound_alike_unless_identical():
    c = errors("Your order of 250 dollars ships on May fifth.", "Your order of 350 dollars ships on May fifth.",
               [0.99] * 20)
    assert c.count == 1 and c.errors[0]["ref"] == ["$250"]
    assert is_content_word("9") and is_content_word("nine")


def test_a_dropped_content_word_counts_unless_whisper_was_unsure_around_it():
    w = word_error("Please bring your passport to the airport.", "Please bring your to the airport.")
    c = content_word_errors(w, [0.99] * len(w.hyp_words))
    assert c.count == 1 and c.describe() == "“passport” not heard"
    unsure = [0.99] * len(w.hyp_words)
    unsure[w.hyp_words.index("your")] = 0.2
    assert content_word_errors(w, unsure).count == 0


def test_long_sentence_one_wrong_word_still_counts():
    long = ("Today we are running a longer paragraph to evaluate whether the voice stays consistent from "
            "beginning to end, whether pauses feel natural, and whether final words remain intelligible.")
    c = errors(long, long.replace("consistent", "different"), [0.99] * 40)
    assert c.count == 1 and word_error(long, long.replace("consistent", "different")).wer < 0.05


def test_hyp_probabilities_follow_normalisation():
    w = word_error("Order 8472 on March 21st at 5:30 pm for LuxTTS.", "Order 8,472 on March 21st at 5.30pm for LuxTDS.")
    words = [("Order", 0.9), ("8,472", 0.8), ("on", 0.9), ("March", 0.9), ("21st", 0.7), ("at", 0.9),
             ("5.30pm", 0.6), ("for", 0.9), ("LuxTDS.", 0.4)]
    probs = hyp_probabilities(w.hyp_words, words)
    assert len(probs) == len(w.hyp_words)
    assert probs[w.hyp_words.index("8472")] == 0.8
    assert probs[w.hyp_words.index("tds")] == 0.4


def test_phonemes_and_distance():
    assert phonemes("timbre") == phonemes("tamber")
    assert phoneme_distance(phonemes("tts"), phonemes("tds")) < 0.12
    assert phoneme_distance(phonemes("museum"), phonemes("stadium")) > 0.5
    assert phoneme_distance((), ()) == 0.0 and phoneme_distance(("a",), ()) == 1.0
    assert {"the", "a", "of", "is", "and"} <= FUNCTION_WORDS and "museum" not in FUNCTION_WORDS


def test_check_wer_fails_on_a_content_word_with_the_words_in_the_message():
    from types import SimpleNamespace

    from pytest_luxgate.core.types import Transcript
    from pytest_luxgate.judging.checks import judge
    from pytest_luxgate.judging.thresholds import resolve

    w = word_error(MUSEUM, STADIUM)
    ev = SimpleNamespace(wer=w, content_words=content_word_errors(w, [0.95] * len(w.hyp_words)),
                         transcript=Transcript(STADIUM))
    result = judge("wer", ev, resolve())
    assert not result.passed
    assert "content_word_errors 2" in result.message and "(limit <= 0" in result.message
    assert "“museum” heard as “stadium”, “sundays” heard as “mondays”" in result.message
    assert "[-museum-]{+stadium+}" in result.message  # the word diff too
    assert not result.message.startswith("wer ")  # WER itself is within its limit

    ok = word_error(MUSEUM, MUSEUM)
    ev = SimpleNamespace(wer=ok, content_words=content_word_errors(ok, None), transcript=Transcript(MUSEUM))
    assert judge("wer", ev, resolve()).passed


REPORT = "Please send the report by Friday afternoon."


def test_an_added_content_word_heard_with_confidence_counts():
    heard = "Please send the report by Friday afternoon garden."
    w = word_error(REPORT, heard)
    assert w.wer < 0.20  # one extra word in seven: WER alone passes it
    c = content_word_errors(w, [0.9] * len(w.hyp_words))
    assert c.count == 1 and c.describe() == "“garden” added"
    assert c.errors[0]["ref"] == [] and c.errors[0]["content"] == ["garden"]


def test_an_added_word_heard_unsure_is_excused():
    w = word_error(REPORT, "Please send the report by Friday afternoon garden.")
    unsure = [0.9] * len(w.hyp_words)
    unsure[w.hyp_words.index("garden")] = 0.3
    c = content_word_errors(w, unsure)
    assert c.count == 0 and c.excused[0]["why"] == "not confident"


@pytest.mark.parametrize("heard", [
    "Please send the report by Friday Friday afternoon.",   # the text's own word again: the repeat check's
    "Please send the report to them by Friday afternoon.",  # function words: WER's
    "Oh, please send the report by Friday afternoon.",      # an interjection
])
def test_added_words_the_text_has_or_function_words_do_not_count(heard):
    w = word_error(REPORT, heard)
    c = content_word_errors(w, [0.99] * len(w.hyp_words))
    assert c.count == 0 and not c.errors


def test_an_added_word_next_to_a_wrong_one_is_judged_with_it():
    # "commas" -> "calm as": the split's extra word belongs to the substitution's region, not an addition
    w = word_error("this test mixes pauses, commas", "this test mixes pauses, calm as")
    assert content_word_errors(w, [0.99] * len(w.hyp_words)).count == 0
