"""Noise glued to speech (issue 15 item 4): does start/tail fail it, and pass clean takes?

Builds clean clips (Piper joe, six espeak-ng voices, the human recordings in
tests/data/human) at 16/22.05/24/48 kHz and spoils each with bursts glued
directly (no gap) before the first word and after the last word:

    shapes  white, pink, brown, speech-shaped (the clip's own spectrum, random
            phase), reversed-speech garbage (another voice, shuffled 60-120 ms
            pieces), crackle (random clicks, 100-400 per second)
    length  0.1 / 0.2 / 0.3 s
    level   -10 / -5 / 0 dB re the speech RMS (20 ms windows within 40 dB of the loudest)

Every clip gets each shape once per side, length and level rotating over the
clips (a Latin square), so every shape x length x level cell is drawn about
equally often. Plus one gap-separated burst per side per clip (50-150 ms of
silence between burst and word), which the edge metrics caught before.

The start/tail verdicts are those of checks.check_start / check_tail at the
edges.DEFAULTS limits; a human recording is judged as a cloned take of itself
(its own background + 6 dB allowed on the noise limits, as the gate does).

`--set kokoro` (added after the detector was set, never tuned on): Kokoro-82M's
five voices on the corpus and held-out texts at speeds 0.77-1.18, seed 43.

Sets, never mixed: `--set dev` (the 14 corpus texts, seed 11; the
detector was tuned on it) and `--set held` (24 other texts, more voices and
human recordings; seed 29 showed three clean false alarms that led to one
round of changes, seed 31 was drawn after it; docs/CALIBRATION.md has both).

    .venv/bin/python bench/calibrate_glued_noise.py --set held --n 24
    .venv/bin/python bench/calibrate_glued_noise.py --set held --n 24 --seed 31
    .venv/bin/python bench/calibrate_glued_noise.py --set dev
    .venv/bin/python bench/calibrate_glued_noise.py --set kokoro --n 30 --seed 47 --unseen

`--unseen` draws faults no rule or limit was set on instead (UNSEEN: 0.05-0.2 s, 0 to +6 dB,
a periodic buzz, a babble, noise under 500 Hz beside white, speech-shaped and reversed speech).
Synthesis and Whisper tiny.en words are cached under --cache.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import speech_corpus as C
from calibrate_detectors import ASRCache  # Whisper words per audio hash, on disk

from pytest_luxgate.judging.checks import failing_edges
from pytest_luxgate.listeners.aligner import text_span
from pytest_luxgate.listeners.vad import speech_segments
from pytest_luxgate.metrics import edges
from pytest_luxgate.metrics.level import background_db

HELD_TEXTS = {
    "sixty": "Sixty five percent of this.",
    "five": "Five thousand steps.",
    "thanks": "Thanks for the help.",
    "she_said": "She said it was fine.",
    "seven": "Seven seconds.",
    "fresh": "Fresh fish.",
    "coffee": "Hot coffee, please.",
    "left": "Take the next left.",
    "check_this": "Check this.",
    "start": "Start the test.",
    "ships": "Six ships sank.",
    "philosophy": "Philosophy is fun.",
    "birthday": "Happy birthday to you.",
    "call": "Call me back.",
    "safe": "Stay safe.",
    "spring": "Spring is almost here.",
    "think": "Think about it.",
    "shop": "Support your local shop.",
    "fix": "Fix it fast.",
    "cats": "Cats and dogs.",
    "every": "Every single time.",
    "office": "Our new office opens at nine.",
    "peace": "Peace.",
    "hush": "Hush.",
}
SHAPES = ("white", "pink", "brown", "speech_shaped", "reversed_speech", "crackle")
LENGTHS = (0.1, 0.2, 0.3)
LEVELS = (-10.0, -5.0, 0.0)
#: --unseen: faults no rule or limit was set on: shorter, louder, and voiced (a periodic buzz, a
#: babble of three garbage snippets) or low-passed noise beside the shapes above
UNSEEN = (("white", "speech_shaped", "reversed_speech", "buzz", "babble", "lowpass"),
          (0.05, 0.1, 0.2), (0.0, 3.0, 6.0))
RATES = (16_000, 22_050, 24_000, 48_000)
SETS = {"dev": (C.TEXTS, 11, ("en-us+m3", "en-gb+m1", "en-us+f3")),
        "held": (HELD_TEXTS, 29, C.ESPEAK_VOICES),
        # a neural voice family added after the detector was set: every Kokoro voice, both text sets
        "kokoro": ({**C.TEXTS, **HELD_TEXTS}, 43, C.KOKORO_VOICES)}
LIM = edges.DEFAULTS
#: --no-align: the edge rules without the forced alignment of the text (before_text_s, after_text_s)
ALIGN = True


# ---------------------------------------------------------------- corpus

def clean_clips(which: str, n: int, cache: Path, seed: int | None = None) -> list[C.Clip]:
    texts, default_seed, voices = SETS[which]
    seed = default_seed if seed is None else seed
    rng = np.random.default_rng(seed)
    ids = list(texts)
    clips = []
    for k in range(n):
        text = texts[ids[k % len(ids)]]
        if which == "kokoro":
            base = C.ClipSpec(text, "kokoro", voice=str(voices[k % len(voices)]),
                              length_scale=float(rng.choice([0.85, 1.0, 1.15, 1.3])))
        elif k % 2 == 0:
            base = C.ClipSpec(text, "piper", length_scale=float(rng.choice([0.8, 1.0, 1.25, 1.5])),
                              noise_scale=float(rng.choice([0.333, 0.667, 1.0])), seed=int(rng.integers(1, 50)))
        else:
            base = C.ClipSpec(text, "espeak", voice=str(voices[(k // 2) % len(voices)]),
                              speed=int(rng.choice([130, 160, 190])))
        spec = replace(base, rate=RATES[k % len(RATES)],
                       lead_s=[None, 0.0, 0.02, 0.05, 0.3][int(rng.integers(0, 5))],
                       trail_s=[None, 0.02, 0.05, 0.3][int(rng.integers(0, 4))],
                       noise_db=[None, None, -60.0, -50.0][int(rng.integers(0, 4))],
                       gain=float(rng.choice([1.0, 0.3, 1.249])))
        clips.append(C.make_clip(spec, cache))
    if which == "held":
        clips += [C.human_clip(name) for name in C.HUMAN_TEXTS]
    return clips


def burst(shape: str, seconds: float, rel_db: float, clip: C.Clip, donor: np.ndarray,
          rng: np.random.Generator) -> np.ndarray:
    sr = clip.sr
    n = int(round(seconds * sr))
    if shape in ("white", "pink", "brown"):
        x = C.colored_noise(n, rng, shape).astype(np.float64)
    elif shape == "speech_shaped":
        x = C.speech_shaped_noise(clip, seconds, rng)
    elif shape == "reversed_speech":
        x = C.garbage_snippet(donor, sr, seconds, rng).astype(np.float64)
    elif shape == "buzz":  # a pulse-like harmonic series at 90-250 Hz up to 4 kHz: voiced, not speech
        f0 = rng.uniform(90, 250)
        t = np.arange(n) / sr
        x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, int(4000 / f0)))
    elif shape == "babble":
        x = sum(C.garbage_snippet(donor, sr, seconds, rng).astype(np.float64)[:n] for _ in range(3))
    elif shape == "lowpass":  # white noise under 500 Hz (4th-order Butterworth)
        from scipy.signal import butter, sosfilt

        x = sosfilt(butter(4, 500, fs=sr, output="sos"), rng.standard_normal(n))
    elif shape == "crackle":
        x = np.zeros(n)
        k = rng.poisson(rng.uniform(100, 400) * seconds) + 2
        for pos in rng.integers(0, max(1, n - int(0.004 * sr)), k):
            amp = 10 ** rng.uniform(-1, 0) * rng.choice([-1, 1])
            if rng.random() < 0.5:
                x[pos: pos + int(rng.integers(1, 4))] += amp
            else:
                m = int(rng.uniform(0.001, 0.003) * sr)
                t = np.arange(m) / sr
                x[pos: pos + m] += amp * np.exp(-t / (m / sr / 4)) * np.cos(2 * np.pi * rng.uniform(500, 3000) * t)
    else:
        raise ValueError(shape)
    if shape not in ("crackle", "reversed_speech", "babble"):
        x = C.fade(x, sr)
    level = 10 ** ((C.speech_level_db(clip.audio, sr) + rel_db) / 20)
    return (x / (np.sqrt(np.mean(x ** 2)) + 1e-12) * level).astype(np.float32)


def glue(clip: C.Clip, side: str, b: np.ndarray, gap_s: float = 0.0) -> tuple[np.ndarray, tuple[float, float]]:
    """Put burst `b` right before the first word (side 'lead') or after the last ('tail'),
    with `gap_s` of silence between; returns the audio and the burst's span."""
    sr, x = clip.sr, clip.audio
    g = np.zeros(int(gap_s * sr), np.float32)
    if side == "lead":
        head = int(clip.speech_start * sr)
        keep = max(0, head - len(b) - len(g))
        audio = np.concatenate([x[:keep], b, g, x[head:]])
        return audio, (keep / sr, (keep + len(b)) / sr)
    end = int(clip.speech_end * sr)
    audio = np.concatenate([x[:end], g, b, x[end:]])
    return audio, ((end + len(g)) / sr, (end + len(g) + len(b)) / sr)


# ---------------------------------------------------------------- measuring

def verdicts(audio: np.ndarray, sr: int, text: str, asr: ASRCache, room: float | None) -> dict[str, Any]:
    segs = speech_segments(audio, sr)
    words = asr.words(audio, sr)
    span = text_span(audio, sr, text) if ALIGN else None
    s, t = edges.edge_metrics(audio, sr, segs, words, expected_text=text, text_span=span)
    start_why = failing_edges(s, prompt_background_db=room)
    tail_why = failing_edges(tail=t, prompt_background_db=room)
    return {"start_fail": bool(start_why), "start_why": start_why, "tail_fail": bool(tail_why),
            "tail_why": tail_why, "onset": s.onset_s, "offset": t.offset_s,
            "start": s.to_dict(), "tail": t.to_dict(), "words": " ".join(w.text for w in words)}


def run(which: str, n: int, cache: Path, seed: int | None = None,
        measure: Callable[..., dict[str, Any]] | None = None,
        clean_asr: str | None = None,
        faults: tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]] = (SHAPES, LENGTHS, LEVELS),
        ) -> list[dict[str, Any]]:
    """Every row of the set: each clean clip and each of its spoiled copies, measured by
    `measure(audio, sr, text, asr, room)` (default: the start/tail `verdicts`). `clean_asr`: the
    clean clips' words from this model instead of tiny.en (the gate hears with base, and the
    rules that read word timing answer differently: docs/CALIBRATION.md "The clean alarms,
    heard by the gate's recogniser"); the spoiled copies keep tiny.en's. `faults`: the shapes,
    lengths and levels drawn (UNSEEN for --unseen)."""
    shapes, lengths, levels = faults
    verdicts_of = measure or verdicts
    asr = ASRCache(cache / "glued-asr.json")
    clean_words = asr if clean_asr is None else ASRCache(cache / f"glued-asr-{clean_asr}.json", clean_asr)
    caches = [asr] if clean_words is asr else [asr, clean_words]
    clips = clean_clips(which, n, cache, seed)
    fseed = SETS[which][1] if seed is None else seed
    donor_specs = [C.ClipSpec("long", "espeak", voice="en-us+m7", speed=170),
                   C.ClipSpec("pauses", "espeak", voice="en-gb+m1", speed=150),
                   C.ClipSpec("numbers", "piper", seed=77, length_scale=1.1)]
    rows = []
    t0 = time.time()
    for k, clip in enumerate(clips):
        donor_spec = replace(donor_specs[k % len(donor_specs)], rate=clip.sr)
        donor = C.make_clip(donor_spec, cache).audio
        room = None
        if clip.name in C.HUMAN_TEXTS:
            room = background_db(clip.audio, clip.sr, speech_segments(clip.audio, clip.sr))
        base = {"clip": clip.name, "sr": clip.sr, "text": clip.text, "human": room is not None}
        rows.append({**base, "fault": "clean", "side": "-",
                     **verdicts_of(clip.audio, clip.sr, clip.text, clean_words, room)})
        for si, shape in enumerate(shapes):
            for side in ("lead", "tail"):
                li = (k + si + (side == "tail")) % 3
                vi = (k // 3 + si + 2 * (side == "tail")) % 3
                rng = np.random.default_rng([fseed, k, si, side == "tail"])
                b = burst(shape, lengths[li], levels[vi], clip, donor, rng)
                audio, span = glue(clip, side, b)
                rows.append({**base, "fault": shape, "side": side, "glue": "glued", "length": lengths[li],
                             "rel_db": levels[vi], "span": span,
                             **verdicts_of(audio, clip.sr, clip.text, asr, room)})
        for side in ("lead", "tail"):  # the older, gap-separated form
            rng = np.random.default_rng([7, fseed, k, side == "tail"])
            shape = shapes[int(rng.integers(0, len(shapes)))]
            b = burst(shape, float(rng.choice(lengths)), float(rng.choice(levels)), clip, donor, rng)
            audio, span = glue(clip, side, b, gap_s=float(rng.uniform(0.05, 0.15)))
            rows.append({**base, "fault": shape, "side": side, "glue": "gap", "span": span,
                         **verdicts_of(audio, clip.sr, clip.text, asr, room)})
        if k % 4 == 3:
            for words in caches:
                words.save()
            print(f"  {k + 1}/{len(clips)} clips, {time.time() - t0:.0f} s", file=sys.stderr)
    for words in caches:
        words.save()
    return rows


# ---------------------------------------------------------------- report

def _rate(rows: list[dict[str, Any]], key: str) -> str:
    return f"{sum(r[key] for r in rows)}/{len(rows)}" if rows else "-"


def report(rows: list[dict[str, Any]], which: str,
           faults: tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]] = (SHAPES, LENGTHS, LEVELS)) -> str:
    clean = [r for r in rows if r["fault"] == "clean"]
    out = [f"Set `{which}`: {len(clean)} clean clips ({sum(r['human'] for r in clean)} human), "
           f"{len(rows) - len(clean)} faulty.", "",
           "| | start fails | tail fails |", "|---|---|---|",
           f"| clean (false alarms) | {_rate(clean, 'start_fail')} | {_rate(clean, 'tail_fail')} |"]
    glued = [r for r in rows if r.get("glue") == "glued"]
    lead = [r for r in glued if r["side"] == "lead"]
    tail = [r for r in glued if r["side"] == "tail"]
    out.append(f"| glued before the first word (caught) | {_rate(lead, 'start_fail')} | |")
    out.append(f"| glued after the last word (caught) | | {_rate(tail, 'tail_fail')} |")
    gap = [r for r in rows if r.get("glue") == "gap"]
    out.append(f"| after a 50-150 ms gap, before (caught) | {_rate([r for r in gap if r['side'] == 'lead'], 'start_fail')} | |")
    out.append(f"| after a 50-150 ms gap, after (caught) | | {_rate([r for r in gap if r['side'] == 'tail'], 'tail_fail')} |")
    out += ["", "Glued, caught per shape / length / level (start on lead bursts, tail on tail bursts):", "",
            "| | lead | tail |", "|---|---|---|"]
    for name, key, vals in zip(("shape", "length s", "dB re speech"), ("fault", "length", "rel_db"), faults):
        for v in vals:
            a = [r for r in lead if r[key] == v]
            b = [r for r in tail if r[key] == v]
            out.append(f"| {name} {v} | {_rate(a, 'start_fail')} | {_rate(b, 'tail_fail')} |")
    for key, side in (("before_text_s", "start"), ("after_text_s", "tail")):
        top = sorted((r[side][key] for r in clean if r[side].get(key) is not None), reverse=True)
        out += ["", f"{key}: clean top {top[:4]}; limit {LIM[key]}"]
    why = collections.Counter()
    for r in lead:
        why.update("start:" + w for w in r["start_why"])
    for r in tail:
        why.update("tail:" + w for w in r["tail_why"])
    out += ["", "Failing metric (a burst may fail more than one): "
            + ", ".join(f"{k} {v}" for k, v in sorted(why.items()))]
    misses = [r for r in lead if not r["start_fail"]] + [r for r in tail if not r["tail_fail"]]
    fa = [r for r in clean if r["start_fail"] or r["tail_fail"]]
    if misses or fa:
        out += ["", "Misses and false alarms:", ""]
        for r in fa:
            out.append(f"- FALSE ALARM {r['clip']}: start {r['start_why']} tail {r['tail_why']} "
                       f"(onset {r['onset']}, offset {r['offset']})")
        for r in misses:
            out.append(f"- missed {r['side']} {r['fault']} {r['length']} s {r['rel_db']} dB on {r['clip']} "
                       f"(burst {r['span'][0]:.2f}-{r['span'][1]:.2f} s, onset {r['onset']}, offset {r['offset']})")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=tuple(SETS), default="held")
    ap.add_argument("--n", type=int, default=0, help="synthetic clean clips (default: 2 per text)")
    ap.add_argument("--seed", type=int, help="another draw of the set (default: dev 11, held 29)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/luxgate-calibration"))
    ap.add_argument("--dump", type=Path, help="write all rows as JSON here")
    ap.add_argument("--no-align", action="store_true", help="the edge rules without before_text_s / after_text_s")
    ap.add_argument("--unseen", action="store_true", help="the faults no rule was set on (UNSEEN): 0.05-0.2 s, "
                                                          "0 to +6 dB, buzz, babble, low-passed noise")
    ap.add_argument("--clean-asr", help="judge the clean clips with this model's words (e.g. base, as the gate "
                                        "hears), the spoiled ones with tiny.en's")
    args = ap.parse_args()
    global ALIGN
    ALIGN = not args.no_align
    args.cache.mkdir(parents=True, exist_ok=True)
    n = args.n or 2 * len(SETS[args.set][0])
    faults = UNSEEN if args.unseen else (SHAPES, LENGTHS, LEVELS)
    rows = run(args.set, n, args.cache, args.seed, clean_asr=args.clean_asr, faults=faults)
    if args.dump:
        args.dump.write_text(json.dumps(rows, default=float, indent=1))
    print(report(rows, args.set + ("" if args.seed is None else f", seed {args.seed}")
                 + (", unseen faults" if args.unseen else ""), faults))


if __name__ == "__main__":
    main()
