"""Text metrics comparing a reference script with what the ASR heard.

Everything here is a pure function of strings (no audio, no pytest):

* :func:`normalize_words` - Whisper's English normaliser plus a few symmetric
  fixes, so that spoken and written forms of the same words compare equal.
* :func:`word_error` - WER with the aligned differences and a readable diff.
* :func:`repeat_metrics` - catches TTS loops (a stretch said twice or more)
  without punishing repeats that are in the reference ("no, no, no").
* :func:`legacy_asr_sim` and ``RepeatMetrics.legacy_repeat_ratio`` - the
  original tool's metrics, kept only to compare with old runs.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any, Sequence

import jiwer
from whisper_normalizer.english import EnglishTextNormalizer

__all__ = [
    "DEFAULT_MAX_REPEAT_RATIO",
    "DEFAULT_MAX_REPEAT_SPAN_WORDS",
    "RepeatMetrics",
    "WordError",
    "legacy_asr_sim",
    "normalize_words",
    "repeat_metrics",
    "word_error",
]

# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------

_LETTER = r"[^\W\d_]"

#: typographic characters the Whisper normaliser mishandles ("don’t" -> "don t",
#: "wait…are" -> "wait . are")
_TYPOGRAPHY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2026": " ... "})

#: dotted initialisms ("T.T.S.", "U.S.A.", "e.g.", "p.m."), which the normaliser
#: splits into single letters while the undotted spelling stays one word
_INITIALISM = re.compile(rf"(?<!{_LETTER})(?:[A-Za-z]\.){{1,}}[A-Za-z]\.?(?!{_LETTER})")

#: "a. m." / "p. m." with a space (the general rule above does not allow spaces,
#: so that "plan B. I went" stays two words)
_SPACED_MERIDIEM = re.compile(rf"(?<!{_LETTER})([ap])\.\s+m\.?(?!{_LETTER})", re.IGNORECASE)

#: "LuxTTS" -> "Lux TTS", "iPhone" -> "i Phone"
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")

#: clock times "5:30", "5.30 pm" (not "$5.30", "2.10.3", "1.5")
_CLOCK = re.compile(
    r"(?<![\w.:$£€¥])(?P<h>[01]?\d|2[0-4])(?P<sep>[:.])(?P<m>[0-5]\d)"
    r"(?![\d:]|\.\d)(?P<pm>\s*[ap]m\b)?",
    re.IGNORECASE,
)

_WORDLIKE = re.compile(r"\w")

_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")

#: spelling variants Whisper emits that the normaliser's British/American map
#: does not cover
_SPELLING = {"ok": "okay"}


@lru_cache(maxsize=1)
def _whisper_normalizer() -> EnglishTextNormalizer:
    return EnglishTextNormalizer()


def _is_clock(match: re.Match[str]) -> bool:
    """A colon always reads as a clock time; a dot only before am/pm or after
    "at", so decimals ("3.50 kg") are left alone."""
    if match.group("sep") == ":" or match.group("pm"):
        return True
    return re.search(r"\bat\s+$", match.string[: match.start()], re.IGNORECASE) is not None


def _clock_time(match: re.Match[str]) -> str:
    """'5:30' / '5.30 pm' -> '530' ('five thirty' normalises to '530'); ':00' drops."""
    if not _is_clock(match):
        return match.group(0)
    hours, minutes = match.group("h").lstrip("0") or "0", match.group("m")
    spoken = hours if minutes == "00" else hours + minutes
    return spoken + (match.group("pm") or "")


def _spaced_clock_time(match: re.Match[str]) -> str:
    """'5:30pm' -> '5 30pm', for counting spoken words ("five thirty pm")."""
    if not _is_clock(match):
        return match.group(0)
    minutes = "" if match.group("m") == "00" else " " + match.group("m")
    return match.group("h") + minutes + (match.group("pm") or "")


def _spell_out_symbols(text: str) -> str:
    text = text.translate(_TYPOGRAPHY)
    text = _SPACED_MERIDIEM.sub(lambda m: m.group(1) + "m", text)
    return _INITIALISM.sub(lambda m: m.group(0).replace(".", ""), text)


def _pre_normalize(text: str) -> str:
    text = _CAMEL.sub(" ", _spell_out_symbols(text))
    return _CLOCK.sub(_clock_time, text)


def _post_normalize(word: str) -> str:
    ordinal = _ORDINAL.match(word)
    if ordinal:
        word = ordinal.group(1)
        # the normaliser itself writes a lone "1" as "one" ("1 of them")
        if word == "1":
            word = "one"
    return _SPELLING.get(word, word)


#: one plain word as Whisper writes it in a word timestamp (" quality", " Check."): letters
#: only, capitalised at most, and at most one trailing . , ? or !
_PLAIN_WORD = re.compile(r" ?([A-Za-z][a-z]*)[.,?!]?")


@lru_cache(maxsize=1)
def _plain_word_rules() -> tuple[frozenset[str], re.Pattern[str]]:
    """What makes Whisper's normaliser change a plain word: the words its number and
    spelling steps rewrite, and its fillers and replacements that need no apostrophe
    ("um", "mr", "wanna"); the others cannot match a plain word."""
    norm = _whisper_normalizer()
    words = frozenset(norm.standardize_numbers.words) | frozenset(norm.standardize_spellings.mapping)
    patterns = [norm.ignore_patterns] + [p for p in norm.replacers if "'" not in p]
    return words, re.compile("|".join(f"(?:{p})" for p in patterns))


def _plain_word(text: str) -> list[str] | None:
    """`normalize_words` of one plain word without the normaliser's ~70 regex passes (what it
    does to such a word is lower-case it and drop the punctuation, unless one of
    `_plain_word_rules` applies); None for any other text. `hyp_probabilities` and
    `rare_words` normalise every word on its own, and this was most of their time."""
    plain = _PLAIN_WORD.fullmatch(text)
    if plain is None:
        return None
    changed, patterns = _plain_word_rules()
    word = plain.group(1).lower()
    if word in changed or patterns.search(text.lower()):
        return None
    return [_post_normalize(word)]


def normalize_words(text: str) -> list[str]:
    """Lower-case spoken words of ``text``, comparable across written forms.

    Runs Whisper's ``EnglishTextNormalizer`` (numbers, currency, ordinals,
    contractions, punctuation, British spellings) with symmetric fixes for its
    gaps, so the same function can be applied to reference and hypothesis:

    * typographic apostrophes and the ``…`` character ("don’t", "wait…are"),
      and a trailing ellipsis ("I mean..." would keep a "." word);
    * dotted initialisms and a.m./p.m. ("p.m." would become "p m" while "pm"
      stays one word; "T.T.S." would become "t t s");
    * camel case ("LuxTTS" -> "lux tts", as Whisper writes "Lux TTS");
    * clock times ("5:30" -> "5 30" and "5.30" -> "5.30", but "five thirty"
      -> "530"): all become "530"; "5:00 pm" -> "5 pm" like "five pm";
    * ordinal suffixes on digits ("21st" vs "21", as Whisper writes "March 21");
    * "ok" -> "okay".

    Words that differ only by spacing ("everyone" / "every one") depend on
    the other text; :func:`word_error` joins those when aligning.
    """
    plain = _plain_word(text)
    if plain is not None:
        return plain
    normalized = _whisper_normalizer()(_pre_normalize(text))
    # a trailing "..." survives as "." ("I mean..." -> "i mean .")
    return [_post_normalize(word) for word in normalized.split() if _WORDLIKE.search(word)]


def _join_split_words(words: Sequence[str], other: Sequence[str], longest: int = 4) -> list[str]:
    """Join runs of 2..``longest`` words whose concatenation is a word of ``other``.

    "lux tts" against "luxtts", "every one" against "everyone". Applied both
    ways, identical inputs stay identical.
    """
    vocabulary = set(other)
    joined: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(longest, len(words) - i), 1, -1):
            candidate = "".join(words[i : i + size])
            if candidate in vocabulary:
                joined.append(candidate)
                i += size
                break
        else:
            joined.append(words[i])
            i += 1
    return joined


def _aligned_words(reference: str, hypothesis: str) -> tuple[list[str], list[str]]:
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    if not ref:
        raise ValueError(f"reference has no words after normalisation: {reference!r}")
    return _join_split_words(ref, hyp), _join_split_words(hyp, ref)


def _alignment(ref: Sequence[str], hyp: Sequence[str]) -> jiwer.WordOutput:
    return jiwer.process_words(" ".join(ref), " ".join(hyp))


# --------------------------------------------------------------------------
# Word error rate
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class WordError:
    """Word error rate of a hypothesis against a reference, with its alignment.

    ``pairs`` lists each differing word as
    ``{"op": "substitute"|"delete"|"insert", "ref", "hyp", "ref_index", "hyp_index"}``
    (indices into ``ref_words`` / ``hyp_words``; a deleted word's ``hyp_index``
    and an inserted word's ``ref_index`` are where it would sit).
    """

    wer: float
    hits: int
    substitutions: int
    deletions: int
    insertions: int
    ref_words: tuple[str, ...]
    hyp_words: tuple[str, ...]
    pairs: tuple[dict[str, Any], ...]

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    def diff(self, context: int = 3) -> str:
        """One-line word diff in ``git diff --word-diff`` style.

        ``[-ref words-]`` were not heard, ``{+hyp words+}`` were heard instead
        or in addition; ``context`` matching words are kept around each change
        and the rest elided with ``…``. Reads the same in a terminal and in
        Markdown, e.g. ``order number 8472 [-ships-]{+shits+} on march 21 …``.
        """
        pieces: list[tuple[bool, str]] = []  # (is_change, text)
        ref_change: list[str] = []
        hyp_change: list[str] = []

        def flush() -> None:
            if ref_change or hyp_change:
                text = (f"[-{' '.join(ref_change)}-]" if ref_change else "") + (
                    f"{{+{' '.join(hyp_change)}+}}" if hyp_change else ""
                )
                pieces.append((True, text))
                ref_change.clear()
                hyp_change.clear()

        ref, _hyp = self.ref_words, self.hyp_words
        by_ref = {p["ref_index"]: p for p in self.pairs if p["op"] != "insert"}
        inserts: dict[int, list[str]] = {}
        for p in self.pairs:
            if p["op"] == "insert":
                inserts.setdefault(p["ref_index"], []).append(p["hyp"])
        for i in range(len(ref) + 1):
            hyp_change.extend(inserts.get(i, ()))
            if i == len(ref):
                break
            pair = by_ref.get(i)
            if pair is None:
                flush()
                pieces.append((False, ref[i]))
            else:
                ref_change.append(pair["ref"])
                if pair["op"] == "substitute":
                    hyp_change.append(pair["hyp"])
        flush()

        if not any(change for change, _ in pieces):
            return "(no differences)"
        changed = [i for i, (change, _) in enumerate(pieces) if change]
        keep = [any(abs(i - j) <= context for i in changed) for j in range(len(pieces))]
        out: list[str] = []
        j = 0
        while j < len(pieces):
            if keep[j]:
                out.append(pieces[j][1])
                j += 1
                continue
            gap_end = j
            while gap_end < len(pieces) and not keep[gap_end]:
                gap_end += 1
            if gap_end - j > 2:  # elide only what "…" shortens
                out.append("…")
            else:
                out.extend(text for _, text in pieces[j:gap_end])
            j = gap_end
        return " ".join(out)

    def matches(self) -> list[tuple[int, int]]:
        """(reference index, heard index) of every word heard right, in order: the words
        ``pairs`` leaves out, one for one between its differences."""
        out: list[tuple[int, int]] = []
        r = h = 0
        for p in self.pairs:
            while r < p["ref_index"] and h < p["hyp_index"]:
                out.append((r, h))
                r, h = r + 1, h + 1
            r = p["ref_index"] + 1 if p["op"] != "insert" else r
            h = p["hyp_index"] + 1 if p["op"] != "delete" else h
        out += [(r + k, h + k) for k in range(min(len(self.ref_words) - r, len(self.hyp_words) - h))]
        return out

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            ref_words=list(self.ref_words),
            hyp_words=list(self.hyp_words),
            pairs=[dict(p) for p in self.pairs],
            diff=self.diff(),
        )
        return data


def word_sources(normalised: Sequence[str], raw: Sequence[str]) -> list[tuple[int, ...]]:
    """For each of ``normalised`` (a whole text normalised, split words joined: ``WordError``'s
    words), the indices of the ``raw`` words (as written or heard, each normalised on its own)
    it comes from; empty where nothing lines up. A word made of several ("twenty first" ->
    "21", "ninety dollars" -> "$90") comes from them all."""
    tokens: list[str] = []
    owner: list[int] = []
    for i, word in enumerate(raw):
        for token in normalize_words(word):
            tokens.append(token)
            owner.append(i)
    out: list[tuple[int, ...]] = [()] * len(normalised)
    for op, i0, i1, j0, j1 in SequenceMatcher(None, list(normalised), tokens, autojunk=False).get_opcodes():
        if op == "equal":
            for k in range(i1 - i0):
                out[i0 + k] = (owner[j0 + k],)
        elif op == "replace":
            for k in range(i0, i1):
                out[k] = tuple(sorted(set(owner[j0:j1])))
    return out


def _pairs(ref: Sequence[str], hyp: Sequence[str], chunks: Sequence[Any]) -> list[dict[str, Any]]:
    pairs: list[dict[str, Any]] = []
    for chunk in chunks:
        r0, r1, h0, h1 = chunk.ref_start_idx, chunk.ref_end_idx, chunk.hyp_start_idx, chunk.hyp_end_idx
        if chunk.type == "substitute":
            for k in range(r1 - r0):
                pairs.append(dict(op="substitute", ref=ref[r0 + k], hyp=hyp[h0 + k], ref_index=r0 + k, hyp_index=h0 + k))
        elif chunk.type == "delete":
            for r in range(r0, r1):
                pairs.append(dict(op="delete", ref=ref[r], hyp="", ref_index=r, hyp_index=h0))
        elif chunk.type == "insert":
            for h in range(h0, h1):
                pairs.append(dict(op="insert", ref="", hyp=hyp[h], ref_index=r0, hyp_index=h))
    return pairs


def word_error(reference: str, hypothesis: str) -> WordError:
    """WER of ``hypothesis`` against ``reference`` after :func:`normalize_words`.

    Words split differently ("lux tts" / "luxtts") are joined first. An empty
    hypothesis is WER 1.0 (everything deleted). A reference with no words is a
    broken test, not a speech error: it raises ``ValueError``.
    """
    ref, hyp = _aligned_words(reference, hypothesis)
    out = _alignment(ref, hyp)
    return WordError(
        wer=float(out.wer),
        hits=out.hits,
        substitutions=out.substitutions,
        deletions=out.deletions,
        insertions=out.insertions,
        ref_words=tuple(ref),
        hyp_words=tuple(hyp),
        pairs=tuple(_pairs(ref, hyp, out.alignments[0])),
    )


# --------------------------------------------------------------------------
# Repeats / loops
# --------------------------------------------------------------------------

#: fail when one repeat span adds this many words or more: a multi-word
#: stretch said again, or one word said three times
DEFAULT_MAX_REPEAT_SPAN_WORDS = 2
#: ... or when repeated words exceed this share of the reference words
DEFAULT_MAX_REPEAT_RATIO = 0.10


@dataclass(frozen=True)
class RepeatMetrics:
    """Words the hypothesis says again that the reference says only once.

    ``spans``: one dict per repeat, ``{"words": the repeated unit,
    "hyp_index": first inserted word in hyp_words, "count": times the unit is
    heard in a row, reference copies included (2 = said twice),
    "inserted": extra words, those not in the reference}``.

    Default verdict (:meth:`fails`): fail when a single span inserts
    ``>= DEFAULT_MAX_REPEAT_SPAN_WORDS`` (2) words, or ``repeat_ratio >
    DEFAULT_MAX_REPEAT_RATIO`` (0.10). Why: a TTS loop repeats a stretch of
    words, or one word several times, so it always adds two or more words
    in one place; Whisper usually omits disfluencies rather than inventing
    them, so that is rarely ASR noise. A lone doubled word ("for for") may be
    a one-off stutter that WER already charges as one insertion, so it is
    tolerated while rare: up to one per ten reference words (in a text under
    ten words a single one fails). Repeats written in the reference align as
    hits and never count. WER alone misses loops in long texts: a 4-word loop
    in the 32-word paragraph is WER 0.125.
    """

    repeated_words: int
    repeat_ratio: float
    spans: tuple[dict[str, Any], ...]
    hyp_word_ratio: float
    legacy_repeat_ratio: float

    def fails(
        self,
        max_span_words: int = DEFAULT_MAX_REPEAT_SPAN_WORDS,
        max_ratio: float = DEFAULT_MAX_REPEAT_RATIO,
    ) -> bool:
        """True when the hypothesis looks like a loop (see the class docstring)."""
        longest = max((span["inserted"] for span in self.spans), default=0)
        return longest >= max_span_words or self.repeat_ratio > max_ratio

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["spans"] = [dict(span) for span in self.spans]
        return data


def _allowed_mismatches(inserted: int) -> int:
    """ASR may garble one word in four of a repeat ("final birds remain")."""
    return inserted // 4


def _repeat_unit(hyp: Sequence[str], start: int, end: int) -> int | None:
    """Shortest period p such that the inserted ``hyp[start:end]`` copies the
    words p positions before or after it (a rotation of the unit counts, since
    the aligner may place the insertion anywhere inside the loop)."""
    inserted = end - start
    for period in range(1, inserted + 1):
        mismatches = 0
        for j in range(start, end):
            before = j - period >= 0 and hyp[j - period] == hyp[j]
            after = j + period < len(hyp) and hyp[j + period] == hyp[j]
            mismatches += not (before or after)
        if mismatches <= _allowed_mismatches(inserted):
            return period
    return None


def _near(a: Sequence[str], b: Sequence[str]) -> bool:
    """Equal blocks, but for one garbled word in four."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) <= _allowed_mismatches(len(a))


def _copies(hyp: Sequence[str], start: int, end: int, period: int) -> int:
    """How many times the unit is heard in a row around the inserted run,
    counting copies the reference expects ("no no no no no" for "no, no, no" = 5)."""
    left, right = start, end
    while left - period >= 0 and _near(hyp[left - period : left], hyp[left : left + period]):
        left -= period
    while right + period <= len(hyp) and _near(hyp[right : right + period], hyp[right - period : right]):
        right += period
    return max((right - left) // period, (end - start) // period + 1)


def _insert_runs(chunks: Sequence[Any]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for chunk in chunks:
        if chunk.type != "insert":
            continue
        if runs and runs[-1][1] == chunk.hyp_start_idx:
            runs[-1] = (runs[-1][0], chunk.hyp_end_idx)
        else:
            runs.append((chunk.hyp_start_idx, chunk.hyp_end_idx))
    return runs


def _inserted_runs(pairs: Sequence[dict[str, Any]]) -> list[tuple[int, int]]:
    """`_insert_runs` from `WordError.pairs`: the inserted words' hyp indices, joined where
    one run ends where the next begins (as jiwer's insert chunks are)."""
    runs: list[tuple[int, int]] = []
    for pair in pairs:
        if pair["op"] != "insert":
            continue
        h = pair["hyp_index"]
        if runs and runs[-1][1] == h:
            runs[-1] = (runs[-1][0], h + 1)
        else:
            runs.append((h, h + 1))
    return runs


def _legacy_tokens(text: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", text.lower()).split()


def _legacy_repeat_ratio(hypothesis: str) -> float:
    """The original tool's loop score; punishes "No, no, no, I said no." (0.67)."""
    tokens = _legacy_tokens(hypothesis)
    if not tokens:
        return 0.0
    most_common = Counter(tokens).most_common(1)[0][1] / len(tokens)
    adjacent = sum(a == b for a, b in zip(tokens, tokens[1:])) / len(tokens)
    return max(most_common, adjacent)


def repeat_metrics(reference: str, hypothesis: str, *, wer: WordError | None = None) -> RepeatMetrics:
    """Find stretches the hypothesis repeats that the reference does not.

    The hypothesis is aligned to the reference (same normalisation as
    :func:`word_error`); each run of inserted words that copies the
    neighbouring hypothesis words (allowing one garbled word in four) is a
    repeat. Repeats written in the reference align as hits, so "No, no, no, I
    said no." read correctly scores 0. See :class:`RepeatMetrics` for the
    default verdict.

    Limits: a repeat must be at least as long as the unit it copies (a loop
    that restarts mid-phrase counts only its whole copies); and a loop inside
    a number written as words ("two thousand two thousand twenty six") is
    merged by the normaliser into another number, which WER reports as a
    substitution rather than a repeat. Whisper writes numbers as digits, so
    looped numbers in real transcripts are repeated tokens and are caught.

    ``wer``: ``word_error(reference, hypothesis)`` where the caller has it, so
    the two texts are not normalised and aligned a second time (the same
    words and alignment: half of this function's time).
    """
    if wer is None:
        ref, hyp = _aligned_words(reference, hypothesis)
        runs = _insert_runs(_alignment(ref, hyp).alignments[0] if hyp else [])
    else:
        ref, hyp = list(wer.ref_words), list(wer.hyp_words)
        runs = _inserted_runs(wer.pairs)
    spans: list[dict[str, Any]] = []
    for start, end in runs:
        period = _repeat_unit(hyp, start, end)
        if period is None:
            continue
        inserted = end - start
        spans.append(
            dict(
                words=" ".join(hyp[start : start + period]),
                hyp_index=start,
                count=_copies(hyp, start, end, period),
                inserted=inserted,
            )
        )
    repeated = sum(span["inserted"] for span in spans)
    return RepeatMetrics(
        repeated_words=repeated,
        repeat_ratio=repeated / len(ref),
        spans=tuple(spans),
        hyp_word_ratio=len(hyp) / len(ref),
        legacy_repeat_ratio=_legacy_repeat_ratio(hypothesis),
    )


# --------------------------------------------------------------------------
# Legacy similarity
# --------------------------------------------------------------------------


def legacy_asr_sim(reference: str, hypothesis: str) -> float:
    """The original tool's score: difflib character ratio of lower-cased,
    punctuation-stripped texts. Kept only to compare with old runs: it counts
    "8472" against "eight thousand four hundred seventy two" as a mismatch."""

    def clean(text: str) -> str:
        return " ".join(re.sub(r"[^\w\s]", "", text.lower()).split())

    return SequenceMatcher(None, clean(reference), clean(hypothesis)).ratio()
