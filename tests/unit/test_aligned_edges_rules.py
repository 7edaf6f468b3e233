"""The edge rules that read where a forced alignment put the text (a hand-set TextSpan here; the
real aligner on real takes is tests/models/test_aligned_edges.py), and the release rule, both
ways on synthetic takes."""
from __future__ import annotations

import numpy as np
import pytest
from edge_rules import noisy_start, noisy_tail, tail_fails
from synthetic_speech import SR, noise, vowel

from pytest_luxgate.core.types import Segment, TextSpan, Word
from pytest_luxgate.metrics.edges import DEFAULTS as E
from pytest_luxgate.metrics.edges import ALIGNED_CLEAR_S, _quiet_from, start_metrics, tail_metrics
from pytest_luxgate.metrics.glued import onset_like
from pytest_luxgate.metrics.level import db


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR))


def _cat(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts).astype(np.float32)


LEVEL = float(db(0.1))  # the vowel's level, dBFS: every rel_db above is re this


# ---------------------------------------------------------------- glued.onset_like

def test_a_sibilant_or_voicing_sounds_like_a_word_start_and_broadband_noise_does_not() -> None:
    rng = np.random.default_rng(1)
    assert onset_like(_cat(noise(0.1, -15.0, rng, 3500.0)), SR, LEVEL, 0.0, 0.1, -25.0)
    assert onset_like(_cat(vowel(0.1, rng)), SR, LEVEL, 0.0, 0.1, -25.0)
    assert not onset_like(_cat(noise(0.1, -10.0, rng)), SR, LEVEL, 0.0, 0.1, -25.0)
    # frames under the level asked about are not asked: a weak /h/ or /f/ is broadband too
    assert onset_like(_cat(noise(0.1, -35.0, rng)), SR, LEVEL, 0.0, 0.1, -25.0)


def test_a_plosive_release_is_allowed_but_a_click_is_not() -> None:
    """A /p/ burst: 10 ms of broadband noise before the vowel; a click: one loud sample 30 ms
    before it (a click inside the vowel's first frame reads as voiced: not this rule's to find)."""
    rng = np.random.default_rng(6)
    silence, voicing = _silence(0.05), vowel(0.1, rng)
    release = _cat(silence, noise(0.01, -10.0, rng), voicing)
    assert onset_like(release, SR, LEVEL, 0.0, 0.16, -25.0)
    click = _cat(silence, voicing)
    click[int(0.02 * SR)] = 0.8
    assert not onset_like(click, SR, LEVEL, 0.0, 0.15, -25.0)
    assert not onset_like(_cat(silence, noise(0.05, -10.0, rng), voicing), SR, LEVEL, 0.0, 0.2, -25.0)


# ---------------------------------------------------------------- the aligned first consonant

def _s_closurevowel(rng: np.random.Generator, consonant: np.ndarray, closure_s: float = 0.05
                     ) -> tuple[np.ndarray, float, float]:
    """0.1 s silence, `consonant`, a closure, then a vowel: audio, consonant start, vowel start."""
    head = _silence(0.1)
    x = _cat(head, consonant, _silence(closure_s), vowel(0.6, rng), _silence(0.1))
    c0 = len(head) / SR
    return x, c0, c0 + len(consonant) / SR + closure_s


def _start(x: np.ndarray, vowel_s: float, span: TextSpan | None):
    # the VAD segment where a VAD hears the vowel: Silero ignores the /s/ and the closure
    return start_metrics(x, SR, [Segment(vowel_s, len(x) / SR - 0.1)], (), text_span=span)


def test_an_s_the_aligner_starts_the_word_on_is_the_words_and_without_it_isnoise() -> None:
    rng = np.random.default_rng(2)
    x, c0, v0 = _s_closurevowel(rng, noise(0.1, -30.0, rng, 3500.0))
    aligned = TextSpan(c0, 0.9, v0 + 0.2, "S")
    s = _start(x, v0, aligned)
    assert not noisy_start(s) and s.onset_s == pytest.approx(c0, abs=0.011), s
    assert noisy_start(_start(x, v0, None))  # the same sound with no alignment: measured as noise


@pytest.mark.parametrize("late_s, clean", [(0.0, True), (0.02, True), (0.03, True), (0.05, False)])
def test_an_aligned_start_a_frame_or_two_inside_the_consonant_leaves_its_first_sound_unmeasured(
        late_s: float, clean: bool) -> None:
    """The aligner's phone edges lie on 10 ms frames and move by one or two under a 1 LSB
    perturbation (a 16 kHz Kokoro "Thanks": 0.32 -> 0.34 s on one dither draw in twelve); an onset
    it placed leaves the consonant's first 10-20 ms before it then, and at 10 ms clear they read as
    pre-onset noise (-34.5 dB, limit -38). So pre-onset sound is measured ALIGNED_CLEAR_S (30 ms)
    clear of such an onset: an /s/ at -30 dB re the vowel (under the walks) passes with the word
    aligned up to 30 ms late (at 10 ms clear, 20 ms late read -37.5 dB and failed); aligned 50 ms
    late, its first 20 ms are still measured and fail."""
    rng = np.random.default_rng(7)
    x, c0, v0 = _s_closurevowel(rng, noise(0.1, -30.0, rng, 3500.0))
    s = _start(x, v0, TextSpan(c0 + late_s, 0.9, v0 + 0.2, "S"))
    assert s.onset_s == pytest.approx(c0 + late_s, abs=0.011), s
    assert noisy_start(s) is not clean, s
    assert s.pre_onset_s == pytest.approx(s.onset_s - ALIGNED_CLEAR_S, abs=0.001), s


def test_an_onset_the_walks_found_is_measured_from_10_ms_clear_of_it() -> None:
    """Only an onset the alignment placed gets ALIGNED_CLEAR_S: 40 ms of noise at -33 dB ending
    10 ms before a vowel the walks start on reads -35 dB 10 ms clear of it and fails (30 ms clear
    it would read -38.2 and pass)."""
    rng = np.random.default_rng(8)
    x = _cat(_silence(0.2), noise(0.04, -33.0, rng), _silence(0.01), vowel(0.6, rng), _silence(0.1))
    s = start_metrics(x, SR, [Segment(0.25, 0.85)], ())
    assert s.onset_s == pytest.approx(0.25, abs=0.011) and s.pre_onset_s == pytest.approx(s.onset_s - 0.01, abs=0.001), s
    assert noisy_start(s), s


def _edge_sound(why: str, rng: np.random.Generator, rel_db: float) -> tuple[np.ndarray, float]:
    """The consonant and the closure beside it for a case the aligned edge does not excuse: an
    /s/ at `rel_db` re the vowel and a 50 ms closure, but broadband and loud, too long, or with a
    pause for the closure."""
    consonant = {"broadband, loud": noise(0.1, -10.0, rng), "too long": noise(0.3, rel_db, rng, 3500.0)
                 }.get(why, noise(0.1, rel_db, rng, 3500.0))
    return consonant, 0.15 if why.startswith("a pause") else 0.05


@pytest.mark.parametrize("why", ["vowel first", "broadband, loud", "a pause after it", "too long",
                                 "onset past the aligned word"])
def test_what_the_aligned_word_start_does_not_excuse(why: str) -> None:
    rng = np.random.default_rng(3)
    x, c0, v0 = _s_closurevowel(rng, *_edge_sound(why, rng, -30.0))
    span = TextSpan(c0, 0.9, v0 - 0.01 if why == "onset past the aligned word" else v0 + 0.2,
                    "AH" if why == "vowel first" else "S")
    s = _start(x, v0, span)
    assert noisy_start(s), s


# ---------------------------------------------------------------- the aligned first word's end

def _hot_coffee(rng: np.random.Generator) -> tuple[np.ndarray, list[Word]]:
    """Two words parted by a 0.12 s closure; Whisper stretches the first over the closure."""
    x = _cat(vowel(0.25, rng), _silence(0.12), vowel(0.55, rng), _silence(0.1))
    return x, [Word("Hot", 0.0, 0.48, 0.9), Word("coffee", 0.48, 0.92, 0.9)]


def test_a_closure_after_the_aligned_first_word_is_not_a_pause_before_it() -> None:
    rng = np.random.default_rng(4)
    x, words = _hot_coffee(rng)
    segs = [Segment(0.0, 0.92)]
    text = "Hot coffee"
    whisper_only = start_metrics(x, SR, segs, words, expected_text=text)
    assert whisper_only.lead_garbage_s > E["lead_garbage_s"], whisper_only  # "Hot" read as garbage
    aligned = start_metrics(x, SR, segs, words, expected_text=text, text_span=TextSpan(0.0, 0.92, 0.27, "HH"))
    assert aligned.lead_garbage_s <= 0.05, aligned
    # an aligner that ends the first word after the closure leaves the closure before it
    later = start_metrics(x, SR, segs, words, expected_text=text, text_span=TextSpan(0.0, 0.92, 0.45, "HH"))
    assert later.lead_garbage_s == whisper_only.lead_garbage_s


# ---------------------------------------------------------------- the aligned last consonant

def _vowel_s_release(rng: np.random.Generator, consonant: np.ndarray, closure_s: float = 0.05,
                     release_db: float = -20.0) -> tuple[np.ndarray, float, float]:
    """0.1 s silence, a 0.6 s vowel, `consonant`, a closure, a 10 ms release, 0.3 s silence
    (a slow "test."): audio, the vowel's end, the release's end."""
    x = _cat(_silence(0.1), vowel(0.6, rng), consonant, _silence(closure_s),
             noise(0.01, release_db, rng), _silence(0.3))
    v1 = 0.7
    return x, v1, v1 + (len(consonant) + int(closure_s * SR) + int(0.01 * SR)) / SR


def _tail(x: np.ndarray, span: TextSpan | None, vad_end: float = 0.55):
    # Silero ended the take inside the vowel, 0.15 s before its end (farther than its walk goes)
    return tail_metrics(x, SR, [Segment(0.1, vad_end)], (), text_span=span)


def test_a_final_s_and_release_the_aligner_ends_the_word_on_are_the_words() -> None:
    rng = np.random.default_rng(8)
    x, v1, r1 = _vowel_s_release(rng, noise(0.1, -20.0, rng, 3500.0))
    t = _tail(x, TextSpan(0.1, r1, 0.4, "T", 0.4, "T"))
    assert not noisy_tail(t) and t.offset_s == pytest.approx(r1, abs=0.011), t
    assert noisy_tail(_tail(x, None))  # the same sound with no alignment: measured as noise


def test_a_vowel_the_vad_cut_short_is_the_words_and_noise_after_the_same_cut_is_not() -> None:
    """The walk on over voicing the VAD missed (the tail's walk_missed_voicing), both ways."""
    rng = np.random.default_rng(9)
    clean = _cat(_silence(0.1), vowel(0.6, rng), _silence(0.3))
    aligned = TextSpan(0.1, 0.7, 0.4, "AH", 0.4, "AH")
    t = _tail(clean, aligned)
    assert not noisy_tail(t) and t.offset_s == pytest.approx(0.7, abs=0.011), t
    # where the aligner ends the text at the VAD's offset, the voicing after it is not the text's:
    # the offset stays where one walk took it
    cut = _tail(clean, TextSpan(0.1, 0.55, 0.4, "AH", 0.4, "AH"))
    assert cut.offset_s <= 0.66, cut
    noisy = _cat(_silence(0.1), vowel(0.5, rng), noise(0.2, -10.0, rng), _silence(0.3))
    t2 = _tail(noisy, aligned)
    assert tail_fails(t2) and t2.offset_s <= 0.61, t2


def test_noise_running_on_past_the_aligned_end_is_not_a_release() -> None:
    """The aligner ends the text 20 ms into a 0.1 s burst of white noise glued after the release
    (a Piper "help." of a glued-noise draw): what follows the aligned end is measured."""
    rng = np.random.default_rng(11)
    x, v1, r1 = _vowel_s_release(rng, noise(0.1, -20.0, rng, 3500.0))
    burst = int((r1 + 0.01) * SR)
    x[burst:burst + int(0.1 * SR)] += noise(0.1, 0.0, rng).astype(np.float32)
    t = _tail(x, TextSpan(0.1, r1 + 0.03, 0.4, "T", 0.4, "T"))
    assert noisy_tail(t), t


@pytest.mark.parametrize("why", ["vowel last", "broadband, loud", "a pause before the release", "too long",
                                 "offset before the aligned last word"])
def test_what_the_aligned_word_end_does_not_excuse(why: str) -> None:
    rng = np.random.default_rng(10)
    x, v1, r1 = _vowel_s_release(rng, *_edge_sound(why, rng, -20.0))
    span = TextSpan(0.1, r1, 0.4, "T", r1 - 0.02 if why == "offset before the aligned last word" else 0.4,
                    "AH" if why == "vowel last" else "T")
    t = _tail(x, span)
    assert noisy_tail(t), t


# ---------------------------------------------------------------- the last word's end

def _slow_last_word(rng: np.random.Generator, after: np.ndarray) -> tuple[np.ndarray, list[Word]]:
    """"Fix it fast." as a slow engine says it: two short words, then a 0.9 s "fast." that Whisper
    ends 0.15 s in (as base does on Piper at length_scale 1.5), then `after`."""
    x = _cat(_silence(0.1), vowel(0.25, rng), _silence(0.1), vowel(0.15, rng), _silence(0.1),
             vowel(0.9, rng), after, _silence(0.3))
    return x, [Word("Fix", 0.1, 0.35), Word("it", 0.45, 0.6), Word("fast.", 0.7, 0.85)]


@pytest.mark.parametrize("garbage_s", [0.0, 0.3])
def test_the_last_word_ends_no_earlier_than_the_aligned_text(garbage_s: float) -> None:
    """A slow last word whose length outruns Whisper's end and the word-length cap is the word's
    where the aligner ends the text with it and the VAD agrees; sound after the aligned end is
    still garbage."""
    rng = np.random.default_rng(12)
    x, words = _slow_last_word(rng, vowel(garbage_s, rng) * 0.7 if garbage_s else _silence(0.0))
    end = 1.6 + garbage_s  # where the sound ends, and the VAD with it
    text = "Fix it fast."
    alone = tail_metrics(x, SR, [Segment(0.1, end)], words, expected_text=text)
    assert alone.trail_garbage_s > E["trail_garbage_s"], alone  # what Whisper's end alone reads
    t = tail_metrics(x, SR, [Segment(0.1, end)], words, expected_text=text,
                     text_span=TextSpan(0.1, 1.6, 0.35, "F", 0.7, "T"))
    if garbage_s:
        assert "trail_garbage_s" in tail_fails(t), t
    else:
        assert t.last_word_end_s >= 1.6 and t.trail_garbage_s == 0.0, t
        assert "trail_garbage_s" not in tail_fails(t), t


def test_an_aligned_end_the_vad_runs_past_does_not_end_the_word() -> None:
    """Where the VAD hears speech 0.15 s past the aligned end (garbage the aligner folded partly
    into the word), Whisper's end stands: 0.3 s of garbage is measured from it."""
    rng = np.random.default_rng(12)
    x, words = _slow_last_word(rng, vowel(0.3, rng) * 0.7)
    span = TextSpan(0.1, 1.75, 0.35, "F", 0.7, "T")
    t = tail_metrics(x, SR, [Segment(0.1, 1.9)], words, expected_text="Fix it fast.", text_span=span)
    assert t.last_word_end_s < 1.75 and "trail_garbage_s" in tail_fails(t), t


# ---------------------------------------------------------------- a final stop's release

def test_quiet_from_finds_the_first_lasting_quiet() -> None:
    q = np.array([False, True, False, True, True, True, True, False])
    assert _quiet_from(q, 4) == 3
    assert _quiet_from(q, 5) == len(q)
    assert _quiet_from(np.array([False, False, True]), 4) == 2  # a shorter run that reaches the end


def _release_take(rng: np.random.Generator, after: np.ndarray) -> np.ndarray:
    """A vowel, an 80 ms closure, a 60 ms release at -30 dB re speech that dips under -40 dB for
    10 ms and touches it again for 10 ms, then `after`."""
    release = _cat(noise(0.03, -30.0, rng, 1000.0), noise(0.01, -45.0, rng, 1000.0),
                   noise(0.01, -39.0, rng, 1000.0), noise(0.01, -44.0, rng, 1000.0))
    return _cat(_silence(0.1), vowel(0.6, rng), _silence(0.08), release, after)


def test_a_ragged_release_is_the_words_but_noise_after_it_is_measured() -> None:
    rng = np.random.default_rng(5)
    clean = _release_take(rng, _silence(0.3))
    t = tail_metrics(clean, SR, [Segment(0.1, 0.7)], ())
    assert t.post_offset_noise_db is None or t.post_offset_noise_db <= E["post_offset_noise_db"], t
    noisy = _release_take(rng, _cat(noise(0.25, -30.0, rng, 1000.0), _silence(0.05)))
    t2 = tail_metrics(noisy, SR, [Segment(0.1, 0.7)], ())
    assert t2.post_offset_noise_db is not None and t2.post_offset_noise_db > E["post_offset_noise_db"], t2
