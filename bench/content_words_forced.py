"""The forced second opinion's margin (issue 15, items 1 and 3): does a tiny numeric perturbation
move a region's forced probability across the limit?

The content-word rule excuses a region whose reference content words Whisper, forced to the
text, still finds likely (metrics/content_words.py, DEFAULT_MIN_FORCED_PROBABILITY). For every
take of bench/calibrate_content_words.py where the gate asks that question (every set, the
added-word takes too), this recomputes the forced probability of each region under
CTranslate2's other instruction sets (CT2_FORCE_CPU_ISA, one subprocess each, since the
variable is read when ctranslate2 loads) and on the 16-bit samples the gate keeps, and prints
the largest change, the regions nearest the limit, and every excuse that flips.

    PYTHONPATH=. .venv/bin/python bench/content_words_forced.py [--json OUT]

Only regions whose native forced probability lies within a factor of 10 of the limit are
recomputed under the perturbations (a change of 10x is no tiny perturbation); the transcripts
come from calibrate_content_words.py's cache (run it first) as this machine heard them, so the
regions are the same on every side and only the forced pass varies.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

PERTURBATIONS = (("AVX512", False), ("AVX2", False), ("AVX", False), ("GENERIC", False), (None, True))


def takes() -> list[tuple[str, str, str, dict, str]]:
    """(label, text, said, voice, params) of every calibration take, clean, swapped and added."""
    import calibrate_content_words as C

    out = []
    for name in ("tune", "holdout", "kokoro", "fresh"):
        for voice, params in C.VOICES[name]:
            for text, swapped in C.pairs_of(name):
                out += [(f"{name} {voice} clean", text, text, voice, params),
                        (f"{name} {voice} swap", text, swapped, voice, params)]
    for voice, params in C.ADDED_VOICES:
        for text, _ in C.TUNE + C.HOLDOUT:
            out += [(f"added {voice} clean", text, text, voice, params)]
            out += [(f"added {voice} {kind}", text, C.added(text, kind), voice, params) for kind in ("middle", "end")]
    return out


def regions(cache: Path, only: set[str] | None) -> dict[str, dict]:
    """Region id -> its forced probability and verdict, in this process's ISA / AS_SAVED."""
    import calibrate_content_words as C

    from pytest_luxgate.judging.analysis import judge_content_words
    from pytest_luxgate.metrics.text import word_error

    out = {}
    for label, text, said, voice, params in takes():
        tag = f"{label} | {said}"
        if only is not None and not any(k.startswith(tag + " | ") for k in only):
            continue
        engine = C.engine_of(voice)
        t = native_transcript(said, engine, params, cache)
        w = word_error(text, t.text)
        found = judge_content_words(w, t.words, text, lambda: C.forced_reference(w, said, engine, params, cache, text))
        for e in found.errors + found.excused:
            if e.get("forced") is not None:
                out[f"{tag} | {' '.join(e['ref'])} -> {' '.join(e['hyp'])}"] = {
                    "forced": e["forced"], "excused": e["why"] == "the text likely, forced"}
    return out


def native_transcript(said: str, engine: str, params: dict, cache: Path):
    """The take's transcript as the parent process heard it: the regions stay the same on every
    side, and only the forced pass feels the perturbation (the free decode's own spread under
    the ISAs is bench/asr_perturbation.py's)."""
    import calibrate_content_words as C

    isa = os.environ.pop("CT2_FORCE_CPU_ISA", None)  # part of the transcript key, not of this question
    try:
        return C.transcribe(said, engine, params, cache)
    finally:
        if isa is not None:
            os.environ["CT2_FORCE_CPU_ISA"] = isa


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/luxgate-content-words"))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--one", help=argparse.SUPPRESS)  # child: a JSON of region ids to recompute
    ap.add_argument("--as-saved", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    import calibrate_content_words as C

    if a.one:
        C.AS_SAVED = a.as_saved
        print(json.dumps(regions(a.cache, set(json.loads(Path(a.one).read_text())))))
        return
    from pytest_luxgate.metrics.content_words import (
        DEFAULT_MIN_FORCED_PROBABILITY as LIMIT,
    )

    native = regions(a.cache, None)
    near = {k: v for k, v in native.items() if LIMIT / 10 <= v["forced"] <= min(1.0, LIMIT * 10)}
    ids = a.cache / "forced-near.json"
    ids.write_text(json.dumps(sorted(near)))
    sides = {}
    for isa, saved in PERTURBATIONS:
        env = dict(os.environ)
        if isa:
            env["CT2_FORCE_CPU_ISA"] = isa
        name = f"CT2 {isa}" if isa else "16-bit WAV round trip"
        cmd = [sys.executable, __file__, "--cache", str(a.cache), "--one", str(ids)] + (["--as-saved"] if saved else [])
        sides[name] = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
    lines = [f"{len(native)} regions asked in all; {len(near)} within 10x of the limit {LIMIT} recomputed", "",
             "| perturbation | regions | largest change (x) | excuses flipped |", "|---|---|---|---|"]
    flips = []
    for name, got in sides.items():
        ratios = [max(got[k]["forced"], 1e-6) / max(v["forced"], 1e-6) for k, v in near.items() if k in got]
        flipped = [k for k, v in near.items() if k in got and got[k]["excused"] != v["excused"]]
        flips += [f"- {name}: {k}: {near[k]['forced']} -> {got[k]['forced']}" for k in flipped]
        worst = max((max(r, 1 / r) for r in ratios), default=1.0)
        lines.append(f"| {name} | {len(ratios)} | {worst:.3f} | {len(flipped)} |")
    lines += ["", "Nearest the limit (native forced p, then under each perturbation):"]
    for k, v in sorted(near.items(), key=lambda kv: abs(kv[1]["forced"] / LIMIT - 1))[:12]:
        lines.append(f"- {k}: {v['forced']} | " + ", ".join(f"{got[k]['forced']}" for got in sides.values() if k in got))
    lines += ["", "Flips:"] + (flips or ["- none"])
    if a.json:
        a.json.write_text(json.dumps({"native": native, "sides": sides}, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
