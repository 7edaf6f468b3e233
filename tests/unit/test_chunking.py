"""Text chunking: sentences, then phrases, then words; never inside a number or abbreviation."""
from __future__ import annotations

import pytest

from pytest_luxgate.speech.chunking import DEFAULT_MAX_CHARS, ChunkingOptions, split_text, validate_chunking
from pytest_luxgate.matrix.scenarios import load_dirs, standard_dir

STANDARD = {s.id: s.text for s in load_dirs([standard_dir()])}


def _rejoined(chunks: list[str]) -> str:
    return " ".join(chunks)


@pytest.mark.parametrize("max_chars", [0, -1])
def test_zero_or_negative_turns_chunking_off(max_chars: int) -> None:
    text = STANDARD["long_paragraph"]
    assert split_text(text, max_chars) == [text]


def test_text_that_fits_is_one_chunk_and_whitespace_is_normalised() -> None:
    assert split_text("  Quick   quality\ncheck. ", 100) == ["Quick quality check."]
    assert split_text("   ", 100) == []


def test_sentences_first_and_short_ones_travel_together() -> None:
    text = "The train was late. We walked along the river. It rained all afternoon, so we went home early."
    assert split_text(text, 50) == ["The train was late. We walked along the river.",
                                    "It rained all afternoon, so we went home early."]


@pytest.mark.parametrize("max_chars", [20, 30, 45, 60])
def test_numbers_decimals_times_and_abbreviations_stay_whole(max_chars: int) -> None:
    text = ("Dr. Smith paid $8,472.50 at 5:30 p.m. on Monday, and Mr. Jones, who had waited "
            "12.5 minutes, paid the rest... Then everyone left.")
    chunks = split_text(text, max_chars)
    assert _rejoined(chunks) == text
    for token in ("$8,472.50", "5:30", "12.5", "Dr. Smith", "Mr. Jones", "p.m.", "rest..."):
        assert any(token in c for c in chunks), (token, chunks)


def test_ellipsis_is_a_pause_not_three_sentences() -> None:
    text = "Wait... are you sure? I mean, really sure; because this test mixes pauses, commas, and emphasis."
    assert split_text(text, 100) == [text]
    chunks = split_text(text, 40)
    assert chunks[0].startswith("Wait... are you sure?")
    assert _rejoined(chunks) == text


def test_long_sentence_splits_at_phrase_punctuation() -> None:
    text = STANDARD["numbers_symbols"]
    assert split_text(text, 100) == [
        "Order number 8472 ships on March twenty first, two thousand twenty six at five thirty p.m.,",
        "total one hundred twenty nine dollars and ninety five cents."]


def test_a_phrase_longer_than_the_limit_falls_back_to_near_equal_word_parts() -> None:
    text = ("A very long sentence without any punctuation at all that just keeps going and going "
            "past the limit that we set for it")
    chunks = split_text(text, 60)
    assert _rejoined(chunks) == text
    assert all(len(c) <= 60 for c in chunks) and len(chunks) == 2
    assert abs(len(chunks[0]) - len(chunks[1])) < 20, chunks


def test_word_fallback_never_cuts_after_an_abbreviation() -> None:
    text = "We met Dr. Watson and Prof. Moriarty and St. Clair and Mr. Holmes at No. 221 Baker Street in London"
    for max_chars in range(18, 60, 3):
        for c in split_text(text, max_chars):
            assert not c.endswith(("Dr.", "Prof.", "St.", "Mr.", "No.")), (max_chars, c)


def test_deterministic() -> None:
    text = STANDARD["long_paragraph"] + " " + STANDARD["punctuation_pauses"]
    assert len({tuple(split_text(text, 70)) for _ in range(5)}) == 1


def test_the_five_standard_scenarios_at_the_default() -> None:
    chunks = {sid: split_text(text, DEFAULT_MAX_CHARS) for sid, text in STANDARD.items()}
    assert chunks["short_plain"] == [STANDARD["short_plain"]]
    assert chunks["punctuation_pauses"] == [STANDARD["punctuation_pauses"]]
    assert chunks["medium_conversational"] == [
        "This is a medium length conversational sentence to validate cadence, articulation,",
        "and timbre stability."]
    assert chunks["long_paragraph"] == [
        "Today we are running a longer paragraph to evaluate",
        "whether the voice stays consistent from beginning to end, whether pauses feel natural,",
        "and whether final words remain intelligible without robotic trailing artifacts."]
    assert len(chunks["numbers_symbols"]) == 2
    for sid, parts in chunks.items():
        assert _rejoined(parts) == STANDARD[sid]
        assert all(len(p) <= DEFAULT_MAX_CHARS for p in parts)


@pytest.mark.parametrize("table, message", [
    ({"max_chars": -5}, "integer >= 0"),
    ({"max_chars": 12.5}, "integer >= 0"),
    ({"max_chars": True}, "integer >= 0"),
    ({"crossfade_ms": -1}, "from 0 to 200"),
    ({"crossfade_ms": 900}, "from 0 to 200"),
    ({"crossfade": 30}, "unknown chunking key 'crossfade'"),
])
def test_bad_chunking_settings_say_what_is_wrong(table: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_chunking(table)


def test_options_overlay_a_scenario_table() -> None:
    base = ChunkingOptions()
    assert base.enabled and base.max_chars == DEFAULT_MAX_CHARS
    over = base.overridden({"max_chars": 0})
    assert not over.enabled and over.crossfade_ms == base.crossfade_ms
    assert base.overridden({"crossfade_ms": 10}).to_dict() == {"max_chars": DEFAULT_MAX_CHARS,
                                                               "crossfade_ms": 10.0}
