"""Content-word errors: the words a listener would call *wrong*, not just misheard.

WER weighs every word alike, so two wrong nouns in a 13-word sentence ("The
stadium opens at nine ... on Mondays" for "The museum opens at nine ... on
Sundays") are WER 0.15 and pass a 0.20 limit. This module counts, from the
:class:`~pytest_luxgate.metrics.text.WordError` alignment, the reference
*content* words (nouns, verbs, adjectives, adverbs, numbers, names) that were
substituted or dropped, and excuses the recogniser's own slips:

* **function words** (articles, pronouns, prepositions, conjunctions,
  auxiliaries, determiners) never count: Whisper drops and swaps them freely
  ("a"/"the", "is"/"'s") and a TTS that says the wrong one is still understood;
* a difference that **sounds the same** is excused: the reference and heard
  words of one error region (the run of adjacent differences, so splits and
  joins like "commas" / "calm as" compare whole) are turned into espeak-ng
  phonemes and compared with a weighted phoneme edit distance (voicing pairs
  and vowel-for-vowel cost less than other substitutions), normalised by the
  longer phoneme string; at or under ``max_phoneme_distance`` the region is a
  homophone or near-homophone ("timbre" / "tamber", "tts" / "tds");
* one word each side with the **same stem and another ending** ("sundays" /
  "sunday", "opens" / "opened") is excused: Whisper's commonest slip;
* a region whose heard words Whisper was **not confident** about (lowest word
  probability under ``min_probability``) is excused: that is the recogniser
  guessing at something it could not place (a brand name, "LuxTPS"), while a
  TTS that says another word is heard clearly, with confidence;
* a region whose reference content words are all **rare** in English (wordfreq
  Zipf under ``DEFAULT_RARE_ZIPF``, judged on the word as written: "LuxTTS") is
  excused up to the looser ``max_rare_phoneme_distance``: Whisper's language
  model cannot be expected to write a brand name ("LuxTPS", 0.17).

* a region whose reference content words the recogniser, **forced to the text**,
  still finds likely (the lowest forced probability of them at or over
  ``min_forced_probability``) is excused: asked to score the text's own words
  on this take (teacher forcing, the ASR backend's ``force``), Whisper finds
  "soup" plausible where it heard "suit", because the voice said something
  close to it; a real swap ("stadium" said for "museum") leaves the text's word
  improbable (forced p ~1e-4). It vouches for the text's words only: a region
  whose heard words hold more sound than them (an added word merged in,
  "button" heard as "buttons over") is not excused by it. Asked only for
  regions that would otherwise count, so a clean take costs nothing.

A content word the take **adds** (a region of heard words only, between words
heard right) counts too when it is foreign to the text and heard with
confidence: "Please send the report by Friday afternoon garden." says a word
the text does not have. Added words that the text itself contains are left to
the repeat check (a loop, Whisper's overlap at a 30 s window), added function
words and interjections to WER, and an added word heard unsure (lowest
probability of the region's added content words under ``min_probability``) is
the recogniser guessing at a breath or a noise.

:func:`sounds_alike_wer` applies the sounds-alike idea to the WER limit: a
region whose heard words sound like the reference (distance at most
``DEFAULT_MAX_WER_PHONEME_DISTANCE``) is the recogniser segmenting the same
sounds otherwise ("mixes pauses commas and" / "makes us pause as calm as an")
and is left out of the WER the limit counts; dropped and added words always
count. Abbreviations Whisper writes for a spoken word ("kg") are compared as said.

The limits are calibrated in docs/CALIBRATION.md ("Content words") with
``bench/calibrate_content_words.py``. Pure: strings and numbers in, a small
dataclass out; the phonemes come from espeak-ng through ``piper_phonemize``
(no model, no audio).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Collection, Iterable, Sequence

from .text import WordError, normalize_words, word_sources

__all__ = [
    "DEFAULT_MAX_PHONEME_DISTANCE",
    "DEFAULT_MIN_PROBABILITY",
    "DEFAULT_MIN_FORCED_PROBABILITY",
    "DEFAULT_MAX_RARE_PHONEME_DISTANCE",
    "DEFAULT_RARE_ZIPF",
    "DEFAULT_MAX_WER_PHONEME_DISTANCE",
    "FUNCTION_WORDS",
    "ContentWordErrors",
    "SoundsAlikeWER",
    "content_word_errors",
    "hyp_probabilities",
    "is_content_word",
    "is_rare_word",
    "rare_words",
    "sounds_alike_wer",
    "phoneme_distance",
    "phonemes",
]

#: Closed-class English function words (the words that are not content words).
#: Taken from the standard closed classes of English grammar (Quirk et al., "A
#: Comprehensive Grammar of the English Language", 1985: articles, determiners,
#: pronouns, prepositions, conjunctions, auxiliary and modal verbs), in the
#: forms Whisper's English normaliser leaves ("it's" -> "it is", "don't" ->
#: "do not"); short for stop-word lists (NLTK's "english" list is the same
#: idea, longer). Numbers are content words. Interjections ("oh", "um") are
#: listed too: Whisper drops them and no listener calls them the wrong word.
FUNCTION_WORDS: frozenset[str] = frozenset("""
a an the
this that these those some any no every each either neither all both half several
such what which whose whatever whichever another other
i me my mine myself you your yours yourself yourselves he him his himself she her hers herself
it its itself we us our ours ourselves they them their theirs themselves
one ones oneself someone somebody something anyone anybody anything everyone everybody
everything nobody nothing who whom whoever
about above across after against along amid among around as at before behind below beneath
beside besides between beyond by despite down during except for from in inside into like near
of off on onto out outside over past per since than through throughout till to toward towards
under underneath until unto up upon via with within without
and but or nor so yet if because although though unless whereas while whether when whenever
where wherever then once
am is are was were be been being do does did doing done have has had having
will would shall should can could may might must ought
not there here how why
oh um uh ah er hmm
""".split())

#: A region is a homophone or near-homophone at or under this weighted phoneme
#: edit distance (share of the longer phoneme string): "timbre"/"tamber" 0,
#: "tts"/"tds" 0.05, "commas"/"calm as" 0.10, but "sundays"/"mondays" 0.14.
#: A region with a digit is excused only at 0 ("2"/"to"): another number is wrong.
DEFAULT_MAX_PHONEME_DISTANCE = 0.12
#: A region whose least confident heard word is under this Whisper word
#: probability is the recogniser's guess, not a confident different word. The
#: default gate's clean slips reach 0.455 ("pauses feel" -> "pause is still");
#: no limit separates unsure slips from unsure swaps on espeak-ng voices
#: (docs/CALIBRATION.md, "Content words").
DEFAULT_MIN_PROBABILITY = 0.5
#: A region whose reference content words reach this probability with the recogniser forced to
#: the text (lowest token of the lowest word) is a mishearing of what the voice said, not another
#: word. Chosen on the calibration sets (as the gate now runs it: clean alarms 14 -> 8, swap
#: catches unchanged) and checked on a set written afterwards (5 -> 1, unchanged):
#: docs/CALIBRATION.md, "Forcing the text, adopted".
DEFAULT_MIN_FORCED_PROBABILITY = 0.1
#: ... unless the heard words hold more sound than the reference words: more than one phoneme
#: (espeak-ng's, as the distance counts them) is at least a syllable the text does not have. On
#: the calibration takes the clean regions the forced text excuses hear -4..+1 phonemes more,
#: and regions that merge an added word with a reference word +2..+12 ("kilograms" as "kg quickly").
MAX_FORCED_EXTRA_PHONEMES = 1
#: A reference word rarer than this Zipf frequency (wordfreq, English: 3 = once per million
#: words, 0 = not in the lists) is a brand name, a coined word or spelled letters, which
#: Whisper's language model cannot be expected to write ("luxtts" 0, "tts" 2.6, "plums" 3.0).
DEFAULT_RARE_ZIPF = 2.5
#: ... and a region whose reference content words are all rare is excused up to this phoneme
#: distance ("luxtts" / "luxtps" 0.17), where common words keep ``max_phoneme_distance``.
DEFAULT_MAX_RARE_PHONEME_DISTANCE = 0.35
#: A WER region (reference words and heard words both present) at or under this phoneme
#: distance is said right and segmented otherwise by the recogniser ("mixes pauses commas
#: and" / "makes us pause as calm as an" 0.20): not counted toward the WER limit.
DEFAULT_MAX_WER_PHONEME_DISTANCE = 0.25


def is_content_word(word: str) -> bool:
    """True for a normalised word that carries meaning (not in :data:`FUNCTION_WORDS`)."""
    return bool(word) and word not in FUNCTION_WORDS


@lru_cache(maxsize=4096)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def is_rare_word(word: str, max_zipf: float = DEFAULT_RARE_ZIPF) -> bool:
    """True for a word rarer in English than ``max_zipf`` (wordfreq's Zipf scale): brand
    names, coined words, acronyms. Numbers are never rare (another number is wrong)."""
    word = word.lower().strip(".,;:!?\"'()[]“”‘’")
    return bool(word) and not any(ch.isdigit() for ch in word) and _zipf(word) < max_zipf


def rare_words(text: str, max_zipf: float = DEFAULT_RARE_ZIPF) -> frozenset[str]:
    """The normalised words of ``text`` that come from a rare written word (:func:`is_rare_word`).

    Judged on the word as written, so a brand name the normaliser splits
    ("LuxTTS" -> "lux tts") is rare in both parts, while "TTS" alone (Zipf 2.6)
    is looked up as itself."""
    return frozenset(w for token in text.split() if is_rare_word(token, max_zipf)
                     for w in normalize_words(token))


# --------------------------------------------------------------------------
# Phonemes
# --------------------------------------------------------------------------

#: marks that carry no segment (stress, length, syllable break, tie) and
#: espeak-ng's reduced vowels folded onto their full forms
_DROP = set("ˈˌːˑ.‿ \u0361")
_FOLD = {"ᵻ": "ɪ", "ɐ": "ə", "ɚ": "ə", "ɝ": "ɜ", "ɾ": "t", "ʔ": "t", "ɫ": "l", "r": "ɹ"}
_VOWELS = set("aeiouæɑɒɔəɛɜɪʊʌøœɐɤɯɨʉy")
#: consonants that differ only in voicing: one feature apart, heard alike
_VOICING = [set(p) for p in ("pb", "td", "kg", "fv", "sz", "θð", "ʃʒ")]


def _espeak_ipa(text: str) -> str:
    """IPA from espeak-ng: the piper-phonemize wheel, else the espeak-ng binary, else the letters."""
    try:
        from piper_phonemize import phonemize_espeak
    except ImportError:
        pass
    else:
        return "".join("".join(sentence) for sentence in phonemize_espeak(text, "en-us"))
    import shutil
    import subprocess

    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe:
        try:
            return subprocess.run([exe, "-q", "--ipa", "-v", "en-us", text], capture_output=True,
                                  text=True, timeout=10, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            pass
    return text  # no espeak-ng at all: compare spellings (homophones then count as errors)


@lru_cache(maxsize=4096)
def phonemes(text: str) -> tuple[str, ...]:
    """espeak-ng (en-us) phonemes of ``text`` as segments, stress and length dropped."""
    return tuple(_FOLD.get(ch, ch) for ch in _espeak_ipa(text) if ch not in _DROP and not ch.isspace())


#: unit and title abbreviations Whisper writes for a spoken word ("3 kilograms" -> "3 kg"): a
#: written form of the same word, so it is compared as said (espeak-ng would spell the letters)
SPOKEN_ABBREVIATIONS: dict[str, str] = {
    "kg": "kilograms", "mg": "milligrams", "km": "kilometers",
    "cm": "centimeters", "mm": "millimeters", "lb": "pounds", "lbs": "pounds", "oz": "ounces",
    "ft": "feet", "mi": "miles", "mph": "miles per hour", "kph": "kilometers per hour",
    "hr": "hours", "hrs": "hours", "min": "minutes", "mins": "minutes", "sec": "seconds",
    "ml": "milliliters", "dr": "doctor", "mr": "mister", "mrs": "missus",
    "st": "street", "ave": "avenue",
}


def _said(words: Sequence[str]) -> tuple[str, ...]:
    """Phonemes of normalised words as said: the abbreviations of :data:`SPOKEN_ABBREVIATIONS`
    spelled out (the normaliser keeps "kg", espeak-ng would read it letter by letter)."""
    return phonemes(" ".join(SPOKEN_ABBREVIATIONS.get(w, w) for w in words))


def _sub_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    if a in _VOWELS and b in _VOWELS:
        return 0.5
    if any(a in pair and b in pair for pair in _VOICING):
        return 0.3
    return 1.0


def phoneme_distance(a: Sequence[str], b: Sequence[str]) -> float:
    """Weighted edit distance of two phoneme sequences over the longer one's length (0 = same)."""
    if not a and not b:
        return 0.0
    if not a or not b:
        return 1.0
    prev = [float(j) for j in range(len(b) + 1)]
    for i, x in enumerate(a, 1):
        cur = [float(i)] + [0.0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + _sub_cost(x, y))
        prev = cur
    return prev[-1] / max(len(a), len(b))


# --------------------------------------------------------------------------
# Probabilities of the heard words
# --------------------------------------------------------------------------


def hyp_probabilities(hyp_words: Sequence[str],
                      words: Iterable[tuple[str, float | None]]) -> list[float | None]:
    """Whisper's probability for each normalised heard word.

    ``words`` are the transcript's (raw word, probability) in order; each is
    normalised on its own and the tokens aligned to ``hyp_words`` (the whole
    transcript normalised, and split words joined, by :func:`word_error`).
    A heard word built from several tokens ("twenty first" -> "21", "lux tds"
    -> "luxtds") takes the lowest of them; None where nothing lines up.
    The same mapping gives the reference words their forced probabilities
    (``hyp_probabilities(wer.ref_words, forced)``: "ninety dollars" -> "$90").
    """
    words = list(words)
    return [_lowest(words[i][1] for i in sources) for sources in word_sources(hyp_words, [t for t, _ in words])]


# --------------------------------------------------------------------------
# Content-word errors
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentWordErrors:
    """Reference content words said wrong or not at all, content words the text does not have
    said in addition, and the slips excused.

    ``errors`` and ``excused`` hold one dict per error region:
    ``{"ref": reference words, "hyp": heard words, "content": the reference
    content words in it (for an added region, ``ref`` empty: the added content
    words), "phoneme_distance", "probability": lowest heard-word probability
    (None: unknown or nothing heard), "why": "" for an error, else
    "function words" / "sounds alike" / "not confident" / ...}``, and ``"forced"``: the
    lowest probability of the region's reference content words with the recogniser forced
    to the text (only when that was asked; None: not known).
    ``count`` is the number of content words in ``errors``.
    """

    count: int
    errors: tuple[dict[str, Any], ...]
    excused: tuple[dict[str, Any], ...]

    def describe(self) -> str:
        """“museum” heard as “stadium”, “sundays” not heard, ..."""
        parts = []
        for e in self.errors:
            ref = " ".join(e["ref"])
            if not ref:
                parts.append(f"“{' '.join(e['content'])}” added")
            else:
                said = f"“{ref}” heard as “{' '.join(e['hyp'])}”" if e["hyp"] else f"“{ref}” not heard"
                if e.get("forced") is not None:  # the second opinion that did not excuse it
                    said += f" (forced to the text: p {e['forced']:.2g})"
                parts.append(said)
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = [dict(e) for e in self.errors]
        data["excused"] = [dict(e) for e in self.excused]
        return data


def _regions(wer: WordError) -> list[tuple[list[int], list[int], int, int]]:
    """Runs of adjacent differences as (ref indices, hyp indices, hyp position where the run
    starts, number of word errors in it).

    Two differences belong to one region when no matched word lies between
    them, so a split ("commas" -> "calm as": a substitution and an insertion)
    or a shifted boundary ("pauses feel" -> "pause is still") compares whole.
    """
    regions: list[tuple[list[int], list[int], int, int]] = []
    end: tuple[int, int] | None = None  # where the previous difference ended (ref, hyp)
    for p in wer.pairs:  # in alignment order
        r, h, op = p["ref_index"], p["hyp_index"], p["op"]
        if end != (r, h):  # a matched word lies between: a new region
            regions.append(([], [], h, 0))
        refs, hyps, at, n = regions[-1]
        if op != "insert":
            refs.append(r)
        if op != "delete":
            hyps.append(h)
        regions[-1] = (refs, hyps, at, n + 1)
        end = (r + (op != "insert"), h + (op != "delete"))
    return regions


_ENDINGS = ("", "s", "es", "'s", "d", "ed", "ing")


def _inflection(ref: Sequence[str], hyp: Sequence[str]) -> bool:
    """One word each side, the same stem with another inflectional ending ("sundays" / "sunday",
    "opens" / "opened"): Whisper's commonest slip on clear speech, a change of form, not of word."""
    if len(ref) != 1 or len(hyp) != 1:
        return False
    a, b = ref[0], hyp[0]
    for stem_len in range(min(len(a), len(b)), 2, -1):
        if a[:stem_len] == b[:stem_len]:
            return a[stem_len:] in _ENDINGS and b[stem_len:] in _ENDINGS and a != b
    return False


def _confidence(hyps: Sequence[int], wer: WordError,
                probabilities: Sequence[float | None] | None) -> float | None:
    """How sure Whisper was of what it heard in a region: the lowest probability of its heard
    words; for a deletion, of the heard words either side of the gap (a word Whisper lost in a
    stretch it could not make out)."""
    if probabilities is None or not hyps:
        return None
    return _lowest(probabilities[j] for j in hyps)


def _lowest(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def _added(hyps: Sequence[int], wer: WordError, probabilities: Sequence[float | None] | None,
           min_probability: float) -> dict[str, Any] | None:
    """An insertion-only region as an error region (``ref`` empty, ``content``: the added content
    words), or None when it adds no content word foreign to the text."""
    # "0": Whisper's number normaliser writes the interjection "oh" as a zero, and an added
    # "oh" is a breath or a hesitation heard as a word, not a word of another sentence
    own = set(wer.ref_words) | {"0"}
    content = [j for j in hyps if is_content_word(wer.hyp_words[j]) and wer.hyp_words[j] not in own]
    if not content:
        return None
    prob = _confidence(content, wer, probabilities)
    return {"ref": [], "hyp": [wer.hyp_words[j] for j in hyps], "content": [wer.hyp_words[j] for j in content],
            "phoneme_distance": 1.0, "probability": None if prob is None else round(prob, 3),
            "why": "not confident" if prob is not None and prob < min_probability else ""}


def content_word_errors(wer: WordError, probabilities: Sequence[float | None] | None = None, *,
                        max_phoneme_distance: float = DEFAULT_MAX_PHONEME_DISTANCE,
                        min_probability: float = DEFAULT_MIN_PROBABILITY,
                        rare: Collection[str] | None = None,
                        max_rare_phoneme_distance: float = DEFAULT_MAX_RARE_PHONEME_DISTANCE,
                        forced: Sequence[float | None] | None = None,
                        min_forced_probability: float = DEFAULT_MIN_FORCED_PROBABILITY,
                        ) -> ContentWordErrors:
    """Count the reference content words that were substituted or deleted (see the module docstring).

    ``probabilities``: Whisper's probability per ``wer.hyp_words`` entry
    (:func:`hyp_probabilities`); None turns the confidence rule off.
    ``rare``: the reference words that are rare (:func:`rare_words` of the text); a
    region whose content words are all rare is excused up to ``max_rare_phoneme_distance``
    (Whisper's language model cannot be expected to write a brand name). None: off.
    ``forced``: the probability of each ``wer.ref_words`` entry with the recogniser forced to
    the text (:func:`hyp_probabilities` of the backend's ``force``, mapped to the reference
    words); a region whose content words all reach ``min_forced_probability`` is excused and
    every region with reference words records its value. None: off (the question was not
    asked, or the backend cannot force the take).
    """
    errors: list[dict[str, Any]] = []
    excused: list[dict[str, Any]] = []
    count = 0
    for refs, hyps, at, _ in _regions(wer):
        ref = [wer.ref_words[i] for i in refs]
        hyp = [wer.hyp_words[j] for j in hyps]
        content = [w for w in ref if is_content_word(w)]
        if not ref:
            added = _added(hyps, wer, probabilities, min_probability)
            if added is not None:
                (errors if not added["why"] else excused).append(added)
                count += 0 if added["why"] else len(added["content"])
            continue
        digits = any(ch.isdigit() for ch in " ".join(ref + hyp))
        ref_said, hyp_said = _said(ref), _said(hyp) if hyp else ()
        dist = phoneme_distance(ref_said, hyp_said) if hyp else 1.0
        prob = _confidence(hyps or [j for j in (at - 1, at) if 0 <= j < len(wer.hyp_words)],
                           wer, probabilities)
        region = {"ref": ref, "hyp": hyp, "content": content,
                  "phoneme_distance": round(dist, 3),
                  "probability": None if prob is None else round(prob, 3), "why": ""}
        if not content:
            region["why"] = "function words"
        elif dist <= (0.0 if digits else max_phoneme_distance):
            region["why"] = "sounds alike"
        elif (rare is not None and not digits and dist <= max_rare_phoneme_distance
              and all(w in rare for w in content)):
            region["why"] = "rare word, sounds close"
        elif _inflection(ref, hyp):
            region["why"] = "same word, other ending"
        elif prob is not None and prob < min_probability:
            region["why"] = "not confident"
        if forced is not None:
            told = _lowest(forced[i] for i in refs if is_content_word(wer.ref_words[i]))
            region["forced"] = None if told is None else round(told, 4)
            # the forced text vouches for the reference words, not for more sound heard beside
            # them: "button" heard as "buttons over" says a word the text does not have
            if (not region["why"] and told is not None and told >= min_forced_probability
                    and len(hyp_said) - len(ref_said) <= MAX_FORCED_EXTRA_PHONEMES):
                region["why"] = "the text likely, forced"
        if region["why"]:
            excused.append(region)
        else:
            errors.append(region)
            count += len(content)
    return ContentWordErrors(count, tuple(errors), tuple(excused))


# --------------------------------------------------------------------------
# WER without the recogniser's sounds-alike segmentations
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SoundsAlikeWER:
    """WER with the error regions that sound like the reference left out.

    ``errors``: the word errors counted; ``wer``: ``errors`` over the reference
    words; ``excused``: one dict per region left out (``ref``, ``hyp``,
    ``phoneme_distance``, ``errors``: its word errors).
    """

    errors: int
    wer: float
    excused: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"errors": self.errors, "wer": self.wer, "excused": [dict(e) for e in self.excused]}


def sounds_alike_wer(wer: WordError, *,
                     max_phoneme_distance: float = DEFAULT_MAX_WER_PHONEME_DISTANCE) -> SoundsAlikeWER:
    """The WER of ``wer`` counting only the error regions that do not sound like the reference.

    A region (a run of adjacent differences, :func:`_regions`) with reference
    and heard words whose espeak-ng phonemes are within ``max_phoneme_distance``
    is the same sounds cut into other words ("mixes pauses commas and" heard
    as "makes us pause as calm as an"): the take said it. Whole words dropped
    or added (a region with nothing on one side: distance 1) always count, and
    a region with a digit counts unless its phonemes are identical ("2"/"to").
    Whether a content word in an excused region was the wrong word is
    :func:`content_word_errors`' question, with its tighter limit.
    """
    counted = 0
    excused: list[dict[str, Any]] = []
    for refs, hyps, _, n in _regions(wer):
        ref = [wer.ref_words[i] for i in refs]
        hyp = [wer.hyp_words[j] for j in hyps]
        if ref and hyp:
            digits = any(ch.isdigit() for ch in " ".join(ref + hyp))
            dist = phoneme_distance(_said(ref), _said(hyp))
            if dist <= (0.0 if digits else max_phoneme_distance):
                excused.append({"ref": ref, "hyp": hyp, "phoneme_distance": round(dist, 3), "errors": n})
                continue
        counted += n
    n_ref = len(wer.ref_words)
    return SoundsAlikeWER(counted, counted / n_ref if n_ref else 0.0, tuple(excused))
