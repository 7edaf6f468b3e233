"""The forced alignment of a take depends on the take and its text alone.

Not on what the process aligned before it: the aligner's front end carried state from one
utterance into the next, and the take before moved a take's edges by 10-30 ms (9 of 59
calibration takes), so the same take could get another `before_text_s` under `-n 2` than
under `-n 0`. Real recordings and Piper takes, aligned in one order, in the reverse order, and
each by a fresh aligner, must agree.

Nor on its gain: the 16-bit samples the decoder hears were rounded relative to full scale, and
a quiet Kokoro "Stay safe." aligned "Stay" after its vowel, at half the gain with its /s/."""
from __future__ import annotations

import sys
from pathlib import Path

import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import speech_corpus as C

from pytest_luxgate.core.audio import to_16k
from pytest_luxgate.listeners import aligner

TAKES = Path(__file__).resolve().parents[1] / "data" / "takes"
#: Kokoro seed 47 of bench/calibrate_glued_noise.py --set kokoro (peak -17 dBFS)
QUIET_STAY = C.ClipSpec("Stay safe.", "kokoro", voice="jf_tebukuro", length_scale=0.85, rate=16_000,
                        lead_s=0.3, trail_s=0.05, gain=0.3)
TAKE_TEXTS = {"piper_coffee_slow_24k.wav": "Hot coffee, please.", "piper_help_slow_24k.wav": "Thanks for the help."}


def _inputs() -> list[tuple[bytes, str]]:
    out = []
    for name in C.HUMAN_TEXTS:
        clip = C.human_clip(name)
        out.append((aligner.to_pcm16(to_16k(clip.audio, clip.sr)), clip.text))
    for name, text in TAKE_TEXTS.items():
        audio, rate = sf.read(TAKES / name, dtype="float32")
        out.append((aligner.to_pcm16(to_16k(audio, rate)), text))
    return out


def test_a_take_aligns_the_same_whatever_was_aligned_before() -> None:
    takes = _inputs()
    shared = aligner._Aligner()
    forward = [shared.span(pcm, text) for pcm, text in takes]
    backward = [shared.span(pcm, text) for pcm, text in reversed(takes)][::-1]
    alone = [aligner._Aligner().span(pcm, text) for pcm, text in takes]
    assert all(span is not None for span in alone)
    assert forward == alone, [(f, a) for f, a in zip(forward, alone) if f != a]
    assert backward == alone, [(b, a) for b, a in zip(backward, alone) if b != a]


def test_a_take_aligns_the_same_at_any_gain(tmp_path: Path) -> None:
    clip = C.make_clip(QUIET_STAY, tmp_path)
    spans = {g: aligner.text_span(clip.audio * g, clip.sr, clip.text) for g in (1.0, 0.5, 0.3, 2.5)}
    assert spans[1.0] is not None and len(set(spans.values())) == 1, spans
    assert aligner.to_pcm16(clip.audio) == aligner.to_pcm16(clip.audio * 0.5)
