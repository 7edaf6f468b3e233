"""Calibrate the content-word rule of test_wer (metrics/content_words.py).

For every text of bench/content_word_texts.py, each voice says the text
(clean) and the text with one or two content words swapped (swap); Whisper
base (the gate's ASR: faster-whisper int8, beam 5, word timestamps) hears
each take, and both are judged against the ORIGINAL text. A clean take
flagged is a false alarm; a swap flagged is caught.

Tuning set: the first 24 texts, Piper joe (noise seed 1) and espeak-ng
en-us+m3. Held out: the other 24 texts, Piper joe (noise seed 7,
length_scale 1.1), espeak-ng en-gb+m1 and en-us+f3 at 150 wpm, and the five
human recordings of tests/data/human (clean only). Added after every rule
and limit was set, never tuned on: Kokoro-82M voices jm_kumo, jf_alpha (speed
1.1) and jf_tebukuro (0.9) on all 48 texts (set "kokoro").

    PYTHONPATH=. .venv/bin/python bench/calibrate_content_words.py            # both sets
    PYTHONPATH=. .venv/bin/python bench/calibrate_content_words.py --dump     # every excused/error region
    PYTHONPATH=. .venv/bin/python bench/calibrate_content_words.py --added    # takes that add a content word

Deterministic: synthesis and transcripts are cached under --cache (default
/tmp/luxgate-content-words); Piper's noise is seeded, Whisper decodes at
temperature 0.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from content_word_texts import FRESH, HOLDOUT, TUNE  # noqa: E402
import speech_corpus as corpus  # noqa: E402

from pytest_luxgate.asr.base import Forced  # noqa: E402
from pytest_luxgate.core.types import Transcript, Word  # noqa: E402
from pytest_luxgate.judging.analysis import judge_content_words  # noqa: E402
from pytest_luxgate.metrics.content_words import (  # noqa: E402
    DEFAULT_MAX_PHONEME_DISTANCE,
    DEFAULT_MAX_RARE_PHONEME_DISTANCE,
    DEFAULT_MAX_WER_PHONEME_DISTANCE,
    DEFAULT_MIN_PROBABILITY,
    content_word_errors,
    hyp_probabilities,
    rare_words,
    sounds_alike_wer,
)
from pytest_luxgate.metrics.text import word_error  # noqa: E402

ASR = "faster-whisper:base"
#: --cached-only: judge only the takes already transcribed (a partial table while a run fills the cache)
CACHED_ONLY = False
#: --no-forced turns the forced second opinion (metrics/content_words.py) off, to see the rule without it
FORCED = True
#: force the text on the 16-bit samples the gate keeps (bench/content_words_forced.py --as-saved)
AS_SAVED = False

VOICES = {
    "tune": [("piper", dict(seed=1)), ("espeak en-us+m3", dict(voice="en-us+m3", speed=160))],
    "holdout": [("piper", dict(seed=7, length_scale=1.1)),
                ("espeak en-gb+m1", dict(voice="en-gb+m1", speed=150)),
                ("espeak en-us+f3", dict(voice="en-us+f3", speed=150))],
    # a neural voice family added after every rule and limit was set: all 48 texts are new to it
    # written after the forced-decode limits were seen (bench/content_words_forced.py): new texts,
    # and voices or settings none of the sets above used
    "fresh": [("piper", dict(seed=13, length_scale=0.95)),
              ("espeak en-us+m7", dict(voice="en-us+m7", speed=155)),
              ("kokoro jf_nezumi", dict(voice="jf_nezumi", speed=1.0)),
              ("kokoro jf_gongitsune", dict(voice="jf_gongitsune", speed=0.95)),
              ("kokoro jm_kumo", dict(voice="jm_kumo", speed=1.1))],
    "kokoro": [("kokoro jm_kumo", dict(voice="jm_kumo", speed=1.0)),
               ("kokoro jf_alpha", dict(voice="jf_alpha", speed=1.1)),
               ("kokoro jf_tebukuro", dict(voice="jf_tebukuro", speed=0.9))],
}


#: the held-out voices that also say each held-out text with a fault WER must catch
FAULT_VOICES = ("piper", "espeak en-us+f3", "kokoro jm_kumo")


def dropped(text: str) -> str:
    """The text with three words from its middle left out."""
    w = text.split()
    k = len(w) // 3
    return " ".join(w[:k] + w[k + 3:])


def repeated(text: str) -> str:
    """The text with three words from its middle said twice."""
    w = text.split()
    k = len(w) // 3
    return " ".join(w[:k + 3] + w[k:k + 3] + w[k + 3:])


#: words a take adds in --added: common content words of several classes (nouns, adjectives,
#: adverbs, numbers); each text gets the first one it does not contain, picked by a hash of
#: the text, so the choice is fixed and not tuned on what Whisper hears
ADDED_WORDS = ("green", "quickly", "seven", "garden", "silver", "happy", "winter", "yellow", "river",
               "twelve", "purple", "careful", "mountain", "honest", "orange", "forty", "pencil", "gently")
#: the voices that say each text with an added word: one per family, as FAULT_VOICES
ADDED_VOICES = (("piper", dict(seed=7, length_scale=1.1)), ("espeak en-us+f3", dict(voice="en-us+f3", speed=150)),
                ("kokoro jm_kumo", dict(voice="jm_kumo", speed=1.0)))


def added(text: str, where: str) -> str:
    """The text with one content word it does not have said in the middle ("middle") or after its
    last word ("end"): a TTS that adds a word (a hallucination, garbage heard as a word)."""
    low = text.lower()
    words = [w for w in ADDED_WORDS if w not in low]
    extra = words[sum(map(ord, text)) % len(words)]
    w = text.split()
    if where == "middle":
        k = len(w) // 2
        return " ".join(w[:k] + [extra] + w[k:])
    core = w[-1].rstrip(".,!?;:")
    return " ".join(w[:-1] + [core, extra + w[-1][len(core):]])


def take(text: str, voice: str, params: dict, cache: Path):
    if voice == "human":
        clip = corpus.human_clip(params["clip"])
        return clip.audio, clip.sr
    if voice == "piper":
        return corpus.piper(text, cache, **params)
    if voice == "kokoro":
        return corpus.kokoro(text, cache, **params)
    return corpus.espeak(text, cache, **params)


def engine_of(voice: str) -> str:
    """The synthesiser behind a voice label ("piper", "espeak en-us+f3", "kokoro jm_kumo")."""
    return voice.split()[0]


def pairs_of(name: str) -> list[tuple[str, str]]:
    return {"tune": TUNE, "holdout": HOLDOUT, "fresh": FRESH}.get(name, TUNE + HOLDOUT)


def _isa() -> str:
    """The ISA the ASR backend will compute with (LUXGATE_ASR_ISA): part of the transcript cache key."""
    from pytest_luxgate.asr.faster_whisper_backend import pin_cpu_isa

    return pin_cpu_isa(dict(os.environ))


def transcribe(text: str, voice: str, params: dict, cache: Path, fault: str = "") -> Transcript:
    from pytest_luxgate.run.cache import asr_identity

    # the gate's own transcript identity (feature code, ISA, threads, package versions): a change
    # to any of them is a new transcript, as in the gate's cache (before 2026-12-05 the key was
    # the ASR name alone, and cached words lagged the code by up to 0.055 in probability)
    ident = [text, voice, params, asr_identity(ASR)]
    if fault:
        ident.append(fault)
    key = hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]
    path = cache / f"asr-{key}.json"
    if CACHED_ONLY and not path.exists():
        raise LookupError(path)
    if path.exists():
        d = json.loads(path.read_text())
        return Transcript(d["text"], tuple(Word(*w) for w in d["words"]), d["model"])
    from pytest_luxgate.asr import get_asr

    audio, sr = take(text, voice, params, cache)
    if fault == "reversed":
        audio = audio[::-1].copy()
    t = get_asr(ASR).transcribe(audio, sr)
    path.write_text(json.dumps({"text": t.text, "model": t.model,
                                "words": [[w.text, w.start, w.end, w.probability] for w in t.words]}))
    return t


def forced(said: str, voice: str, params: dict, cache: Path, text: str, fault: str = "") -> Forced:
    """The gate's second opinion: Whisper base forced to `text` on the take of `said` (cached;
    the key holds CT2_FORCE_CPU_ISA and AS_SAVED, which bench/content_words_forced.py varies)."""
    from pytest_luxgate.asr.faster_whisper_backend import FORCE_COMPUTE_TYPE

    ident = [said, voice, params, ASR, "forced", text, fault, os.environ.get("CT2_FORCE_CPU_ISA"), AS_SAVED,
             FORCE_COMPUTE_TYPE]
    path = cache / f"forced-{hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]}.json"
    if path.exists():
        got = json.loads(path.read_text())
        return None if got is None else tuple((w, p) for w, p in got)
    from pytest_luxgate.asr import get_asr
    from pytest_luxgate.core.audio import as_saved

    audio, sr = take(said, voice, params, cache)
    if fault == "reversed":
        audio = audio[::-1].copy()
    if AS_SAVED:
        audio = as_saved(audio, sr)
    got = get_asr(ASR).force(audio, sr, text)
    path.write_text(json.dumps(got))
    return got


def judge(text: str, t: Transcript, max_dist: float, min_prob: float | None,
          force: Callable[[], Forced] | None = None):
    """`force`: the take's forced second opinion, asked (as the gate asks it) only when a
    region with reference words would count; None or --no-forced: not asked."""
    w = word_error(text, t.text)
    probs = hyp_probabilities(w.hyp_words, [(x.text, x.probability) for x in t.words]) \
        if min_prob is not None else None
    kw = dict(max_phoneme_distance=max_dist, min_probability=min_prob if min_prob is not None else 0.0,
              rare=rare_words(text))  # as the gate judges (judging/analysis.judge_content_words)
    c = content_word_errors(w, probs, **kw)
    if FORCED and force is not None and any(e["ref"] for e in c.errors):
        f = force()
        if f is not None:
            c = content_word_errors(w, probs, forced=hyp_probabilities(w.ref_words, f), **kw)
    return w, c


def forced_reference(w, said: str, voice: str, params: dict, cache: Path, text: str) -> list[float | None] | None:
    """Each reference word's forced probability (the takes are all under one 30 s window)."""
    got = forced(said, voice, params, cache, text)
    return None if got is None else hyp_probabilities(w.ref_words, got)


def run(sets: list[str], cache: Path, max_dist: float, min_prob: float | None, dump: bool) -> list[dict]:
    rows = []
    for name in sets:
        if name == "human":  # held out too: recorded speech, clean takes only (no swaps to make)
            row = {"set": "human", "voice": "5 recordings (tests/data/human)", "clean": 0, "fa": 0,
                   "swap": 0, "caught": 0, "wer_fa": 0, "wer_caught": 0, "new_fa": 0, "any_caught": 0,
                   "missed": [], "alarms": []}
            for clip, text in corpus.HUMAN_TEXTS.items():
                t = transcribe(text, "human", {"clip": clip}, cache)
                w, c = judge(text, t, max_dist, min_prob,
                             lambda: forced(text, "human", {"clip": clip}, cache, text))
                row["clean"] += 1
                row["fa"] += c.count > 0
                row["wer_fa"] += w.wer > 0.20
                row["new_fa"] += c.count > 0 and w.wer <= 0.20
                if c.count:
                    row["alarms"].append(f"{c.describe()} ({w.diff()})")
                if dump:
                    for e in c.errors + c.excused:
                        print(f"human   {clip:16} clean {' '.join(e['ref'])!r:28} -> {' '.join(e['hyp'])!r:28} "
                              f"d={e['phoneme_distance']:.3f} p={e['probability']} {e['why'] or 'ERROR'}")
            rows.append(row)
            continue
        pairs = pairs_of(name)
        for voice, params in VOICES[name]:
            engine = engine_of(voice)
            row = {"set": name, "voice": voice, "clean": 0, "fa": 0, "swap": 0, "caught": 0,
                   "wer_fa": 0, "wer_caught": 0, "new_fa": 0, "any_caught": 0,
                   "missed": [], "alarms": []}
            for text, swapped in pairs:
                for kind, said in (("clean", text), ("swap", swapped)):
                    t = transcribe(said, engine, params, cache)
                    w, c = judge(text, t, max_dist, min_prob,
                                 lambda: forced(said, engine, params, cache, text))
                    flagged = c.count > 0
                    if kind == "clean":
                        row["clean"] += 1
                        row["fa"] += flagged
                        row["wer_fa"] += w.wer > 0.20
                        row["new_fa"] += flagged and w.wer <= 0.20
                        if flagged:
                            row["alarms"].append(f"{c.describe()} ({w.diff()})")
                    else:
                        row["swap"] += 1
                        row["caught"] += flagged
                        row["wer_caught"] += w.wer > 0.20
                        row["any_caught"] += flagged or w.wer > 0.20
                        if not flagged:
                            row["missed"].append(f"{w.diff()} | excused: " + "; ".join(
                                f"{e['ref']}->{e['hyp']} d={e['phoneme_distance']} p={e['probability']} {e['why']}"
                                for e in c.excused))
                    if dump:
                        for e in c.errors + c.excused:
                            if e["why"] != "function words":
                                print(f"{name:7} {voice:16} {kind:5} {' '.join(e['ref'])!r:28} -> "
                                      f"{' '.join(e['hyp'])!r:28} d={e['phoneme_distance']:.3f} "
                                      f"p={e['probability']} {e['why'] or 'ERROR'}")
            rows.append(row)
    return rows


def table(rows: list[dict], max_dist: float, min_prob: float | None) -> str:
    out = [f"Rule: content words only, sounds-alike at phoneme distance <= {max_dist}, "
           f"not-confident below p = {min_prob}; ASR {ASR}.", "",
           "| set | voice | clean takes flagged: content words | ... of them passing WER 0.20 (new alarms) "
           "| WER > 0.20 alone | swaps caught: content words | WER > 0.20 alone | test_wer (either) |",
           "|---|---|---|---|---|---|---|---|"]

    def pct(k: int, n: int) -> str:
        return f"{k}/{n} ({100 * k / n:.0f} %)" if n else "-"

    for r in rows:
        out.append(f"| {r['set']} | {r['voice']} | {r['fa']}/{r['clean']} | {r['new_fa']}/{r['clean']} | "
                   f"{r['wer_fa']}/{r['clean']} | {pct(r['caught'], r['swap'])} | "
                   f"{pct(r['wer_caught'], r['swap'])} | {pct(r['any_caught'], r['swap'])} |")
    for r in rows:
        for a in r["alarms"]:
            out.append(f"- false alarm, {r['set']} {r['voice']}: {a}")
        for m in r["missed"]:
            out.append(f"- missed swap, {r['set']} {r['voice']}: {m}")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="tune,holdout,human,kokoro")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/luxgate-content-words"))
    ap.add_argument("--max-phoneme-distance", type=float, default=DEFAULT_MAX_PHONEME_DISTANCE)
    ap.add_argument("--min-probability", type=float, default=DEFAULT_MIN_PROBABILITY)
    ap.add_argument("--no-confidence", action="store_true", help="turn the confidence rule off")
    ap.add_argument("--dump", action="store_true", help="print every non-function-word region")
    ap.add_argument("--slips", action="store_true",
                    help="test_wer before/after the slip rules on clean takes, swaps and faults")
    ap.add_argument("--rare-distance", type=float, default=DEFAULT_MAX_RARE_PHONEME_DISTANCE)
    ap.add_argument("--wer-distance", type=float, default=DEFAULT_MAX_WER_PHONEME_DISTANCE)
    ap.add_argument("--added", action="store_true",
                    help="test_wer on takes that add one content word (middle, end), all 48 texts")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--cached-only", action="store_true", help="--slips on the takes already transcribed")
    ap.add_argument("--no-forced", action="store_true", help="the rule without the forced second opinion")
    a = ap.parse_args()
    global CACHED_ONLY, FORCED
    CACHED_ONLY, FORCED = a.cached_only, not a.no_forced
    a.cache.mkdir(parents=True, exist_ok=True)
    if a.added:
        print(additions(a.cache, a.verbose))
        return
    if a.slips:
        print(slips(a.sets.split(","), a.cache, a.rare_distance, a.wer_distance, a.verbose))
        return
    min_prob = None if a.no_confidence else a.min_probability
    rows = run(a.sets.split(","), a.cache, a.max_phoneme_distance, min_prob, a.dump)
    print(table(rows, a.max_phoneme_distance, min_prob))



# --------------------------------------------------------------------------
# --slips: the rules for the recogniser's slips (rare words, sounds-alike WER
# regions) before and after, on clean takes, swaps and faults
# --------------------------------------------------------------------------


def verdicts(text: str, t: Transcript, rare_dist: float, wer_dist: float) -> dict[str, bool]:
    """test_wer's verdict on a take without the slip rules (before) and with them (after)."""
    w = word_error(text, t.text)
    probs = hyp_probabilities(w.hyp_words, [(x.text, x.probability) for x in t.words])
    before = content_word_errors(w, probs).count > 0 or w.wer > 0.20
    cw = content_word_errors(w, probs, rare=rare_words(text), max_rare_phoneme_distance=rare_dist)
    sw = sounds_alike_wer(w, max_phoneme_distance=wer_dist)
    return {"before": before, "after": cw.count > 0 or sw.wer > 0.20,
            "note": f"{w.diff()} | WER {w.wer:.2f} counted {sw.wer:.2f} | cw {cw.describe()}"}


def slips(sets: list[str], cache: Path, rare_dist: float, wer_dist: float, verbose: bool) -> str:
    """Fail rates of test_wer before and after the slip rules, per set/voice and kind of take."""
    kinds = ("clean", "swap", "dropped", "repeated", "other text", "reversed")
    counts: dict[tuple[str, str, str], list[int]] = {}
    notes: list[str] = []

    def add(key: tuple[str, str, str], v: dict | Callable[[], dict]) -> None:
        if callable(v):
            try:
                v = v()
            except LookupError:  # --cached-only: not transcribed yet
                return
        c = counts.setdefault(key, [0, 0, 0])
        c[0] += 1
        c[1] += v["before"]
        c[2] += v["after"]
        if v["before"] != v["after"] or verbose and (v["after"] == (key[2] == "clean")):
            notes.append(f"- {key[0]} {key[1]} {key[2]}: {'fail' if v['before'] else 'pass'} -> "
                         f"{'fail' if v['after'] else 'pass'}: {v['note']}")

    for name in sets:
        if name == "human":
            for clip, text in corpus.HUMAN_TEXTS.items():
                add(("human", "5 recordings", "clean"), lambda: verdicts(
                    text, transcribe(text, "human", {"clip": clip}, cache), rare_dist, wer_dist))
            continue
        pairs = pairs_of(name)
        for voice, params in VOICES[name]:
            engine = engine_of(voice)
            heard = [lambda text=text: transcribe(text, engine, params, cache) for text, _ in pairs]
            for i, (text, swapped) in enumerate(pairs):
                add((name, voice, "clean"), lambda: verdicts(text, heard[i](), rare_dist, wer_dist))
                add((name, voice, "swap"), lambda: verdicts(text, transcribe(swapped, engine, params, cache),
                                                            rare_dist, wer_dist))
                if name == "tune" or voice not in FAULT_VOICES:
                    continue
                add((name, voice, "dropped"), lambda: verdicts(
                    text, transcribe(dropped(text), engine, params, cache), rare_dist, wer_dist))
                add((name, voice, "repeated"), lambda: verdicts(
                    text, transcribe(repeated(text), engine, params, cache), rare_dist, wer_dist))
                add((name, voice, "other text"), lambda: verdicts(
                    text, heard[(i + 1) % len(pairs)](), rare_dist, wer_dist))
                add((name, voice, "reversed"), lambda: verdicts(
                    text, transcribe(text, engine, params, cache, fault="reversed"), rare_dist, wer_dist))
    out = [f"ISA {_isa()}; rare-word distance {rare_dist}, sounds-alike WER distance {wer_dist}", "",
           "| set | voice | takes | test_wer fails: before | after |", "|---|---|---|---|---|"]
    for k in kinds:
        for (name, voice, kind), (n, b, a) in counts.items():
            if kind == k:
                out.append(f"| {name} | {voice} | {kind} ({n}) | {b}/{n} | {a}/{n} |")
    return "\n".join(out + [""] + notes)


# --------------------------------------------------------------------------
# --added: takes that say one content word the text does not have
# --------------------------------------------------------------------------


def additions(cache: Path, verbose: bool) -> str:
    """test_wer's verdict (content words, WER, either) on each ADDED_VOICES voice saying every
    text with an added word, in the middle and at the end; the clean takes of the same voices
    beside them. A miss lists the added word's Whisper probability."""
    rows = ["| voice | takes | caught: content words | WER > 0.20 alone | test_wer (either) |",
            "|---|---|---|---|---|"]
    notes: list[str] = []
    for voice, params in ADDED_VOICES:
        engine = engine_of(voice)
        for kind in ("clean", "middle", "end"):
            n = cw = wer = either = 0
            for text, _ in TUNE + HOLDOUT:
                said = text if kind == "clean" else added(text, kind)
                t = transcribe(said, engine, params, cache)
                w = word_error(text, t.text)
                c = judge_content_words(w, t.words, text, lambda: forced_reference(w, said, engine, params, cache, text)
                                        if FORCED else None)
                over = sounds_alike_wer(w).wer > 0.20
                n, cw, wer, either = n + 1, cw + (c.count > 0), wer + over, either + (c.count > 0 or over)
                if verbose and (c.count > 0 or over) == (kind == "clean"):
                    why = "; ".join(f"{e['content']} p={e['probability']} {e['why']}" for e in c.excused
                                    if not e["ref"])
                    notes.append(f"- {voice} {kind}: {w.diff()} | {c.describe() or why or 'nothing heard added'}")
            label = "clean (false alarms)" if kind == "clean" else f"word added, {kind}"
            rows.append(f"| {voice} | {label} ({n}) | {cw}/{n} | {wer}/{n} | {either}/{n} |")
    return "\n".join([f"ASR {ASR}, ISA {_isa()}", ""] + rows + [""] + notes)


if __name__ == "__main__":
    main()
