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
    """Everything in analysis except ASR: VAD, loops, edges, level, rate, text metrics."""
    from pytest_luxgate.listeners.vad import speech_segments
    from pytest_luxgate.metrics.edges import start_metrics, tail_metrics
    from pytest_luxgate.metrics.level import level_metrics
    from pytest_luxgate.metrics.loops import audio_loops
    from pytest_luxgate.metrics.rate import speaking_rate

    parts = {"vad": 0.0, "loops": 0.0, "edges": 0.0, "level": 0.0, "rate": 0.0}
    audio_total = 0.0
    for _ in range(repeats):
        for _sid, a, sr, text in takes:
            audio_total += len(a) / sr
            t0 = time.perf_counter(); seg = speech_segments(a, sr); parts["vad"] += time.perf_counter() - t0
            t0 = time.perf_counter(); audio_loops(a, sr); parts["loops"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            start_metrics(a, sr, seg, ()); tail_metrics(a, sr, seg, ())
            parts["edges"] += time.perf_counter() - t0
            t0 = time.perf_counter(); level_metrics(a, sr); parts["level"] += time.perf_counter() - t0
            t0 = time.perf_counter(); speaking_rate(text, seg); parts["rate"] += time.perf_counter() - t0
    total = sum(parts.values())
    return {"x_real_time": round(audio_total / total, 1),
            "per_part_x_real_time": {k: round(audio_total / v, 1) for k, v in parts.items() if v > 0}}


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
