"""Where the text's words are in a take: forced alignment with CMU Sphinx (pocketsphinx).

Whisper's word times cannot say where the first word begins when sound is glued to it: its
alignment starts at the segment start, so a burst before the word becomes part of the word.
An HMM aligner scores the text's own phones against the audio, frame by frame, with an
optional silence before the first word: sound that the first word's phones do not explain
better than silence is left before the word. `text_span` gives the first word's start and
the last word's end; metrics/glued.sound_before measures what lies before the start.

The acoustic model (CMU's US English continuous model) and its dictionary ship inside the
pocketsphinx wheel. Words the dictionary lacks (numbers, brand names) get their phones from
espeak-ng (metrics.content_words.phonemes) mapped onto the model's phone set. The decoder
is loaded once per process and is not thread-safe: calls hold a lock. Its front end is reset
before each take, so a take aligns as it would in a fresh process, whatever was aligned before.
"""
from __future__ import annotations

import os
import re
import threading
from typing import Any

import numpy as np

from ..core.audio import RATE_16K, to_16k
from ..core.types import TextSpan
from ..metrics.content_words import phonemes
from ..metrics.level import db, window_rms

#: seconds per pocketsphinx frame (its front end runs at 100 frames per second)
FRAME_S = 0.01
FLOOR_DB = -70.0  # the decoder hears the take over a noise floor this far below its peak (to_pcm16)
PEAK = 0.5  # ...with its peak here (re full scale): a gain does not change what the decoder hears
#: silence (the floor) the decoder hears before a take that starts in sound (`_lead_pad`)
LEAD_PAD_S = 0.2
#: a take starts in sound where its first 10 ms are this much louder than its floor (the
#: FLOOR_PERCENTILE of its 10 ms levels: a recording's room, a TTS take's silence) and within
#: AUDIBLE_DB of its loudest 10 ms: a room is not sound glued to the word
SOUND_OVER_FLOOR_DB = 20.0
FLOOR_PERCENTILE = 10
AUDIBLE_DB = -50.0
#: the decoder's entries that are not the text's words
FILLERS = frozenset({"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]"})
#: beams for a second try when the default ones lose every path to the end of the text
#: (espeak-ng voices, slow takes): wider, ~3x slower, same result where both finish
WIDE_BEAMS = {"beam": 1e-100, "wbeam": 1e-80, "pbeam": 1e-100}

#: espeak-ng segments (stress and length dropped, reduced vowels folded: content_words.phonemes)
#: onto the acoustic model's phones; longest first when read
_ARPABET = {
    "tʃ": "CH", "dʒ": "JH", "eɪ": "EY", "aɪ": "AY", "aʊ": "AW", "ɔɪ": "OY", "oʊ": "OW", "əʊ": "OW",
    "ɜ": "ER", "i": "IY", "ɪ": "IH", "ɛ": "EH", "e": "EH", "æ": "AE", "a": "AE", "ɑ": "AA", "ɒ": "AA",
    "ɔ": "AO", "o": "OW", "ʊ": "UH", "u": "UW", "ʌ": "AH", "ə": "AH",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "ɡ": "G", "g": "G", "f": "F", "v": "V",
    "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M", "n": "N",
    "ŋ": "NG", "l": "L", "ɹ": "R", "j": "Y", "w": "W", "x": "K",
}
_KEYS = sorted(_ARPABET, key=len, reverse=True)


def arpabet(word: str) -> str:
    """The model's phones for a word the dictionary lacks, from espeak-ng ('' if none)."""
    ipa = "".join(phonemes(word))
    out, i = [], 0
    while i < len(ipa):
        key = next((k for k in _KEYS if ipa.startswith(k, i)), None)
        if key is None:  # a segment the model has no phone for: left out
            i += 1
            continue
        out.append(_ARPABET[key])
        i += len(key)
    return " ".join(out)


class _Aligner:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._decoders: dict[bool, Any] = {}

    def _decoder(self, wide: bool) -> Any:
        if wide not in self._decoders:
            from pocketsphinx import Decoder, get_model_path

            model = get_model_path()
            self._decoders[wide] = Decoder(
                # bestpath off: the lattice rescoring that follows the search can prefer a path of
                # silence alone, which an alignment must never take
                hmm=os.path.join(model, "en-us", "en-us"), lm=None, loglevel="FATAL", bestpath=False,
                dict=os.path.join(model, "en-us", "cmudict-en-us.dict"), **(WIDE_BEAMS if wide else {}))
        return self._decoders[wide]

    def words(self, decoder: Any, text: str) -> list[str]:
        """The text as dictionary entries; a word the dictionary lacks is added from espeak-ng."""
        out = []
        for token in text.split():
            word = re.sub(r"[^a-z0-9']", "", token.lower()).strip("'")
            if not word:
                continue
            if re.fullmatch(r"[a-z']+", word) and decoder.lookup_word(word) is not None:
                out.append(word)
                continue
            entry = "luxgate_" + re.sub(r"[^a-z0-9]", "_", word)
            if decoder.lookup_word(entry) is None:
                phones = arpabet(token)
                if not phones:
                    continue
                decoder.add_word(entry, phones, True)
            out.append(entry)
        return out

    def span(self, pcm: bytes, text: str) -> TextSpan | None:
        with self._lock:
            for wide in (False, True):
                decoder = self._decoder(wide)
                words = self.words(decoder, text)
                if not words:
                    return None
                decoder.set_align_text(" ".join(words))
                # the front end carries state from the last utterance into the next (the take before
                # moved this one's edges by 10-30 ms on 9 of 59 takes): each take is aligned alone
                decoder.reinit_feat()
                try:
                    decoder.start_utt()
                    decoder.process_raw(pcm, full_utt=True)
                    decoder.end_utt()
                except RuntimeError:  # no path reached the end of the text
                    self._decoders.pop(wide, None)
                    continue
                if decoder.hyp() is None:
                    continue
                segs = [s for s in decoder.seg() if s.word not in FILLERS]
                # a path that ran out of audio before the text's end is no alignment
                if [s.word.split("(")[0] for s in segs] != words:
                    continue
                first = (decoder.lookup_word(segs[0].word) or "").split(" ")
                last = (decoder.lookup_word(segs[-1].word) or "").split(" ")
                return TextSpan(round(segs[0].start_frame * FRAME_S, 3), round((segs[-1].end_frame + 1) * FRAME_S, 3),
                                round((segs[0].end_frame + 1) * FRAME_S, 3), first[0],
                                round(segs[-1].start_frame * FRAME_S, 3), last[-1])
        return None


_ALIGNER = _Aligner()


def text_span(audio: np.ndarray, sample_rate: int, text: str) -> TextSpan | None:
    """Where the text's first word starts and its last word ends in this take, or None when
    the aligner finds no path through the whole text (then nothing is said of the edges)."""
    x = to_16k(audio, sample_rate)  # no copy when the caller resampled already
    head = _lead_pad(x)
    if not head:
        return _ALIGNER.span(to_pcm16(x), text)
    span = _ALIGNER.span(to_pcm16(np.concatenate([np.zeros(head), x])), text)
    if span is None:
        return None
    dur, by = len(x) / RATE_16K, head / RATE_16K

    def back(t: float) -> float:  # a time in the padded take, in the take (the pad is not the take's)
        return round(min(max(t - by, 0.0), dur), 3)

    last_start = None if span.last_word_start_s is None else back(span.last_word_start_s)
    return TextSpan(back(span.start_s), back(span.end_s), back(span.first_word_end_s), span.first_phone,
                    last_start, span.last_phone)


def _lead_pad(x: np.ndarray) -> int:
    """Samples of silence to put before a take (16 kHz) for the decoder: LEAD_PAD_S where the
    take starts in sound, else none.

    The alignment's optional silence before the first word can only take frames the take has: a
    take whose first sample is already sound (garbage glued at its very start, where LuxTTS users
    hear it) gives it none, and the first word's phones took the burst in: 0.1 s of noise shaped
    like the take's own speech at a file's start was left outside the text on 10 of 21 real
    takes, with LEAD_PAD_S of silence before it on 20 (tests/models/test_unvoiced_outside_text.py).
    Only where the take starts in sound, over its own floor: padding every take moved the aligned
    start of espeak-ng's short "Hush." past its /h/ on 5 clean takes, and padding recordings
    whose room is loud at the start (within 40 dB of the peak) lost bursts after their last word;
    not after the last word, where it caught nothing more (docs/CALIBRATION.md "Silence before a
    take that starts in sound")."""
    _, rms = window_rms(x, RATE_16K, 0.01, 0.01)
    if rms.size < 2:
        return 0
    level = db(rms)
    floor = float(np.percentile(level, FLOOR_PERCENTILE))
    starts_in_sound = level[0] > max(floor + SOUND_OVER_FLOOR_DB, float(level.max()) + AUDIBLE_DB)
    return round(LEAD_PAD_S * RATE_16K) if starts_in_sound else 0


def to_pcm16(x: np.ndarray) -> bytes:
    """16-bit samples for the decoder, under a fixed noise floor FLOOR_DB below the take's peak.

    Where the text began hung on the last bit where a take held exact digital silence (a TTS
    lead of zeros gives the decoder's front end frames of no energy at all, and its live
    cepstral mean starts from them): a 16-bit round trip of the take moved the start of
    Kokoro's "Stay" from 0.53 to 0.28 s, 1 LSB of dither moved espeak-ng's "Hush." from 0.30 to
    0.55 s. Under a floor the same for every call (a take always aligns the same way) and
    relative to the peak (a gain does not move it), the start moved by more than 0.05 s under
    a 16-bit round trip, a gain of 0.5 or 1 LSB of dither on 1 of the 234 clean takes of eight
    draws instead of 9, the end on 1 instead of 16 (docs/CALIBRATION.md). One step of fixed
    dither instead did less (1 and 5) and failed a clean "Hush.".

    The take is scaled to a peak of PEAK first: the rounding to 16 bits was still relative to
    full scale: a quiet Kokoro "Stay safe." (peak -17 dBFS) aligned "Stay" after its vowel, the
    same take at half the gain with its /s/, and its verdict turned on that. Scaled, a gain
    changes nothing the decoder hears (but float rounding): no clean take of ten draws changes
    verdict under a 16-bit round trip, a gain of 0.5 or 1 LSB of dither (1 of 293 before)."""
    x = np.clip(np.asarray(x, dtype=np.float64), -1.0, 1.0)
    peak = float(np.max(np.abs(x), initial=0.0))
    y = x * (PEAK * 32767.0 / peak) if peak > 0 else x
    floor = PEAK * 32767.0 * 10 ** (FLOOR_DB / 20)
    y = np.round(y + floor * np.random.default_rng(0).standard_normal(len(y)))
    return np.clip(y, -32768, 32767).astype(np.int16).tobytes()
