"""glued.sound_before / sound_after: loud, not sibilant sound before where the text's first word
was aligned or after its last, and how check_start / check_tail report it (where, how much,
against which limit)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from synthetic_speech import SR, noise, vowel

from pytest_luxgate.judging.analysis import Evidence
from pytest_luxgate.judging.checks import check_start, check_tail
from pytest_luxgate.judging.thresholds import resolve
from pytest_luxgate.metrics.glued import SOUND_HOLE, sound_after, sound_before
from pytest_luxgate.metrics.level import db


def _tail(last_word: str, **aligned: object) -> SimpleNamespace:
    """A take's tail metrics (check_tail reads them) ending at 2.1 s where its last word, the VAD
    and the walk all end, clean but for what the alignment found after the text (`aligned`)."""
    return SimpleNamespace(**{
        "last_word_end_s": 2.1, "vad_offset_s": 2.1, "offset_s": 2.1, "last_word": last_word,
        "trail_garbage_s": 0.0, "post_offset_noise_db": None, "post_offset_s": 0.0, "tail_buzz_s": 0.0,
        "tail_buzz_periodicity": 0.0, "truncation_db": -60.0, "end_decay_db": -20.0,
        "loud_after_text_s": 0.0, **aligned})


def _evidence(text: str, start: object = None, tail: object = None) -> Evidence:
    """An Evidence holding only what check_start / check_tail read (no room, a 2.3 s take)."""
    ev = Evidence.__new__(Evidence)
    ev.start, ev.tail, ev.prompt_background_db, ev.text, ev.duration_s = start, tail, None, text, 2.3
    return ev


def _take(lead: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    """`lead`, then 0.7 s of a vowel at RMS 0.1; returns audio, the vowel's start, its level (dBFS)."""
    return np.concatenate([lead, vowel(0.7, rng)]).astype(np.float32), len(lead) / SR, float(db(0.1))


def test_silence_before_the_text_is_nothing() -> None:
    rng = np.random.default_rng(1)
    x, t, level = _take(np.zeros(int(0.3 * SR)), rng)
    assert sound_before(x, SR, level, t) is None


@pytest.mark.parametrize("rel_db", [-10.0, 0.0])
def test_broadband_noise_before_the_text_is_counted_where_it_is(rel_db: float) -> None:
    rng = np.random.default_rng(2)
    x, t, level = _take(np.concatenate([np.zeros(int(0.1 * SR)), noise(0.2, rel_db, rng)]), rng)
    got = sound_before(x, SR, level, t)
    assert got is not None
    seconds, start = got.seconds, got.start
    assert 0.15 <= seconds <= 0.2 and 0.09 <= start <= 0.12, got


def test_a_sibilant_or_a_quiet_sound_before_the_text_is_not_counted() -> None:
    """The aligner may leave a word's own /s/ outside it; a room's hiss is pre_onset_noise_db's."""
    rng = np.random.default_rng(3)
    x, t, level = _take(noise(0.15, -5.0, rng, high_pass_hz=3500.0), rng)
    assert sound_before(x, SR, level, t) is None
    x, t, level = _take(noise(0.3, -30.0, rng), rng)
    assert sound_before(x, SR, level, t) is None


@pytest.mark.parametrize("gap_s", [0.03, 0.06, 0.08])
def test_the_quiet_moments_between_two_loud_parts_of_one_sound_are_counted_with_them(gap_s: float) -> None:
    """Speech-like garbage swings in level as syllables do: at -10 dB re speech its frames dip
    under the level gate between syllables, and counting only the loud ones left 0.2 s of it
    under the limit. A gap of up to glued.SOUND_HOLE frames between two loud frames is counted."""
    rng = np.random.default_rng(5)
    part = 0.08
    lead = np.concatenate([np.zeros(int(0.1 * SR)), noise(part, -5.0, rng), noise(gap_s, -40.0, rng),
                           noise(part, -5.0, rng)])
    x, t, level = _take(lead, rng)
    got = sound_before(x, SR, level, t)
    assert got is not None
    seconds, start = got.seconds, got.start
    extent = 2 * part + gap_s
    assert extent - 0.03 <= seconds <= extent + 0.01 and 0.09 <= start <= 0.11, (got, extent)


def test_two_sounds_further_apart_than_the_hole_are_counted_apart() -> None:
    rng = np.random.default_rng(6)
    part, gap_s = 0.08, (SOUND_HOLE + 4) * 0.01
    lead = np.concatenate([np.zeros(int(0.1 * SR)), noise(part, -5.0, rng), np.zeros(int(gap_s * SR)),
                           noise(part, -5.0, rng)])
    x, t, level = _take(lead, rng)
    got = sound_before(x, SR, level, t)
    assert got is not None
    assert got.seconds <= 2 * (part + 0.01), got  # the two parts, not the silence between them


def test_check_start_says_how_much_sound_lies_before_the_aligned_text_and_where() -> None:
    class Start:  # 0.21 s of garbage glued before the first word; Silero and Whisper start at 0.0
        vad_onset_s, first_word_start_s, onset_s, first_word = 0.0, 0.0, 0.0, "Hello"
        lead_garbage_s, pre_onset_noise_db, pre_onset_s = 0.0, None, 0.0
        pre_onset_click_db, pre_onset_click_at_s = -120.0, None
        text_start_s, before_text_s, before_text_from_s, text_first_phone = 0.23, 0.21, 0.01, "HH"

    ev = _evidence("Hello, how are you?", start=Start())
    th = resolve()
    bad = check_start(ev, th)
    assert not bad.passed and bad.marks == [[0.01, 0.23]]
    assert "before_text_s 0.21 s" in bad.message and "0.01-0.23 s" in bad.message
    assert "before “Hello,” where the text aligned to the take begins" in bad.message
    assert f"limit <= {th['before_text_s']:.4g} s" in bad.message
    Start.before_text_s = th["before_text_s"]  # at the limit: passes
    good = check_start(ev, th)
    assert good.passed and "(the text aligned from 0.23 s)" in good.message
    Start.before_text_s = Start.text_start_s = None  # not aligned: nothing said by this criterion, and that is said
    unaligned = check_start(ev, th)
    assert unaligned.passed and "the text found no alignment: before_text_s not measured" in unaligned.message


def test_noise_after_the_text_is_counted_up_to_where_it_ends() -> None:
    rng = np.random.default_rng(4)
    speech = vowel(0.7, rng)
    x = np.concatenate([speech, noise(0.25, -5.0, rng), np.zeros(int(0.2 * SR))]).astype(np.float32)
    got = sound_after(x, SR, float(db(0.1)), 0.7)
    assert got is not None and 0.2 <= got.seconds <= 0.25 and 0.93 <= got.end <= 0.96, got
    assert sound_after(np.concatenate([speech, np.zeros(int(0.3 * SR))]).astype(np.float32), SR,
                       float(db(0.1)), 0.7) is None


@pytest.mark.parametrize("rel_db, at_level", [(3.0, True), (0.5, True), (-3.0, False), (-6.0, False)])
def test_only_sound_as_loud_as_the_speech_counts_as_at_its_level(rel_db: float, at_level: bool) -> None:
    """sound_after's at_level_s: the frames after the text at or above the speech level
    (AT_SPEECH_LEVEL_DB re speech), a syllable's loudness; a word's decay, a release or an
    accent's reduced vowel is quieter (clean takes: at most -5.3 dB, CALIBRATION.md)."""
    rng = np.random.default_rng(8)
    speech = vowel(0.7, rng)
    x = np.concatenate([speech, noise(0.06, rel_db, rng), np.zeros(int(0.2 * SR))]).astype(np.float32)
    got = sound_after(x, SR, float(db(0.1)), 0.7)
    assert got is not None and 0.04 <= got.seconds <= 0.07, got  # the same sound counted either way
    if at_level:
        assert 0.03 <= got.at_level_s <= got.seconds, got
    else:
        assert got.at_level_s == 0.0, got


def test_a_syllable_as_loud_as_the_speech_after_the_text_fails_under_the_other_limits() -> None:
    """0.06 s of sound after the aligned end is under after_text_s's and after_sonorant_text_s's
    limits; at the speech level it is a syllable more (loud_after_text_s), and the message says so
    and where."""
    tail = _tail("stop.", text_end_s=2.0, after_text_s=0.06, after_text_to_s=2.07, text_last_phone="P",
                 loud_after_text_s=0.04)
    ev = _evidence("Please stop.", tail=tail)
    th = resolve()
    assert tail.after_text_s <= th["after_sonorant_text_s"] < th["after_text_s"]
    bad = check_tail(ev, th)
    assert not bad.passed and [2.0, 2.07] in bad.marks
    assert "loud_after_text_s 0.04 s" in bad.message and "at or above the speech level" in bad.message
    assert "after “stop.”" in bad.message and "2.00-2.07 s" in bad.message
    tail.loud_after_text_s = th["loud_after_text_s"]  # at the limit: passes
    assert check_tail(ev, th).passed
    tail.loud_after_text_s = None  # not aligned: not judged by it
    assert check_tail(ev, th).passed


def test_check_tail_says_how_much_sound_lies_after_the_aligned_text_and_where() -> None:
    # 0.3 s of garbage glued after "today."; Whisper and Silero end with it
    tail = _tail("today.", text_end_s=1.8, after_text_s=0.28, after_text_to_s=2.1, text_last_phone=None)
    ev = _evidence("See you today.", tail=tail)
    th = resolve()
    bad = check_tail(ev, th)
    assert not bad.passed and [1.8, 2.1] in bad.marks
    assert "after_text_s 0.28 s" in bad.message and "1.80-2.10 s" in bad.message
    assert "after “today.” where the text aligned to the take ends" in bad.message
    tail.after_text_s = th["after_text_s"]
    assert check_tail(ev, th).passed


@pytest.mark.parametrize("phone, fails", [("AH", True), ("N", True), ("S", False), ("HH", False), (None, False)])
def test_sound_outside_a_vowel_or_sonorant_edge_has_the_lower_limit(phone: str | None, fails: bool) -> None:
    """The aligner may leave an obstruent's edge (a slow /s/, a /ch/) outside the word, hence
    before_text_s's 0.15 s; a vowel's or a sonorant's it does not, so where the text begins or
    ends with one, before_sonorant_text_s / after_sonorant_text_s hold the same sound to 0.08 s.
    An edge phone not known (no alignment) is not judged by it."""
    th = resolve()
    assert th["before_sonorant_text_s"] < th["before_text_s"] and th["after_sonorant_text_s"] < th["after_text_s"]
    value = (th["before_sonorant_text_s"] + th["before_text_s"]) / 2  # between the two limits

    class Start:
        vad_onset_s, first_word_start_s, onset_s, first_word = 0.0, 0.0, 0.0, "Only"
        lead_garbage_s, pre_onset_noise_db, pre_onset_s = 0.0, None, 0.0
        pre_onset_click_db, pre_onset_click_at_s = -120.0, None
        text_start_s, before_text_s, before_text_from_s, text_first_phone = 0.12, value, 0.0, phone

    tail = _tail("again.", text_end_s=1.98, after_text_s=value, after_text_to_s=2.1, text_last_phone=phone)
    ev = _evidence("Only again.", start=Start(), tail=tail)
    start, tail = check_start(ev, th), check_tail(ev, th)
    assert start.passed is not fails and tail.passed is not fails
    if fails:
        assert f"before_sonorant_text_s {value:.4g} s" in start.message and f"with /{phone}/" in start.message
        assert f"after_sonorant_text_s {value:.4g} s" in tail.message and "after “again.”" in tail.message
