"""Text metrics: normalisation, WER, repeat (loop) detection, legacy scores."""
from __future__ import annotations

import json

import pytest

from pytest_luxgate.metrics.text import DEFAULT_MAX_REPEAT_RATIO, legacy_asr_sim, normalize_words, repeat_metrics, word_error

SHORT = "Quick quality check for LuxTTS."
MEDIUM = (
    "This is a medium length conversational sentence to validate cadence, "
    "articulation, and timbre stability."
)
LONG = (
    "Today we are running a longer paragraph to evaluate whether the voice stays "
    "consistent from beginning to end, whether pauses feel natural, and whether "
    "final words remain intelligible without robotic trailing artifacts."
)
NUMBERS = (
    "Order number 8472 ships on March twenty first, two thousand twenty six at "
    "five thirty p.m., total one hundred twenty nine dollars and ninety five cents."
)
PUNCTUATION = (
    "Wait... are you sure? I mean, really sure; because this test mixes pauses, "
    "commas, and emphasis."
)

#: real Whisper outputs for NUMBERS
NUMBERS_HEARD = (
    "Order number 8,472 ships on March 21, 2026 at 5.30pm total $129.95.",
    "Order number 8472 ships on March 21st, 2026 at 5.30 pm total $129.95.",
)

#: (reference, transcript): exact and slightly misrecognised, no repeats
NATURAL = [
    (SHORT, SHORT),
    (SHORT, "Quick quality check for Lux TTS."),
    (SHORT, "Quick quality check for Lux DTS."),
    (MEDIUM, MEDIUM),
    (MEDIUM, "This is a medium-length conversational sentence to validate cadence, articulation and timber stability."),
    (LONG, LONG),
    (
        LONG,
        "Today we're running a longer paragraph to evaluate whether the voice stays consistent "
        "from beginning to end, whether pauses feel natural and whether the final words remain "
        "intelligible without robotic trailing artifacts.",
    ),
    (NUMBERS, NUMBERS),
    *[(NUMBERS, heard) for heard in NUMBERS_HEARD],
    (PUNCTUATION, PUNCTUATION),
    (PUNCTUATION, "Wait, are you sure? I mean, really sure, because this test mixes pauses, commas and emphasis."),
    (PUNCTUATION, "Wait… Are you sure? I mean really sure because this test mixes pauses, comma and emphasis."),
]


# --------------------------------------------------------------------------
# normalize_words
# --------------------------------------------------------------------------

#: pairs that must normalise to the same words, checked in both directions;
#: the first group is handled by Whisper's normaliser itself, the rest are
#: its gaps closed in normalize_words
SAME_WORDS = [
    # Whisper's normaliser already
    ("8,472", "8472"),
    ("8472", "eight thousand four hundred seventy two"),
    ("$129.95", "one hundred twenty nine dollars and ninety five cents"),
    ("2026", "two thousand twenty six"),
    ("2026", "twenty twenty six"),
    ("twenty-one", "twenty one"),
    ("twenty first", "21st"),
    ("don't", "do not"),
    ("Wait... are you sure?", "wait are you sure"),
    ("really sure; because", "really sure, because"),
    ("colour", "color"),
    # gaps closed here
    ("5 p.m.", "5 pm"),
    ("7 a.m.", "7am"),
    ("12 p. m.", "12 PM"),
    ("5:30 p.m.", "5.30pm"),
    ("5.30 P.M.", "five thirty pm"),
    ("at 5.30", "at five thirty"),
    ("5:30", "five thirty"),
    ("5:30 pm", "5.30pm"),
    ("12:45", "twelve forty five"),
    ("5:05", "five oh five"),
    ("5:00 pm", "five pm"),
    ("March 21", "March twenty first"),
    ("March 21", "March 21st"),
    ("the 2nd", "the 2"),
    ("March 1st", "March 1"),
    ("LuxTTS", "Lux TTS"),
    ("Lux T.T.S.", "Lux TTS"),
    ("U.S.A.", "USA"),
    ("don\u2019t", "don't"),
    ("Wait\u2026are you sure?", "Wait... are you sure?"),
    ("I mean...", "I mean"),
    ("I mean\u2026", "I mean."),
    ("OK", "okay"),
]


@pytest.mark.parametrize(("a", "b"), SAME_WORDS)
def test_equivalent_forms_normalise_alike_both_ways(a, b):
    assert normalize_words(a) == normalize_words(b)
    assert word_error(a, b).wer == 0.0
    assert word_error(b, a).wer == 0.0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("5.30pm", ["530", "pm"]),
        ("5:30 p.m.", ["530", "pm"]),
        ("Quick quality check for LuxTTS.", ["quick", "quality", "check", "for", "lux", "tts"]),
        ("Wait... are you sure? I mean, really sure;", ["wait", "are", "you", "sure", "i", "mean", "really", "sure"]),
        ("I am here", ["i", "am", "here"]),
    ],
)
def test_normalised_words(text, words):
    assert normalize_words(text) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("3.50 kg", ["3.50", "kg"]),  # a decimal, not a clock time
        ("$5.30", ["$5.30"]),
        ("version 2.10.3", ["version", "2.10.3"]),
        ("plan B. I went", ["plan", "b", "i", "went"]),  # no initialism across sentences
    ],
)
def test_fixes_leave_lookalikes_alone(text, words):
    assert normalize_words(text) == words


@pytest.mark.parametrize(("a", "b"), [("5:30", "5:31"), ("21st", "22nd"), ("5 pm", "5 am"), ("8472", "8473")])
def test_different_values_stay_different(a, b):
    assert normalize_words(a) != normalize_words(b)


# --------------------------------------------------------------------------
# word_error
# --------------------------------------------------------------------------


@pytest.mark.parametrize("heard", NUMBERS_HEARD)
def test_numbers_scenario_spoken_and_written_forms_are_wer_zero(heard):
    error = word_error(NUMBERS, heard)
    assert error.wer == 0.0, error.diff()
    assert error.pairs == ()
    assert error.diff() == "(no differences)"


@pytest.mark.parametrize(("ref", "hyp"), NATURAL)
def test_natural_transcripts_have_low_wer(ref, hyp):
    assert word_error(ref, hyp).wer <= 0.2  # one word in the 6-word SHORT


def test_wer_counts_and_names_a_substitution():
    error = word_error(NUMBERS, NUMBERS_HEARD[0].replace("ships", "shits"))
    assert (error.substitutions, error.deletions, error.insertions) == (1, 0, 0)
    assert error.wer == pytest.approx(1 / len(error.ref_words))
    assert error.pairs == ({"op": "substitute", "ref": "ships", "hyp": "shits", "ref_index": 3, "hyp_index": 3},)
    assert "[-ships-]{+shits+}" in error.diff()
    assert error.diff().startswith("order number 8472 [-ships-]{+shits+} on march 21")


def test_wer_counts_and_names_a_deletion_and_an_insertion():
    error = word_error(LONG, "So " + LONG.replace("robotic ", ""))
    assert (error.substitutions, error.deletions, error.insertions) == (0, 1, 1)
    assert {p["op"]: p for p in error.pairs}["delete"]["ref"] == "robotic"
    assert {p["op"]: p for p in error.pairs}["insert"]["hyp"] == "so"
    diff = error.diff()
    assert diff.startswith("{+so+} today we are")
    assert "without [-robotic-] trailing" in diff
    assert "…" in diff and len(diff.split()) < len(error.ref_words)  # elided


def test_split_words_are_joined_before_aligning():
    assert word_error(SHORT, "Quick quality check for Luxtts").wer == 0.0
    assert word_error("Everyone can not come.", "Every one cannot come.").wer == 0.0


def test_empty_hypothesis_is_all_deletions_and_empty_reference_is_an_error():
    error = word_error(SHORT, "")
    assert error.wer == 1.0 and error.deletions == len(error.ref_words)
    with pytest.raises(ValueError):
        word_error("", "something")
    with pytest.raises(ValueError):
        word_error("...", "something")


def test_word_error_to_dict_is_json_ready():
    data = word_error(SHORT, "Quick quality check for Lux DTS.").to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["pairs"][0]["op"] == "substitute"
    assert data["diff"] == "quick quality check for lux [-tts-]{+dts+}"


# --------------------------------------------------------------------------
# repeat_metrics
# --------------------------------------------------------------------------


def _looped(text: str, start: int, size: int, copies: int, garble: int | None = None) -> str:
    """``text`` with words [start, start+size) said ``copies`` times."""
    words = text.split()
    unit = words[start : start + size]
    extra = [list(unit) for _ in range(copies - 1)]
    if garble is not None:
        extra[0][garble] = "blurble"
    return " ".join(words[: start + size] + [w for copy in extra for w in copy] + words[start + size :])


LONG_WORDS = len(LONG.split())


@pytest.mark.parametrize("copies", [2, 3])
@pytest.mark.parametrize("size", [1, 2, 4, 8])
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_loops_are_caught(where, size, copies):
    start = {"start": 0, "middle": 12, "end": LONG_WORDS - size}[where]
    repeats = repeat_metrics(LONG, _looped(LONG, start, size, copies))
    assert repeats.repeated_words == size * (copies - 1)
    assert len(repeats.spans) == 1
    span = repeats.spans[0]
    assert len(span["words"].split()) == size
    assert span["count"] == copies
    assert repeats.hyp_word_ratio > 1
    # a single doubled word is tolerated in a long text; anything longer fails
    assert repeats.fails() == (size * (copies - 1) >= 2)


def test_loop_from_the_scenario_is_caught():
    heard = LONG.replace(
        "and whether final words remain", "and whether final words remain and whether final words remain"
    )
    repeats = repeat_metrics(LONG, heard)
    assert repeats.spans[0]["count"] == 2
    assert repeats.spans[0]["inserted"] == 5
    assert repeats.repeated_words == 5
    assert repeats.fails()


@pytest.mark.parametrize(
    ("heard", "unit", "count"),
    [
        ("Order number, order number 8,472 ships on March 21, 2026 at 5.30pm total $129.95.", "order number", 2),
        ("Order number 8,472 ships on March 21, March 21, March 21, 2026 at 5.30pm total $129.95.", "march 21", 3),
        ("Order number 8,472 ships on March 21, 2026 at 5.30pm, 2026 at 5.30pm total $129.95.", "2026 at 530 pm", 2),
        ("Order number 8,472 ships on March 21, 2026 at 5.30pm total $129.95, total $129.95.", "total $129.95", 2),
    ],
)
def test_loops_in_transcribed_numbers_are_caught(heard, unit, count):
    """Whisper writes numbers as digits, so a looped number is a repeated token."""
    repeats = repeat_metrics(NUMBERS, heard)
    assert [(s["words"], s["count"]) for s in repeats.spans] == [(unit, count)]
    assert repeats.fails()


@pytest.mark.parametrize("size", [4, 8])
@pytest.mark.parametrize("garble", [0, 1, 3])
def test_loop_is_caught_when_asr_garbles_one_word(size, garble):
    repeats = repeat_metrics(LONG, _looped(LONG, 12, size, 2, garble=garble))
    assert repeats.repeated_words == size
    assert repeats.fails()


def test_single_doubled_word_fails_a_short_text_by_ratio():
    repeats = repeat_metrics(SHORT, "Quick quality check for for LuxTTS.")
    assert repeats.repeated_words == 1
    assert repeats.repeat_ratio > DEFAULT_MAX_REPEAT_RATIO
    assert repeats.fails()


LEGITIMATE = [
    ("No, no, no, I said no.", "No, no, no, I said no."),
    ("No, no, no, I said no.", "No no no. I said no."),
    ("No, no, no, I said no.", "No, no, I said no."),
    ("That was very, very good.", "That was very, very good."),
    ("That was very, very good.", "That was very good."),
    ("He said that that was fine.", "He said that that was fine."),
    ("He said that that was fine.", "He said that was fine."),
    ("Bye bye, see you soon.", "Bye-bye, see you soon."),
    ("Bye bye, see you soon.", "Bye bye. See you soon."),
]


@pytest.mark.parametrize(("ref", "hyp"), LEGITIMATE + NATURAL)
def test_repeats_in_the_reference_and_natural_speech_pass(ref, hyp):
    repeats = repeat_metrics(ref, hyp)
    assert repeats.spans == ()
    assert repeats.repeated_words == 0
    assert not repeats.fails()


def test_extra_copies_beyond_the_reference_still_count():
    repeats = repeat_metrics("No, no, no, I said no.", "No, no, no, no, no, I said no.")
    assert repeats.spans == ({"words": "no", "hyp_index": 3, "count": 5, "inserted": 2},)
    assert repeats.fails()


def test_legacy_repeat_ratio_punishes_legitimate_repeats():
    """Why the new metric exists: the old score flags a correct reading."""
    repeats = repeat_metrics("No, no, no, I said no.", "No, no, no, I said no.")
    assert repeats.legacy_repeat_ratio == pytest.approx(4 / 6)
    assert repeats.repeat_ratio == 0.0


def test_repeat_metrics_to_dict_is_json_ready():
    data = repeat_metrics(LONG, _looped(LONG, 12, 2, 3)).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"repeated_words", "repeat_ratio", "spans", "hyp_word_ratio", "legacy_repeat_ratio"}


# --------------------------------------------------------------------------
# legacy_asr_sim (speaking rate lives in metrics/rate.py)
# --------------------------------------------------------------------------


def test_legacy_asr_sim():
    assert legacy_asr_sim(SHORT, "quick quality check for luxtts") == 1.0
    assert legacy_asr_sim(SHORT, "") == 0.0
    # the old score penalises a correct number transcript; WER does not
    assert legacy_asr_sim(NUMBERS, NUMBERS_HEARD[0]) < 0.7
    assert word_error(NUMBERS, NUMBERS_HEARD[0]).wer == 0.0
