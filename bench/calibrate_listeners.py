"""Calibrate the listener checks (pauses, quality, voice) on clean and spoiled real speech.

Corpus: tests/speech_corpus.py (Piper en_US-joe-medium at length_scale 0.75-1.6
and noise_scale 0.333-1.0, six espeak-ng voices at 80-200 wpm), 14 texts.

* pauses: Whisper tiny.en word times + metrics/pauses.py on every clean clip;
  the fault splices 0.15/0.2/0.3 s of silence at a heard word boundary where the
  text has no punctuation (then re-transcribes), some with a noise floor added
  over the whole spliced clip so the gap is not digital silence.
* quality: DNSMOS (speechmos) on clean clips and on the same clips with white or
  pink noise at 20/10/5/0 dB SNR re the speech level, hard clipping (x6 gain),
  4-bit quantisation.
* voice: resemblyzer cosine similarity of pairs in the same voice (another text,
  rate or noise seed) and in different voices (Piper vs espeak-ng, espeak-ng
  voice vs another), plus every clip against the two shipped prompts.

    .venv/bin/python bench/calibrate_listeners.py [--n 42] [--seed 9] [--only pauses,quality,voice]

Prints the distributions and the pass rates at the current defaults; the
figures in docs/CALIBRATION.md ("Listener checks") come from this script.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import speech_corpus as C
from calibrate_detectors import ASRCache

from pytest_luxgate.metrics import pauses as P
from pytest_luxgate.judging.thresholds import THRESHOLDS

TEXT_IDS = list(C.TEXTS)


def corpus(rng: np.random.Generator, n: int) -> list[C.ClipSpec]:
    specs = []
    for k in range(n):
        text_id = TEXT_IDS[k % len(TEXT_IDS)]
        if k % 2 == 0:
            specs.append(C.ClipSpec(text_id, "piper", length_scale=float(rng.choice([0.75, 1.0, 1.3, 1.6])),
                                    noise_scale=float(rng.choice([0.333, 0.667, 1.0])),
                                    seed=int(rng.integers(1, 50)), rate=16_000))
        else:
            specs.append(C.ClipSpec(text_id, "espeak", voice=str(rng.choice(C.ESPEAK_VOICES)),
                                    speed=int(rng.choice([80, 120, 160, 200])), rate=16_000))
    return specs


def stats(values: list[float]) -> str:
    if not values:
        return "n=0"
    v = np.asarray(values, dtype=float)
    return (f"n={len(v)} min {v.min():.3f} p5 {np.percentile(v, 5):.3f} median {np.median(v):.3f} "
            f"p95 {np.percentile(v, 95):.3f} max {v.max():.3f}")


# ------------------------------------------------------------------ pauses

def splice_gap(clip: C.Clip, words: Any, gap_s: float, rng: np.random.Generator) -> tuple[np.ndarray, dict] | None:
    """Insert `gap_s` of silence at a heard word boundary the text does not punctuate."""
    ref, marks = P._reference(clip.text)
    heard = [w for w in words if P._norm(w.text)]
    if len(heard) < 3:
        return None
    mapping = P._hyp_to_ref(ref, [P._norm(w.text) for w in heard])
    cands = [i for i in range(len(heard) - 1)
             if not "".join(marks[k] for k in range(mapping[i], max(mapping[i] + 1, mapping[i + 1])))
             and heard[i + 1].start > heard[i].start]
    if not cands:
        return None
    i = int(rng.choice(cands))
    a, b = heard[i].end - 0.03, heard[i + 1].start + 0.03
    lo, hi = int(min(a, b) * clip.sr), int(max(a, b) * clip.sr)
    # cut at the quietest 5 ms between the two words, so no sound is split
    win = int(0.005 * clip.sr)
    x = clip.audio
    if hi - lo > win:
        e = np.convolve(x[lo:hi] ** 2, np.ones(win), "valid")
        cut = lo + int(np.argmin(e)) + win // 2
    else:
        cut = (lo + hi) // 2
    audio = np.concatenate([x[:cut], np.zeros(int(gap_s * clip.sr), np.float32), x[cut:]])
    return audio.astype(np.float32), {"at": cut / clip.sr, "before": heard[i].text, "after": heard[i + 1].text}


def run_pauses(specs: list[C.ClipSpec], cache: Path, seed: int) -> dict[str, Any]:
    asr = ASRCache(cache / "asr.json")
    limit = THRESHOLDS["pause_gap_s"].default
    clean_max, explained, worst = [], [], []
    faults: dict[float, list[float]] = {0.15: [], 0.2: [], 0.3: []}
    for k, spec in enumerate(specs):
        clip = C.make_clip(spec, cache)
        words = asr.words(clip.audio, clip.sr)
        m = P.pause_metrics(clip.audio, clip.sr, words, clip.text)
        clean_max.append(m.longest_unexplained_s)
        explained += [g.duration for g in m.gaps if g.explained and g.before and g.after]
        if m.longest_unexplained:
            worst.append((m.longest_unexplained_s, clip.name, m.longest_unexplained.words()))
        for gap_s, found in faults.items():
            rng = np.random.default_rng([seed, k, int(gap_s * 1000)])
            got = splice_gap(clip, words, gap_s, rng)
            if got is None:
                continue
            audio, _info = got
            if k % 3 == 0:  # a noise floor over everything: the gap is not digital silence
                audio = C.add_noise_floor(audio, clip.sr, -50.0, rng)
            fw = asr.words(audio, clip.sr)
            fm = P.pause_metrics(audio, clip.sr, fw, clip.text)
            found.append(fm.longest_unexplained_s)
    asr.save()
    worst.sort(reverse=True)
    out = {"limit": limit, "clean_longest_unexplained": stats(clean_max),
           "clean_pass": f"{np.mean(np.asarray(clean_max) <= limit):.0%}",
           "explained_gaps": stats(explained), "clean_worst": worst[:6]}
    for gap_s, vals in faults.items():
        out[f"fault_{gap_s}s"] = stats(vals) + f"; caught {np.mean(np.asarray(vals) > limit):.0%}"
    return out


# ------------------------------------------------------------------ quality

def spoil(audio: np.ndarray, sr: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind.startswith(("white", "pink")):
        color, snr = kind.split("@")
        level = C.speech_level_db(audio, sr) - float(snr)
        noisy = audio + 10 ** (level / 20) * C.colored_noise(len(audio), rng, color)
        return np.clip(noisy, -1, 1).astype(np.float32)
    if kind == "clip_x6":
        return np.clip(audio / np.max(np.abs(audio)) * 0.8 * 6, -1, 1).astype(np.float32)
    if kind == "4bit":
        return (np.round(audio * 8) / 8).astype(np.float32)
    raise ValueError(kind)


QUALITY_FAULTS = ("white@20", "pink@20", "white@10", "pink@10", "white@5", "white@0", "clip_x6", "4bit")


def run_quality(specs: list[C.ClipSpec], cache: Path, seed: int) -> dict[str, Any]:
    from pytest_luxgate.listeners import dnsmos

    limit = THRESHOLDS["quality_ovrl"].default
    t0 = time.perf_counter()
    dnsmos.score(np.zeros(16000, np.float32), 16000)
    first = time.perf_counter() - t0
    rows: dict[str, list[dict[str, float]]] = {"clean_piper": [], "clean_espeak": []}
    per_clip = []
    for k, spec in enumerate(specs):
        clip = C.make_clip(spec, cache)
        t0 = time.perf_counter()
        s = dnsmos.score(clip.audio, clip.sr)
        per_clip.append((len(clip.audio) / clip.sr, time.perf_counter() - t0))
        rows["clean_" + spec.engine].append(s.to_dict())
        for j, kind in enumerate(QUALITY_FAULTS):
            rng = np.random.default_rng([seed, k, j])
            rows.setdefault(kind, []).append(dnsmos.score(spoil(clip.audio, clip.sr, kind, rng), clip.sr).to_dict())
    out: dict[str, Any] = {"limit": limit, "first_call_s": round(first, 2),
                           "per_clip": stats([t for _, t in per_clip]),
                           "audio_s": stats([a for a, _ in per_clip])}
    for name, rs in rows.items():
        ovrl = [r["ovrl"] for r in rs]
        out[name] = {key: stats([r[key] for r in rs]) for key in ("ovrl", "sig", "bak", "p808")}
        out[name]["pass_at_limit"] = f"{np.mean(np.asarray(ovrl) >= limit):.0%}"
    return out


# ------------------------------------------------------------------ voice

def run_voice(specs: list[C.ClipSpec], cache: Path) -> dict[str, Any]:
    from pytest_luxgate.listeners import speaker
    from pytest_luxgate.matrix.prompts import DEFAULT_FILE, load_prompts, read_prompt_audio

    limit = THRESHOLDS["voice_similarity"].default
    emb = {}
    for spec in specs:
        clip = C.make_clip(spec, cache)
        voice = "piper" if spec.engine == "piper" else spec.voice
        speech_s = len(speaker._preprocess(clip.audio, clip.sr)) / speaker.ENCODER_RATE
        emb[spec.name] = (voice, speaker.embed(clip.audio, clip.sr), speech_s)
    min_s = speaker.MIN_SPEECH_S
    out: dict[str, Any] = {"limit": limit, "min_speech_s": min_s,
                           "clips_below_min_speech": sum(1 for v in emb.values() if v[2] < min_s)}
    for label, keep in (("all", lambda s: True), (f">={min_s}s", lambda s: s >= min_s)):
        names = [n for n in emb if keep(emb[n][2])]
        same, diff_pe, diff_ee, diff_sex = [], [], [], []
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                (va, ea, _), (vb, eb, _) = emb[a], emb[b]
                sim = float(np.dot(ea, eb))
                if va == vb:
                    same.append(sim)
                elif "piper" in (va, vb):
                    diff_pe.append(sim)
                else:
                    diff_ee.append(sim)
                    if ("+f" in va) != ("+f" in vb):
                        diff_sex.append(sim)
        prompts = {p.id: speaker.embed(*read_prompt_audio(p)) for p in load_prompts(DEFAULT_FILE)}
        vs_a: dict[str, list[float]] = {"piper": [], "other": []}
        vs_b: dict[str, list[float]] = {"same": [], "male": [], "other_female": []}
        for n in names:
            voice, e, _ = emb[n]
            vs_a["piper" if voice == "piper" else "other"].append(float(np.dot(e, prompts["prompt_a"])))
            kind = "same" if voice == "en-us+f3" else ("other_female" if "+f" in voice else "male")
            vs_b[kind].append(float(np.dot(e, prompts["prompt_b"])))

        def rate(v: list[float]) -> str:
            return stats(v) + (f"; pass {np.mean(np.asarray(v) >= limit):.0%}" if v else "")
        out[label] = {"same_voice": rate(same), "piper_vs_espeak": rate(diff_pe),
                      "espeak_vs_other_espeak": rate(diff_ee), "espeak_male_vs_female": rate(diff_sex),
                      "piper_takes_vs_prompt_a(piper)": rate(vs_a["piper"]),
                      "espeak_takes_vs_prompt_a(piper)": rate(vs_a["other"]),
                      "f3_takes_vs_prompt_b(espeak f3)": rate(vs_b["same"]),
                      "male_takes_vs_prompt_b": rate(vs_b["male"]),
                      "other_female_espeak_vs_prompt_b": rate(vs_b["other_female"])}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=42)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/luxgate-calibration"))
    ap.add_argument("--only", default="pauses,quality,voice")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    specs = corpus(np.random.default_rng(args.seed), args.n)
    out: dict[str, Any] = {}
    for part in args.only.split(","):
        t0 = time.time()
        if part == "pauses":
            out[part] = run_pauses(specs, args.cache, args.seed)
        elif part == "quality":
            out[part] = run_quality(specs, args.cache, args.seed)
        elif part == "voice":
            # same voice at more rates/texts: add each espeak clip's voice at another speed
            extra = [replace(s, speed=120 if s.speed != 120 else 200) for s in specs if s.engine == "espeak"]
            out[part] = run_voice(specs + extra, args.cache)
        out[part]["elapsed_s"] = round(time.time() - t0, 1)
        print(json.dumps({part: out[part]}, indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
