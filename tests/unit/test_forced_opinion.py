"""The content-word rule's second opinion: the recogniser forced to the text (metrics/content_words.py
``forced``, judging/analysis.judge_content_words, the cache's and backends' word grouping)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_luxgate.asr.base import lowest_per_word
from pytest_luxgate.asr.transformers_backend import _word_pieces
from pytest_luxgate.core.types import Word
from pytest_luxgate.judging.analysis import judge_content_words
from pytest_luxgate.metrics.content_words import (
    DEFAULT_MIN_FORCED_PROBABILITY as LIMIT,
)
from pytest_luxgate.metrics.content_words import (
    content_word_errors,
    hyp_probabilities,
)
from pytest_luxgate.metrics.text import word_error
from pytest_luxgate.run.cache import ContentCache

HALL = "The hall was full of people."
HOLE = "The hole was full of people."


def forced_for(ref: str, hyp: str, told: dict[str, float], heard_p: float = 0.9):
    """content_word_errors of `hyp` for `ref`, every heard word at `heard_p`, the reference words
    forced at `told` (1.0 for the others)."""
    w = word_error(ref, hyp)
    return content_word_errors(w, [heard_p] * len(w.hyp_words),
                               forced=[told.get(r, 1.0) for r in w.ref_words])


def test_a_confident_mishearing_of_a_likely_text_is_excused():
    c = forced_for(HALL, HOLE, {"hall": 0.6})
    assert c.count == 0 and not c.errors
    assert c.excused[0]["why"] == "the text likely, forced" and c.excused[0]["forced"] == 0.6


def test_a_swap_leaves_the_text_improbable_and_still_counts_with_the_value_in_the_message():
    c = forced_for(HALL, HOLE, {"hall": 0.0004})
    assert c.count == 1
    assert c.describe() == "“hall” heard as “hole” (forced to the text: p 0.0004)"


@pytest.mark.parametrize("told,counted", [(LIMIT, False), (LIMIT * 0.99, True), (None, True)])
def test_the_limit_is_inclusive_and_an_unknown_value_excuses_nothing(told, counted):
    w = word_error(HALL, HOLE)
    c = content_word_errors(w, [0.9] * len(w.hyp_words),
                            forced=[told if r == "hall" else 1.0 for r in w.ref_words])
    assert (c.count == 1) is counted


def test_more_sound_heard_than_the_text_has_is_not_vouched_for():
    # the forced text says "button" was said; the free decode heard a syllable more beside it
    c = forced_for("Press the green button to start.", "Press the green buttons over to start.",
                   {"button": 0.9})
    assert c.count == 1 and "“button” heard as “buttons over”" in c.describe()


def test_without_the_question_asked_nothing_changes():
    w = word_error(HALL, HOLE)
    plain = content_word_errors(w, [0.9] * len(w.hyp_words))
    assert plain.count == 1 and "forced" not in plain.errors[0]
    assert plain.describe() == "“hall” heard as “hole”"


def test_forced_words_map_onto_the_normalised_reference():
    w = word_error("It costs ninety dollars.", "It costs 60 dollars.")
    told = hyp_probabilities(w.ref_words, [("It", 0.9), ("costs", 0.8), ("ninety", 0.5), ("dollars", 0.2),
                                           (".", 0.9)])
    assert list(w.ref_words) == ["it", "costs", "$90"]
    assert told == [0.9, 0.8, 0.2]  # "ninety dollars" -> "$90": the lowest of its words


def _words(hyp: str) -> tuple[Word, ...]:
    return tuple(Word(t, 0.0, 0.1, 0.9) for t in hyp.split())


def test_the_text_is_forced_only_when_a_region_would_count():
    asked = []

    def force():
        asked.append(1)
        return [0.9, 0.7, 0.9, 0.9, 0.9, 0.9]  # per reference word: the, hall, was, full, of, people

    clean = judge_content_words(word_error(HALL, HALL), _words(HALL), HALL, force)
    assert clean.count == 0 and not asked
    heard = judge_content_words(word_error(HALL, HOLE), _words(HOLE), HALL, force)
    assert asked == [1] and heard.count == 0 and heard.excused[0]["forced"] == 0.7


def test_a_backend_that_cannot_force_leaves_the_region_counted():
    c = judge_content_words(word_error(HALL, HOLE), _words(HOLE), HALL, lambda: None)
    assert c.count == 1 and "forced" not in c.errors[0]


def test_lowest_per_word_takes_each_words_least_likely_token():
    got = lowest_per_word([(" grand", 1), ("mother", 1), (" left", 1)], [0.99, 0.02, 0.7])
    assert got == (("grand", 0.99), ("mother", 0.02), ("left", 0.7))
    got = lowest_per_word([(" grandmother", 2), (" left", 1)], [0.99, 0.02, 0.7])
    assert got == (("grandmother", 0.02), ("left", 0.7))


def test_transformers_pieces_group_into_words_at_spaces_and_punctuation():
    assert _word_pieces(["ĠThe", "Ġgrand", "mother", "Ġleft", "."]) == \
        [(" The", 1), (" grandmother", 2), (" left", 1), (".", 1)]


class _Backend:
    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def transcribe(self, audio, rate):  # pragma: no cover - not asked here
        raise AssertionError("transcribe not expected")

    def force(self, audio, rate, text):
        self.calls.append(text)
        return self.answer


@pytest.mark.parametrize("answer", [(("The", 0.9), ("hall", 0.7)), None])
def test_the_cache_keeps_forced_words_and_a_cannot_per_text(tmp_path: Path, answer):
    backend = _Backend(answer)
    cached = ContentCache(tmp_path, 1 << 30).transcriber("faster-whisper:tiny.en", lambda: backend)
    audio = np.zeros(1600, np.float32)
    assert cached.force(audio, 16000, HALL) == answer
    assert cached.force(audio, 16000, HALL) == answer
    assert backend.calls == [HALL]  # the second answer came from the cache
    cached.force(audio, 16000, HOLE)
    assert backend.calls == [HALL, HOLE]  # another text is another question


def test_a_backend_without_force_gives_none_through_the_cache(tmp_path: Path):
    class Plain:
        def transcribe(self, audio, rate):  # pragma: no cover - not asked here
            raise AssertionError

    cached = ContentCache(tmp_path, 1 << 30).transcriber("faster-whisper:tiny.en", Plain)
    assert cached.force(np.zeros(1600, np.float32), 16000, HALL) is None


# -- long takes: forced window by window (judging/forcing.py) --------------------------------

from pytest_luxgate.judging.forcing import WINDOW_S, forced_reference, windows  # noqa: E402
from pytest_luxgate.metrics.text import word_sources  # noqa: E402


def test_matches_are_the_words_heard_right():
    w = word_error("the cat sat on the warm mat today", "a cat sat on on the mat today")
    got = w.matches()
    assert all(w.ref_words[r] == w.hyp_words[h] for r, h in got)
    assert [w.ref_words[r] for r, _ in got] == ["cat", "sat", "on", "the", "mat", "today"]


def test_word_sources_follow_the_normaliser_across_words():
    w = word_error("It costs ninety dollars, sir.", "It costs ninety dollars, sir.")
    assert word_sources(w.ref_words, "It costs ninety dollars, sir.".split()) == [(0,), (1,), (2, 3), (4,)]
    assert word_sources(["cat"], ["dog"]) == [(0,)]  # heard otherwise: still its source
    assert word_sources(["cat"], ["."]) == [()]  # nothing lines up


def _long_take(n_words: int, spacing: float = 0.5):
    """A text of n distinct words, heard right, one every `spacing` s, 0.3 s long each."""
    pool = "apple river stone cloud green table window garden silver morning".split()
    text = " ".join(pool[k % len(pool)] for k in range(n_words))  # normalised as written
    words = tuple(Word(t, k * spacing, k * spacing + 0.3, 0.9) for k, t in enumerate(text.split()))
    return text, words, n_words * spacing


def test_windows_cover_the_take_within_whispers_window_cutting_after_heard_words():
    text, words, dur = _long_take(150)  # 75 s
    w = word_error(text, text)
    got = windows(w, words, dur)
    assert got[0][0] == 0.0 and got[-1][1] == dur and got[-1][3] == len(w.ref_words)
    for (a0, a1, r0, r1), (b0, _, s0, _) in zip(got, got[1:]):
        assert a1 == b0 and r1 == s0  # contiguous in time and in words
    for t0, t1, r0, r1 in got:
        assert t1 - t0 <= WINDOW_S
        assert words[r0].start >= t0 and words[r1 - 1].end <= t1  # no word cut


def test_a_stretch_with_no_word_heard_right_is_left_unscored():
    text, words, dur = _long_take(100)
    words = tuple(Word("zz", x.start, x.end, x.probability) if 20 <= k < 90 else x  # 35 s misheard
                  for k, x in enumerate(words))
    w = word_error(text, " ".join(x.text for x in words))
    got = windows(w, words, dur)
    assert got and got[-1][3] < len(w.ref_words)  # stopped: nothing to cut at within reach


def test_forced_reference_forces_each_window_with_its_own_words_and_audio():
    text, words, dur = _long_take(150)
    w = word_error(text, text)
    rate = 100
    audio = np.zeros(int(dur * rate), np.float32)
    asked = []

    def force(clip, sr, span):
        asked.append((len(clip) / sr, span))
        return tuple((t, 0.5) for t in span.split())

    got = forced_reference(w, words, text, audio, rate, force)
    assert got == [0.5] * len(w.ref_words)
    assert len(asked) == len(windows(w, words, dur)) >= 3
    assert " ".join(span for _, span in asked) == text and all(d <= WINDOW_S for d, _ in asked)


def test_a_short_take_is_forced_whole_and_a_backend_that_cannot_gives_none():
    w = word_error(HALL, HOLE)
    audio = np.zeros(16000 * 3, np.float32)
    got = forced_reference(w, _words(HOLE), HALL, audio, 16000,
                           lambda a, r, t: tuple((x, 0.7) for x in t.split()))
    assert got == [0.7] * len(w.ref_words)
    assert forced_reference(w, _words(HOLE), HALL, audio, 16000, lambda *_: None) is None


def test_a_missing_bpe_merge_is_put_back_at_its_tokens_rank():
    from pytest_luxgate.asr.bundled import repair_bpe_merges

    vocab = {chr(c): c for c in range(33, 256)} | {"Ġ": 32}  # bytes, the space as byte-level BPE writes it
    vocab.update({"Ġt": 256, "he": 257, "Ġthe": 258})
    broken = {"model": {"type": "BPE", "vocab": vocab, "merges": ["h e", "Ġt he"]}, "other": 1}
    fixed = repair_bpe_merges(broken)
    assert fixed["model"]["merges"] == ["Ġ t", "h e", "Ġt he"] and fixed["other"] == 1
    assert broken["model"]["merges"] == ["h e", "Ġt he"]  # the input is not changed
    assert repair_bpe_merges(fixed) is fixed  # nothing missing: returned as it is
