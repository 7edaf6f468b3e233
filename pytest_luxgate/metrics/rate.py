"""Speaking rate in syllables per second of the spoken form of the text.

Written text hides how long it is to say ("8472" is six syllables, "p.m." two),
so the text is phonemised with espeak-ng (bundled in piper-tts) and syllables
are counted as vowel nuclei. Syllable rate is the usual measure of tempo in
phonetics: conversational English runs at about 3-6 syllables per second.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from ..core.types import Segment

# IPA vowel letters; a run of them (with length/stress marks between) is one nucleus
_VOWELS = "aeiouyæɑɐɒɔəɘɚɛɜɝɞɤɨɪɯɵøœɶʉʊʌʏ"
_NUCLEUS = re.compile(f"[{_VOWELS}][{_VOWELS}ːˑ]*")


@dataclass(frozen=True)
class Rate:
    syllables: int
    words: int
    speech_s: float
    syllables_per_s: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=1)
def _phonemizer() -> Any:
    from piper.phonemize_espeak import EspeakPhonemizer

    return EspeakPhonemizer()


def spoken_units(text: str) -> tuple[int, int, str]:
    """(syllables, words, method) of the text as it is spoken."""
    try:
        sentences = _phonemizer().phonemize("en-us", text)
    except Exception:  # no espeak data: estimate from letters, and say so in `method`
        words = re.findall(r"[A-Za-z']+|\d", text)
        vowels = sum(len(re.findall(r"[aeiouy]+", w.lower())) or 1 for w in words)
        return vowels, len(words), "spelling estimate"
    ipa = " ".join("".join(s) for s in sentences)
    words = [w for w in re.split(r"\s+", ipa) if _NUCLEUS.search(w)]
    return len(_NUCLEUS.findall(ipa)), len(words), "espeak-ng phonemes"


def speaking_rate(text: str, segments: list[Segment]) -> Rate:
    """Syllables per second over the span from first speech onset to last offset."""
    syllables, words, method = spoken_units(text)
    span = (segments[-1].end - segments[0].start) if segments else 0.0
    rate = syllables / span if span > 0 else 0.0
    return Rate(syllables, words, round(span, 3), round(rate, 3), method)
