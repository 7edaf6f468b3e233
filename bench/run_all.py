"""Benchmarks for BENCHMARKS.md: cold gate run, ASR speed/accuracy, detector throughput.

    scripts/dev bench            # or: .venv/bin/python bench/run_all.py [--skip-gate]

Prints a Markdown report and writes bench/results.json. Speed is measured here,
never in a timed test. RTF = processing seconds / audio seconds (lower is faster);
"x real time" = audio seconds / processing seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def bench_gate_cold() -> dict:
    """The README's gate command in a fresh process (models load from disk)."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "tests/gate", "-q", "-p", "no:cacheprovider",
                               f"--luxgate-output={tmp}/out"], cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        report = json.loads(Path(tmp, "out", "report.json").read_text())
    cells = report["cells"]
    return {"wall_s": round(wall, 1), "cells": len(cells), "exit": proc.returncode,
            "synthesis_s": round(sum(c["timings"]["synthesis_s"] for c in cells), 2),
            "asr_s": round(sum(c["timings"]["asr_s"] for c in cells), 2),
            "analysis_s": round(sum(c["timings"]["analysis_s"] for c in cells), 2),
            "audio_s": round(sum(c["audio_s"] for c in cells), 2)}


def _takes() -> list[tuple[str, object, int, str]]:
    from pytest_luxgate.matrix.scenarios import load_dirs, standard_dir
    from pytest_luxgate.stacks.piper import PiperStack

    stack = PiperStack()
    t0 = time.perf_counter()
    stack.load()
    load_s = time.perf_counter() - t0
    takes = []
    synth = audio_s = 0.0
    for sc in load_dirs([standard_dir()]):
        t0 = time.perf_counter()
        out = stack.synthesize(sc.text, None, stack.default_params(), seed=1234)
        synth += time.perf_counter() - t0
        audio_s += len(out.audio) / out.sample_rate
        takes.append((sc.id, out.audio, out.sample_rate, sc.text))
    _takes.piper = {"load_s": round(load_s, 2), "rtf": round(synth / audio_s, 3)}  # type: ignore[attr-defined]
    return takes


def bench_asr(takes: list, specs: list[str]) -> dict:
    from pytest_luxgate.asr import get_asr
    from pytest_luxgate.metrics.text import word_error

    out = {}
    for spec in specs:
        t0 = time.perf_counter()
        asr = get_asr(spec)
        load = time.perf_counter() - t0
        asr.transcribe(takes[0][1], takes[0][2])  # warm-up
        proc = audio = 0.0
        wers = {}
        for sid, a, sr, text in takes:
            t0 = time.perf_counter()
            tr = asr.transcribe(a, sr)
            proc += time.perf_counter() - t0
            audio += len(a) / sr
            wers[sid] = round(word_error(text, tr.text).wer, 3)
        out[spec] = {"load_s": round(load, 2), "rtf": round(proc / audio, 3),
                     "mean_wer": round(statistics.mean(wers.values()), 3), "wer": wers}
    return out


def bench_detectors(takes: list, repeats: int = 3) -> dict:
    """Everything in analysis except ASR, per part (bench/detectors.py: best-of-N CPU time)."""
    import detectors

    return detectors.bench(takes, repeats)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-gate", action="store_true")
    args = ap.parse_args()
    results: dict = {"machine": _machine(), "date": time.strftime("%Y-%m-%d")}
    if not args.skip_gate:
        results["gate_cold"] = bench_gate_cold()
    takes = _takes()
    results["piper"] = _takes.piper  # type: ignore[attr-defined]
    results["asr"] = bench_asr(takes, ["faster-whisper:tiny.en", "faster-whisper:base"])
    results["detectors"] = bench_detectors(takes)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
