"""Measure every audio detector on clean speech and on injected faults.

Builds a varied corpus with tests/speech_corpus.py (Piper joe at several speeds
and noise scales, six espeak-ng voices, 16/22.05/24/48 kHz, leads and tails from
0 to 0.8 s, noise floors, gains up to full scale), spoils copies of it with each
fault injector (random parameters per clip), runs VAD + Whisper tiny.en + the
metrics, and prints/writes min/median/max per metric for clean vs fault, the
margin between them and the pass/fail rates at the DEFAULTS limits.

    .venv/bin/python bench/calibrate_detectors.py --n-clean 60 --write docs/CALIBRATION.md

Everything is cached under --cache (synthesis, ASR by audio hash, metric rows),
so re-running after changing a detector only recomputes the metrics (--fresh-metrics).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import speech_corpus as C

from pytest_luxgate.listeners.aligner import text_span
from pytest_luxgate.listeners.vad import segments_from_probabilities, speech_probabilities
from pytest_luxgate.metrics import anchors, edges, level, loops
from pytest_luxgate.core.types import Word

# which metric is meant to catch which fault
TARGETS: dict[str, list[str]] = {
    "lead_garbage": ["lead_garbage_s", "before_text_s"],
    "noise_lead": ["pre_onset_noise_db"],
    "breath": ["pre_onset_noise_db", "lead_garbage_s"],
    "click": ["pre_onset_click_db"],
    "trail_garbage": ["trail_garbage_s", "after_text_s"],
    "noise_tail": ["post_offset_noise_db"],
    "buzz_tail": ["tail_buzz_s"],
    "truncation": ["truncation_db"],
    "clipping": ["clip_frac", "longest_clip_run_s"],
    "loop_copy": ["longest_repeat_s"],
    "loop_resynth": ["longest_repeat_s"],
}
START_KEYS = ("lead_garbage_s", "before_text_s", "pre_onset_noise_db", "pre_onset_click_db", "start_ratio")
TAIL_KEYS = ("trail_garbage_s", "after_text_s", "post_offset_noise_db", "tail_buzz_s", "truncation_db", "tail_ratio")
LIMITS: dict[str, float] = {**edges.DEFAULTS, **level.DEFAULTS, **loops.DEFAULTS}
#: --no-align: the edge rules without the forced alignment of the text (before_text_s, after_text_s)
ALIGN = True
NEEDS_ASR = {"clean", "lead_garbage", "noise_lead", "noise_tail", "breath", "click", "trail_garbage", "buzz_tail",
             "truncation"}

RESYNTH = [
    ("The quick brown fox jumps over the lazy dog", "over the lazy dog"),
    ("Please take the pot off the stove", "off the stove"),
    ("Today we are running a longer paragraph", "a longer paragraph"),
    ("She keeps a small garden behind the house", "behind the house"),
    ("Order number eight four seven two ships on Monday", "ships on Monday"),
    ("Whether final words remain intelligible", "remain intelligible"),
    ("We walked along the river and talked about the weekend", "about the weekend"),
    ("Quick quality check for the new voice", "for the new voice"),
]


class ASRCache:
    """Whisper words per audio hash, on disk (tiny.en unless `model` says otherwise)."""

    def __init__(self, path: Path, model: str = "tiny.en") -> None:
        self.path, self.model = path, model
        self.data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        self.asr: Any = None

    def words(self, audio: np.ndarray, sr: int) -> tuple[Word, ...]:
        from pytest_luxgate.run.cache import asr_identity

        # the gate's transcript identity (weights' precision, feature code, ISA, versions) is part
        # of the key: words cached under other decode settings are not this code's words
        ident = json.dumps(asr_identity(self.model), sort_keys=True).encode()
        key = hashlib.sha1(np.ascontiguousarray(audio, np.float32).tobytes() + str(sr).encode() + ident).hexdigest()
        if key not in self.data:
            if self.asr is None:
                from pytest_luxgate.asr import get_asr

                self.asr = get_asr(self.model)
            tr = self.asr.transcribe(audio, sr)
            self.data[key] = [[w.text, w.start, w.end, w.probability] for w in tr.words]
        return tuple(Word(*w) for w in self.data[key])

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data))


def measure(clip: C.Clip, asr: ASRCache | None) -> dict[str, Any]:
    audio = clip.audio
    row: dict[str, Any] = {"name": clip.name, "fault": clip.fault, "sr": clip.sr, "dur": len(audio) / clip.sr,
                               "truth_start": clip.speech_start, "truth_end": clip.speech_end, "info": clip.info}
    lv = level.level_metrics(audio, clip.sr)
    row.update(clip_frac=lv.clip_frac, longest_clip_run_s=lv.longest_clip_run_s, peak_dbfs=lv.peak_dbfs)
    t0 = time.perf_counter()
    row.update(longest_repeat_s=loops.audio_loops(audio, clip.sr).longest_repeat_s)
    row["loop_time"] = time.perf_counter() - t0
    if asr is None:
        return row
    probs, hop = speech_probabilities(audio, clip.sr)
    segs = segments_from_probabilities(probs, hop, duration_s=len(audio) / clip.sr)
    words = asr.words(audio, clip.sr)
    span = text_span(audio, clip.sr, clip.text) if ALIGN else None
    st, tl = edges.edge_metrics(audio, clip.sr, segs, words, expected_text=clip.text, text_span=span)
    row.update({k: getattr(st, k) for k in START_KEYS})
    row.update({k: getattr(tl, k) for k in TAIL_KEYS})
    row.update(vad_onset=st.vad_onset_s, first_est=st.first_word_start_s, first_asr=st.asr_first_word_start_s,
               vad_offset=tl.vad_offset_s, last_est=tl.last_word_end_s, last_asr=tl.asr_last_word_end_s,
               lead_words=st.lead_words, trail_words=tl.trail_words,
               words=" ".join(w.text for w in words))
    ctx = edges._Context(audio, clip.sr, segs, words, clip.text)
    if words:  # for calibrating the word-duration cap
        fw = words[ctx.first]
        row.update(first_word=fw.text, first_asr_end=fw.end, s_per_char=ctx.s_per_char,
                   first_letters=anchors.spoken_letters(fw.text))
    return row


def build_rows(cache: Path, n_clean: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    asr = ASRCache(cache / "asr.json")
    specs = C.clean_specs(rng, n_clean)
    donors = [C.make_clip(C.ClipSpec(t, "espeak", voice=v, speed=s), cache)
              for t, v, s in (("long", "en-us+m7", 170), ("pauses", "en-gb+m1", 150), ("stove", "en-us+f4", 160))]
    donors += [C.make_clip(C.ClipSpec("numbers", "piper", seed=77, length_scale=1.1), cache)]
    rows = []
    t0 = time.time()
    for k, spec in enumerate(specs):
        clip = C.make_clip(spec, cache)
        rows.append(measure(clip, asr))
        for fault in C.FAULTS:
            frng = np.random.default_rng([seed, k, list(C.FAULTS).index(fault)])
            donor = donors[k % len(donors)]
            try:
                bad = C.inject(fault, clip, frng, C.resample(donor.audio, donor.sr, clip.sr))
            except ValueError:  # e.g. a one-word clip is too short to loop
                continue
            rows.append(measure(bad, asr if fault in NEEDS_ASR else None))
        if k % 10 == 9:
            asr.save()
            print(f"  {k + 1}/{len(specs)} clean clips done ({time.time() - t0:.0f} s)", file=sys.stderr)
    for i, (head, phrase) in enumerate(RESYNTH):
        for s, ls, rate in ((1, 1.0, 48_000), (2, 0.85, 16_000), (3, 1.25, 48_000)):
            clip = C.loop_resynth(head, phrase, cache, seed=s + 10 * i + 100 * (seed % 97), length_scale=ls, rate=rate)
            rows.append(measure(clip, None))
    asr.save()
    return rows


# ------------------------------------------------------------------ report

def _stats(v: list[float]) -> str:
    if not v:
        return "-"
    a = np.asarray(v, dtype=float)
    return f"{a.min():.3g} / {np.median(a):.3g} / {a.max():.3g}"


# texts that legitimately say a word or phrase twice ("sure ... really sure"):
# loop candidates there are for the caller's text cross-check, so the clean
# loop distribution is reported without them (and separately with them)
REPEATING_TEXTS = ("she/", "pauses/", "long/")


def _vals(rows: list[dict[str, Any]], fault: str, key: str) -> list[float]:
    sub = [r for r in rows if r["fault"] == fault and r.get(key) is not None]
    if key == "longest_repeat_s" and fault == "clean":
        sub = [r for r in sub if not r["name"].startswith(REPEATING_TEXTS)]
    return [r[key] for r in sub]


def report(rows: list[dict[str, Any]]) -> str:
    out = []
    n_clean = sum(r["fault"] == "clean" for r in rows)
    out.append(f"Clean clips: {n_clean}; fault clips: {len(rows) - n_clean}.\n")
    out.append("| fault | metric | limit | clean min / median / max | fault min / median / max | "
               "margin (fault min - clean max) | clean flagged | fault caught |")
    out.append("|---|---|---|---|---|---|---|---|")
    for fault, keys in TARGETS.items():
        for key in keys:
            clean = _vals(rows, "clean", key)
            bad = [r.get(key) for r in rows if r["fault"] == fault]
            bad_v = [b if b is not None else -np.inf for b in bad]
            lim = LIMITS.get(key)
            fp = sum(v > lim for v in clean) if lim is not None else 0
            caught = sum(v > lim for v in bad_v) if lim is not None else 0
            finite = [b for b in bad_v if np.isfinite(b)]
            margin = (min(finite) - max(clean)) if clean and finite else float("nan")
            none = sum(b is None for b in bad)
            note = f" ({none} unmeasurable)" if none else ""
            out.append(f"| {fault} | {key} | {lim} | {_stats(clean)} | {_stats([b for b in bad_v if np.isfinite(b)])} "
                       f"| {margin:.3g} | {fp}/{len(clean)} | {caught}/{len(bad_v)}{note} |")
    rep = [r["longest_repeat_s"] for r in rows if r["fault"] == "clean" and r["name"].startswith(REPEATING_TEXTS)]
    lim = LIMITS["longest_repeat_s"]
    out.append(f"| clean text that repeats words | longest_repeat_s | {lim} | {_stats(rep)} | - | - | "
               f"{sum(v > lim for v in rep)}/{len(rep)} (for the caller's text cross-check) | - |")
    for fault, key in (("lead_garbage", "lead_garbage_s"), ("trail_garbage", "trail_garbage_s")):
        for label, pick in (("glued (gap 0)", lambda g: g == 0), ("after a 30-150 ms gap", lambda g: g > 0)):
            sub = [r.get(key) for r in rows if r["fault"] == fault and pick(r["info"]["gap_s"])]
            got = [v for v in sub if v is not None]
            out.append(f"| {fault}, {label} | {key} | {LIMITS[key]} | - | {_stats(got)} | - | - | "
                       f"{sum(v > LIMITS[key] for v in got)}/{len(got)} measurable, {len(sub) - len(got)} not |")
    res = [r for r in rows if r["fault"] == "loop_resynth"]
    for lo, hi in ((0.0, 0.9), (0.9, 9.0)):
        sub = [r["longest_repeat_s"] for r in res if lo <= r["info"]["loop_s"] < hi]
        out.append(f"| loop_resynth, phrase {lo:g}-{hi:g} s | longest_repeat_s | {lim} | - | {_stats(sub)} | - | - | "
                   f"{sum(v > lim for v in sub)}/{len(sub)} |")
    out.append("")
    out.append("Any start/tail/level/loop check failing, per fault (all metrics at their limits):\n")
    out.append("| fault | caught by any | clips (clean: texts without repeated words) |")
    out.append("|---|---|---|")
    all_keys = [k for k in LIMITS if k not in ("start_ratio", "tail_ratio")]
    for fault in ["clean", *TARGETS]:
        sub = [r for r in rows if r["fault"] == fault]
        if fault == "clean":
            sub = [r for r in sub if not r["name"].startswith(REPEATING_TEXTS)]
        hit = sum(any(r.get(k) is not None and r[k] > LIMITS[k] for k in all_keys) for r in sub)
        out.append(f"| {fault} | {hit}/{len(sub)} | {len(sub)} |")
    out.append("")
    out.append("Legacy fixed-window ratios (start_ratio <= 0.45, tail_ratio <= 0.58):\n")
    out.append("| set | start_ratio min / median / max | flagged | tail_ratio min / median / max | flagged |")
    out.append("|---|---|---|---|---|")
    for fault in ["clean", "lead_garbage", "noise_lead", "breath", "click", "trail_garbage", "noise_tail", "buzz_tail",
                  "truncation"]:
        s = _vals(rows, fault, "start_ratio")
        t = _vals(rows, fault, "tail_ratio")
        out.append(f"| {fault} | {_stats(s)} | {sum(v > 0.45 for v in s)}/{len(s)} | {_stats(t)} | "
                   f"{sum(v > 0.58 for v in t)}/{len(t)} |")
    out.append("")
    out.append(reliability(rows))
    return "\n".join(out)


def reliability(rows: list[dict[str, Any]]) -> str:
    """How far Whisper's and the refined first-word start / last-word end are from the truth."""
    out = ["First-word start and last-word end vs the generator's truth (seconds, |error| median / p90 / max):\n",
           "| set | Whisper start | refined start | Whisper end | refined end |", "|---|---|---|---|---|"]

    def err(sub: list[dict[str, Any]], a: str, b: str) -> str:
        e = [abs(r[a] - r[b]) for r in sub if r.get(a) is not None]
        if not e:
            return "-"
        return f"{np.median(e):.3f} / {np.percentile(e, 90):.3f} / {max(e):.3f}"

    for fault in ("clean", "lead_garbage", "trail_garbage", "noise_lead", "breath"):
        sub = [r for r in rows if r["fault"] == fault]
        out.append(f"| {fault} | {err(sub, 'first_asr', 'truth_start')} | {err(sub, 'first_est', 'truth_start')} | "
                   f"{err(sub, 'last_asr', 'truth_end')} | {err(sub, 'last_est', 'truth_end')} |")
    return "\n".join(out)


def write_into(path: Path, text: str, section: str) -> None:
    """Replace the measured `section` of `path` (between its markers), keep the prose."""
    begin = f"<!-- BEGIN MEASURED {section} (bench/calibrate_detectors.py) -->"
    end = f"<!-- END MEASURED {section} -->"
    block = f"{begin}\n{text}\n{end}"
    old = path.read_text() if path.exists() else ""
    if begin in old and end in old:
        new = old[: old.index(begin)] + block + old[old.index(end) + len(end):]
    else:
        new = old + ("\n" if old else "") + block + "\n"
    path.write_text(new)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/luxgate-calibration"))
    ap.add_argument("--n-clean", type=int, default=60)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--fresh-metrics", action="store_true", help="recompute metrics (ASR stays cached)")
    ap.add_argument("--write", type=Path, help="write the report (markdown) into this file")
    ap.add_argument("--section", default="main", help="which measured section of --write to replace")
    ap.add_argument("--dump", type=Path, help="write all rows as JSON here")
    ap.add_argument("--no-align", action="store_true", help="the edge rules without before_text_s / after_text_s")
    args = ap.parse_args()
    global ALIGN
    ALIGN = not args.no_align
    args.cache.mkdir(parents=True, exist_ok=True)
    rows_path = args.cache / f"rows-{args.n_clean}-{args.seed}.json"
    if rows_path.exists() and not args.fresh_metrics:
        rows = json.loads(rows_path.read_text())
    else:
        rows = build_rows(args.cache, args.n_clean, args.seed)
        rows_path.write_text(json.dumps(rows, default=float))
    text = report(rows)
    print(text)
    if args.write:
        header = (f"Corpus: seed {args.seed}, {args.n_clean} clean clips + faults "
                  f"(`--n-clean {args.n_clean} --seed {args.seed}`).\n\n")
        write_into(args.write, header + text, args.section)
    if args.dump:
        args.dump.write_text(json.dumps(rows, default=float, indent=1))


if __name__ == "__main__":
    main()
