"""Noise shaped like speech, glued to a word: unvoiced sound outside the aligned text is noise.

Noise with a voice's own long-term spectrum (random phase) is partly harmonic: YIN reads it
0.5-0.8, not broadband noise's ~1, so `glued.noise_frames` (at or above NOISE_APERIODICITY)
took a 0.1 s burst of it glued to the first word for the word's onset, and the aligned-text
limit (`before_text_s`, 0.15 s at an obstruent edge) is longer than the burst. Outside the
aligned text a loud, unvoiced, not sibilant frame is now noise (`glued.unvoiced_frames`); inside
it the stricter test stays, because a word's own breathy /h/ reads the same: a slow Kokoro
"Happy" (its /h/ 0.2 s at -13 dB) failed on all five draws that hold it when a looser test
(0.55) applied everywhere (docs/CALIBRATION.md "Unvoiced sound outside the text"). Before the
text only a vowel's steady part is voiced (`glued.BEFORE_TEXT_VOICED_APERIODICITY`, 0.2): at
0.5, 19-45 % of such a burst's loud frames read voiced and ended the search for it ("Partly
periodic sound before the text").

A burst at a take's very first sample is the other half: the aligner's optional silence before
the first word has no frames to take there, and the first word took the burst in. The decoder
now hears `aligner.LEAD_PAD_S` of silence before a take that starts in sound.

Both ways, on real takes: the slow "Happy" passes, and had the aligner started the text at its
vowel the same /h/ would fail; 0.1 s bursts of each take's own speech-shaped noise glued before
the first word and after the last (-10, -5, 0 dB re speech) fail far more often with the rule
than without it, each found one placed in its burst; with the pad the aligner starts the text
after such a burst at sample 0, without it on half of them.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import speech_corpus as C
from edge_rules import start_fails, tail_fails

from pytest_luxgate.listeners.aligner import text_span
from pytest_luxgate.listeners.vad import speech_segments
from pytest_luxgate.metrics import glued
from pytest_luxgate.metrics.edges import edge_metrics

TAKES = Path(__file__).resolve().parents[1] / "data" / "takes"
#: the clean take the looser test failed (bench/calibrate_glued_noise.py --set kokoro --seed 43)
HAPPY = C.ClipSpec("Happy birthday to you.", "kokoro", voice="jf_gongitsune", length_scale=1.3, rate=24_000,
                   lead_s=0.02, trail_s=0.05, gain=1.249)
#: clean takes for the bursts: three engines, 16-48 kHz (Kokoro seeds as in test_aligned_edges)
MADE = {
    "kokoro_stay_16k": C.ClipSpec("Stay safe.", "kokoro", voice="jf_tebukuro", length_scale=1.0, rate=16_000,
                                  lead_s=0.0, noise_db=-60.0, gain=0.3),
    "kokoro_morning_24k": C.ClipSpec("Every morning I walk the dog.", "kokoro", voice="jf_alpha",
                                     rate=24_000, lead_s=0.02, trail_s=0.05),
    "espeak_check_48k": C.ClipSpec("Check the numbers twice.", "espeak", voice="en-gb+m1", speed=150,
                                   rate=48_000, lead_s=0.05, trail_s=0.05),
    "espeak_plant_22k": C.ClipSpec("Plant the seeds in spring.", "espeak", voice="en-us+f3", speed=170,
                                   rate=22_050, lead_s=0.02, trail_s=0.02),
}
KEPT = {"piper_fix_slow_a_24k": "Fix it fast.", "piper_coffee_slow_24k": "Hot coffee, please.",
        "piper_help_slow_24k": "Thanks for the help."}
LEVELS = (-10.0, -5.0, 0.0)


@pytest.fixture(scope="module")
def takes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, C.Clip]:
    cache = tmp_path_factory.mktemp("unvoiced")
    out = {k: C.make_clip(spec, cache) for k, spec in MADE.items()}
    for name, text in KEPT.items():
        audio, sr = sf.read(TAKES / f"{name}.wav", dtype="float32")
        out[name] = C.Clip(name, audio, sr, text, *C.speech_bounds(audio, sr))
    out["happy"] = C.make_clip(HAPPY, cache)
    return out


def _speech_shaped(c: C.Clip, rel_db: float, seed: int, seconds: float = 0.1) -> np.ndarray:
    """`seconds` of noise with the take's own long-term spectrum at `rel_db` re its speech, faded
    in and out as bench/calibrate_glued_noise.py makes it."""
    x = C.fade(C.speech_shaped_noise(c, seconds, np.random.default_rng(seed)), c.sr)
    level = 10 ** ((C.speech_level_db(c.audio, c.sr) + rel_db) / 20)
    return (x / np.sqrt(np.mean(x ** 2)) * level).astype(np.float32)


def _judged(audio: np.ndarray, sr: int, text: str):
    span = text_span(audio, sr, text)
    assert span is not None, "the aligner found no path through the text"
    s, t = edge_metrics(audio, sr, speech_segments(audio, sr), (), expected_text=text, text_span=span)
    return s, t, span


def test_a_slow_breathy_h_inside_the_text_is_the_words(takes: dict[str, C.Clip]) -> None:
    c = takes["happy"]
    s, t, span = _judged(c.audio, c.sr, c.text)
    assert not start_fails(s) and not tail_fails(t), (s, t)
    assert span.first_phone == "HH" and span.start_s <= c.speech_start + 0.03, span
    # what the rule is about: the /h/ before the vowel is a run of loud, unvoiced, not sibilant
    # frames as long as a glued burst...
    level_db = C.speech_level_db(c.audio, c.sr)
    vowel = glued.first_voiced(c.audio, c.sr, level_db, span.start_s, span.start_s + 0.5)
    assert vowel is not None and vowel - span.start_s >= 0.15, (vowel, span)
    fr = glued.frame_features(c.audio, c.sr, level_db, span.start_s, vowel)
    assert np.count_nonzero(glued.unvoiced_frames(fr)) >= glued.MIN_RUN, fr
    # ...and had the aligner started the text at the vowel, the same sound would be noise
    moved = replace(span, start_s=round(vowel + 0.02, 3))
    s2, _ = edge_metrics(c.audio, c.sr, speech_segments(c.audio, c.sr), (), expected_text=c.text, text_span=moved)
    assert "pre_onset_noise_db" in start_fails(s2), s2


@pytest.mark.parametrize("side", ["lead", "tail"])
def test_speech_shaped_noise_glued_to_the_word_is_found_outside_the_text(
        takes: dict[str, C.Clip], side: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """0.1 s bursts, each take's own spectrum, at the issue's levels (21 per side), judged three
    ways: as the gate does; with voicing before the text at VOICED_APERIODICITY, as inside it and
    after it (the rule before "Partly periodic sound before the text"); and with neither rule
    (unvoiced frames outside the text are not noise either, nor sound at the speech level after
    it: `loud_after_text_s` came later). Measured: before the first word 20, 16 and 8 found; after
    the last word 12, 12 and 3 (11, 11, 3 before `loud_after_text_s`). Asked: at least three quarters found before
    the word and an eighth of the bursts more than with voicing at 0.5 there, 40 % after it; a
    quarter more than with neither rule; each one found placed in its burst."""
    def judged(audio: np.ndarray, sr: int, text: str, voiced_before: float | None = None,
               unvoiced_noise: bool = True):
        with monkeypatch.context() as m:
            if voiced_before is not None:
                m.setattr(glued, "BEFORE_TEXT_VOICED_APERIODICITY", voiced_before)
            if not unvoiced_noise:
                m.setattr(glued, "unvoiced_frames", lambda feat, *_: np.zeros(len(feat["t"]), dtype=bool))
                m.setattr(glued, "AT_SPEECH_LEVEL_DB", np.inf)  # nor sound at the speech level after the text
            return _judged(audio, sr, text)

    def fails(s, t) -> list[str]:
        return start_fails(s) if side == "lead" else tail_fails(t)

    found, found_half, found_none, missed = 0, 0, 0, []
    for key, c in takes.items():
        if key == "happy":
            continue
        for k, rel_db in enumerate(LEVELS):
            audio, b0, b1 = C.glue_at_edge(c, side, _speech_shaped(c, rel_db, seed=31 * k + len(key)))
            s, t, _ = judged(audio, c.sr, c.text)
            found_half += bool(fails(*judged(audio, c.sr, c.text, glued.VOICED_APERIODICITY)[:2]))
            found_none += bool(fails(*judged(audio, c.sr, c.text, glued.VOICED_APERIODICITY, False)[:2]))
            why = fails(s, t)
            if not why:
                missed.append((key, rel_db))
                continue
            found += 1
            if side == "lead" and "pre_onset_noise_db" in why:  # the words start after the burst
                assert s.onset_s is not None and s.onset_s >= b1 - 0.05, (key, rel_db, s, b0, b1)
            if side == "tail" and "post_offset_noise_db" in why:  # ...and end before it
                assert t.offset_s is not None and t.offset_s <= b0 + 0.05, (key, rel_db, t, b0, b1)
    n = found + len(missed)
    if side == "lead":
        assert found >= 0.75 * n, (found, n, missed)
        assert found >= found_half + n / 8, (found, found_half, n)
    else:
        assert found >= 0.4 * n, (found, n, missed)
        assert found == found_half, (found, found_half, n)  # voicing after the text is as before
    assert found >= found_none + n / 4, (found, found_none, n)


def test_a_burst_at_the_takes_very_start_is_left_outside_the_text(
        takes: dict[str, C.Clip], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every take here begins within 0.1 s of its first word, so the burst starts at sample 0.
    With LEAD_PAD_S of silence before such a take the aligner starts the text after the burst;
    without it (the decoder's optional silence has no frames to take) it took the burst into the
    first word on about half of them. The times are the take's, not the padded take's."""
    from pytest_luxgate.listeners import aligner

    def outside(pad_s: float) -> list[bool]:
        got = []
        with monkeypatch.context() as m:
            m.setattr(aligner, "LEAD_PAD_S", pad_s)
            for key, c in takes.items():
                if key == "happy":
                    continue
                for k, rel_db in enumerate(LEVELS):
                    audio, b0, b1 = C.glue_at_edge(c, "lead", _speech_shaped(c, rel_db, seed=31 * k + len(key)))
                    assert b0 == 0.0, (key, b0)
                    span = text_span(audio, c.sr, c.text)
                    assert span is not None and 0.0 <= span.start_s < span.end_s <= len(audio) / c.sr, span
                    got.append(span.start_s >= b1 - 0.03)
        return got

    padded, bare = outside(aligner.LEAD_PAD_S), outside(0.0)
    # measured: 20 of 21 padded, 10 of 21 bare
    assert sum(padded) >= 2 / 3 * len(padded), (sum(padded), len(padded))
    assert sum(padded) - sum(bare) >= len(bare) / 4, (sum(padded), sum(bare), len(bare))

