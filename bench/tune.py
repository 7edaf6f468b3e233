"""`luxgate tune` wall time and candidates, cold and resumed (figures for BENCHMARKS.md).

    .venv/bin/python bench/tune.py [--asr faster-whisper:tiny.en] [--scenario short_plain]

Tunes the `padded_tail` fault stack (tests/fault_stacks.py: real Piper speech
plus a robotic tail of `pad_frames` frames, failing the tail check at its
default) until every check the gate runs passes, in a fresh process with a
fresh cache (cold), then again with the same seed and cache (resumed: every
take and transcript comes from the cache). Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp: Path, asr: str, scenario: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    cmd = [sys.executable, "-m", "pytest_luxgate.cli", "tune", "--stack", "padded_tail=fault_stacks:PaddedTail",
           "--scenario", scenario, "--asr", asr, "--rounds", "8", "--candidates", "4", "--max-bytes", "5M",
           "--history", "all", "--cache-dir", str(tmp / "cache"), "-o", str(tmp / "out")]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    rep = json.loads((tmp / "out" / "tune-report.json").read_text())
    prompt = rep["prompts"]["own_voice"]
    hist = [json.loads(x) for x in (tmp / "out" / "history.jsonl").read_text().splitlines()]
    evals = [h["seconds"] for h in hist if "candidate" in h]
    return {"exit": proc.returncode, "wall_s": round(wall, 1), "tune_s": rep["run"]["duration_s"],
            "evaluations": prompt["evaluations"], "rounds": rep["run"]["rounds_done"],
            "mean_evaluation_s": round(sum(evals) / len(evals), 2) if evals else None,
            "passed": rep["run"]["passed"], "best": prompt["best"]["params"],
            "bytes_used": rep["bytes"]["used"], "bytes_peak": rep["bytes"]["peak"],
            "cache_bytes": sum(p.stat().st_size for p in (tmp / "cache").rglob("*") if p.is_file())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--asr", default="faster-whisper:tiny.en")
    ap.add_argument("--scenario", default="short_plain")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cold = _run(tmp, args.asr, args.scenario)
        warm = _run(tmp, args.asr, args.scenario)
    print(json.dumps({"asr": args.asr, "scenario": args.scenario, "load_avg": os.getloadavg()[0],
                      "cold": cold, "resumed": warm}, indent=1))


if __name__ == "__main__":
    main()
