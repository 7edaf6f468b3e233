"""Speech-like garbage glued to the first or last word is found; clean edges pass (issue 15 item 4).

LuxTTS users report up to ~1 s of indistinct, speech-like garbage at the start of a take (others
at the end). Glued to a word it is voiced or partly harmonic, so the frame classifier of
metrics/glued.py takes it for the word, Silero hears speech, and Whisper folds it into the word.
A forced alignment that knows the text (CMU Sphinx, listeners/aligner.py) leaves sound the
text's phones do not explain outside the words: `before_text_s` / `after_text_s` count the loud,
not sibilant part of it before the first word / after the last.

Real takes from three engines and human recordings, texts and voices the limit was not set on;
the garbage is reversed, shuffled speech of another voice and noise shaped like the take's own
spectrum, as loud as the issue asks (-10..0 dB re speech).
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import speech_corpus as C

from pytest_luxgate.listeners.aligner import arpabet, text_span
from pytest_luxgate.listeners.vad import speech_segments
from pytest_luxgate.metrics.edges import DEFAULTS as E
from pytest_luxgate.metrics.edges import (
    StartMetrics,
    TailMetrics,
    edge_metrics,
    sonorant,
)

# Piper seeds no other test uses (a Piper voice's noise draws depend on what it said before)
CLEAN = {
    "piper_students_22k": C.ClipSpec("Seventy seven students arrived early.", "piper", seed=81,
                                      rate=22_050, lead_s=0.05, trail_s=0.05),
    "espeak_honest_16k": C.ClipSpec("Honest answers help everyone.", "espeak", voice="en-us+m3",
                                    speed=150, rate=16_000, lead_s=0.02, trail_s=0.05),
    "espeak_zero_48k": C.ClipSpec("Zero errors were found today.", "espeak", voice="en-gb+m1",
                                  speed=170, rate=48_000, lead_s=0.0, trail_s=0.02),
    "kokoro_morning_24k": C.ClipSpec("Every morning I walk the dog.", "kokoro", voice="jf_alpha",
                                     rate=24_000, lead_s=0.02, trail_s=0.05),
}
HUMAN = ["arctic_a0007", "librivox_sense_0870"]
DONOR = C.ClipSpec("long", "espeak", voice="en-us+f3", speed=165)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, C.Clip]:
    cache = tmp_path_factory.mktemp("garbage")
    out = {k: C.make_clip(s, cache) for k, s in CLEAN.items()}
    out.update({name: C.human_clip(name) for name in HUMAN})
    for rate in {c.sr for c in out.values()}:  # the garbage's voice at each take's rate
        out[f"donor_{rate}"] = C.make_clip(replace(DONOR, rate=rate), cache)
    return out


def _edges(audio: np.ndarray, sr: int, text: str) -> tuple[StartMetrics, TailMetrics]:
    span = text_span(audio, sr, text)
    assert span is not None, "the aligner found no path through the text"
    segs = speech_segments(audio, sr)
    return edge_metrics(audio, sr, segs, (), expected_text=text, text_span=span)


def _garbage(kind: str, seconds: float, rel_db: float, clip: C.Clip, donor: C.Clip, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (C.garbage_snippet(donor.audio, clip.sr, seconds, rng) if kind == "reversed"
         else C.speech_shaped_noise(clip, seconds, rng)).astype(np.float64)
    level = 10 ** ((C.speech_level_db(clip.audio, clip.sr) + rel_db) / 20)
    return (x / np.sqrt(np.mean(x ** 2)) * level).astype(np.float32)


@pytest.mark.parametrize("key", list(CLEAN) + HUMAN)
def test_clean_edges_have_no_sound_outside_the_text(clips: dict[str, C.Clip], key: str) -> None:
    c = clips[key]
    s, t = _edges(c.audio, c.sr, c.text)
    assert s.before_text_s is not None and s.before_text_s <= E["before_text_s"], (key, s)
    assert t.after_text_s is not None and t.after_text_s <= E["after_text_s"], (key, t)
    # where the text begins or ends with a vowel or sonorant, the lower limit holds too
    assert not sonorant(s.text_first_phone) or s.before_text_s <= E["before_sonorant_text_s"], (key, s)
    assert not sonorant(t.text_last_phone) or t.after_text_s <= E["after_sonorant_text_s"], (key, t)
    # after the aligned end a word leaves no frame as loud as the speech itself
    assert t.loud_after_text_s is not None and t.loud_after_text_s <= E["loud_after_text_s"], (key, t)
    # the aligner puts the text where the speech is (within a consonant at each end)
    assert s.text_start_s is not None and abs(s.text_start_s - c.speech_start) <= 0.12, (key, s.text_start_s,
                                                                                          c.speech_start)
    # (a recording's speech_end includes its last word's decay into the room: up to ~0.3 s)
    assert t.text_end_s is not None and abs(t.text_end_s - c.speech_end) <= 0.3, (key, t.text_end_s, c.speech_end)


# (kind, seconds, dB re speech): the 0.3 s at -10..0 dB, and the up to ~1 s users report
# from LuxTTS. Shorter bursts are mostly under the limit by construction (CALIBRATION.md: 0.2 s
# caught 91 % shaped / 56 % reversed with the other start rules, 0.1 s 15 %)
GARBAGE = [("reversed", 0.5, 0.0), ("reversed", 0.8, -5.0), ("reversed", 1.0, -10.0),
           ("shaped", 0.3, 0.0), ("shaped", 0.3, -10.0)]


@pytest.mark.parametrize("key", list(CLEAN) + HUMAN)
@pytest.mark.parametrize("garbage", GARBAGE, ids=lambda g: f"{g[0]}-{g[1]}s-{g[2]:g}dB")
def test_speech_like_garbage_glued_before_the_first_word_is_found(
        clips: dict[str, C.Clip], key: str, garbage: tuple[str, float, float]) -> None:
    c = clips[key]
    audio, b0, b1 = C.glue_at_edge(c, "lead", _garbage(*garbage, c, clips[f"donor_{c.sr}"], seed=len(key)))
    s, _ = _edges(audio, c.sr, c.text)
    assert s.before_text_s is not None and s.before_text_s > E["before_text_s"], (key, garbage, s)
    # where: the sound counted starts in the burst, and the text after it
    assert s.before_text_from_s is not None and b0 - 0.03 <= s.before_text_from_s < b1, (s, b0, b1)
    assert s.text_start_s is not None and s.text_start_s >= b1 - 0.1, (s, b0, b1)


def test_speech_like_garbage_glued_after_the_last_word_is_found_mostly(clips: dict[str, C.Clip]) -> None:
    """After the last word the aligner can stretch a final nasal or vowel over voiced garbage
    (the human "…for them." takes half a second of it), so this side is a rate: at least 80 %
    of these bursts (CALIBRATION.md: 58 % of 0.1-0.3 s bursts with the other tail rules), each
    one found placed in its burst."""
    found, missed = 0, []
    for key in list(CLEAN) + HUMAN:
        c = clips[key]
        for garbage in GARBAGE:
            burst = _garbage(*garbage, c, clips[f"donor_{c.sr}"], seed=len(key) + 100)
            audio, b0, b1 = C.glue_at_edge(c, "tail", burst)
            _, t = _edges(audio, c.sr, c.text)
            if t.after_text_s is None or t.after_text_s <= E["after_text_s"]:
                missed.append((key, garbage, t.after_text_s, t.text_end_s, round(b0, 2)))
                continue
            found += 1
            # where: the sound counted ends in the burst, and the text before it
            assert t.after_text_to_s is not None and b0 < t.after_text_to_s <= b1 + 0.03, (key, garbage, t, b0, b1)
            assert t.text_end_s is not None and t.text_end_s <= b0 + 0.1, (key, garbage, t, b0, b1)
    assert found >= 0.8 * (found + len(missed)), missed


# shorter bursts, the 0.1-0.2 s: under before_text_s's 0.15 s by construction
SHORT = [("reversed", 0.12, 0.0), ("reversed", 0.15, -5.0), ("shaped", 0.12, -5.0)]


def test_short_garbage_at_a_vowel_or_sonorant_edge_is_found_by_the_lower_limit(clips: dict[str, C.Clip]) -> None:
    """Where the text ends (begins) with a vowel or sonorant the aligner does not leave part of
    the word outside, so 0.12-0.15 s of garbage left there is over the lower limit: at least two
    in three of these bursts on this page's takes with such edges (measured: 20 of 27, of which
    16 under before_text_s's / after_text_s's limit, which alone would pass them; CALIBRATION.md
    "A vowel's edge is not left outside": 0.1 s bursts after the last word 63 -> 131 of 349 over
    eighteen draws). The misses are bursts the aligner folds into the word, which no limit on
    what it leaves sees."""
    found, missed, under_old = 0, [], 0
    for key in list(CLEAN) + HUMAN:
        c = clips[key]
        clean_start, clean_tail = _edges(c.audio, c.sr, c.text)
        for side in ("lead", "tail"):
            if not sonorant(clean_start.text_first_phone if side == "lead" else clean_tail.text_last_phone):
                continue
            for garbage in SHORT:
                burst = _garbage(*garbage, c, clips[f"donor_{c.sr}"], seed=len(key) + 7)
                audio, b0, b1 = C.glue_at_edge(c, side, burst)
                s, t = _edges(audio, c.sr, c.text)
                value, key_s = (s.before_text_s, "before") if side == "lead" else (t.after_text_s, "after")
                if value is None or value <= E[f"{key_s}_sonorant_text_s"]:
                    missed.append((key, side, garbage, value))
                    continue
                found += 1
                under_old += value <= E[f"{key_s}_text_s"]
    assert found + len(missed) >= 12, "too few takes with a vowel or sonorant edge to say"
    assert found >= 2 / 3 * (found + len(missed)), missed
    assert under_old >= found / 2, (under_old, found)


# the shortest and loudest: 0.1 s at the speech level
LOUD_SHORT = [("reversed", 0.1, 0.0), ("shaped", 0.1, 0.0)]


def test_short_garbage_as_loud_as_the_speech_after_the_last_word_is_found_by_its_level(
        clips: dict[str, C.Clip]) -> None:
    """0.1 s of garbage glued after the last word is under after_text_s's 0.15 s by construction,
    and after an obstruent the aligner may leave that much of an accent's reduced vowel outside.
    No clean take leaves a frame as loud as the speech after the aligned end (CALIBRATION.md "As
    loud as the speech, after the text": 3rd-loudest clean frame at most -5.3 dB re speech over
    588 takes), so at the speech level it is a syllable more: loud_after_text_s. At least half of
    these bursts on this page's takes, two seeds each (measured: 16 of 24, 6 of them under the
    other after-text limits, which alone would pass them), each found placed in its burst; the
    misses are bursts the aligner folds into the word, or reversed speech whose syllables peak
    under the speech level."""
    found, missed, only_by_level = 0, [], 0
    for key in list(CLEAN) + HUMAN:
        c = clips[key]
        for garbage in LOUD_SHORT:
            for seed in (11, 12):
                burst = _garbage(*garbage, c, clips[f"donor_{c.sr}"], seed=len(key) + seed)
                audio, b0, b1 = C.glue_at_edge(c, "tail", burst)
                _, t = _edges(audio, c.sr, c.text)
                if t.loud_after_text_s is None or t.loud_after_text_s <= E["loud_after_text_s"]:
                    missed.append((key, garbage, seed, t.loud_after_text_s, t.text_end_s, round(b0, 2)))
                    continue
                found += 1
                assert t.after_text_to_s is not None and b0 < t.after_text_to_s <= b1 + 0.03, (key, garbage, t, b0, b1)
                limit = E["after_sonorant_text_s"] if sonorant(t.text_last_phone) else E["after_text_s"]
                only_by_level += t.after_text_s is not None and t.after_text_s <= limit
    assert found >= (found + len(missed)) / 2, missed
    assert only_by_level >= found / 4, (only_by_level, found)


def test_words_outside_the_dictionary_get_phones_from_espeak() -> None:
    assert arpabet("LuxTTS").split()[:3] == ["L", "AH", "K"]
    assert "TH" in arpabet("8472").split() and arpabet("...") == ""


def test_no_path_through_a_text_the_take_does_not_hold(clips: dict[str, C.Clip]) -> None:
    """Text of ten times the take's words: no alignment, so nothing is said of the start."""
    c = clips["piper_students_22k"]
    span = text_span(c.audio, c.sr, " ".join([c.text] * 10))
    assert span is None
    s, t = edge_metrics(c.audio, c.sr, speech_segments(c.audio, c.sr), (), expected_text=c.text, text_span=span)
    assert s.before_text_s is None and s.text_start_s is None
    assert t.after_text_s is None and t.text_end_s is None
