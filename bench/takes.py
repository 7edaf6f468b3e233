"""What N takes per cell cost against N single takes (--luxgate-takes), in one process.

    .venv/bin/python bench/takes.py [--takes 3] [--rounds 3] [--asr faster-whisper:base]

The gate's own CellRunner (Piper, the five standard scenarios, no cache, no
listener models) runs every cell once to load the models, then, per round,
every cell with takes=1 and with takes=N in fresh runners. The figure is
cost(N takes) / (N x cost(1 take)), medians over rounds: 1.0 means a take
costs the same alone or in a group (models are loaded once either way).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_luxgate.core.defaults import DEFAULT_ASR, DEFAULT_SEED  # noqa: E402
from pytest_luxgate.matrix.cells import OWN_VOICE, Cell  # noqa: E402
from pytest_luxgate.matrix.scenarios import load_dirs, standard_dir  # noqa: E402
from pytest_luxgate.run.runner import CellRunner  # noqa: E402


def _runner(scenarios: dict, takes: int, asr: str) -> CellRunner:
    return CellRunner(scenarios=scenarios, prompts={}, asr_spec=asr, seed=DEFAULT_SEED, params={},
                      thresholds={}, work_dir=None, takes=takes)


def _time(scenarios: dict, takes: int, asr: str) -> float:
    runner = _runner(scenarios, takes, asr)
    t0 = time.perf_counter()
    for sid in scenarios:
        runner.outcome(Cell("piper", OWN_VOICE, sid))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--takes", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--asr", default=DEFAULT_ASR)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    scenarios = {s.id: s for s in load_dirs([standard_dir()])}
    _time(scenarios, 1, args.asr)  # warm-up: Piper, Whisper and the VAD load here, once
    one, many = [], []
    for _ in range(args.rounds):
        one.append(_time(scenarios, 1, args.asr))
        many.append(_time(scenarios, args.takes, args.asr))
    t1, tn = statistics.median(one), statistics.median(many)
    ratio = tn / (args.takes * t1)
    print(f"| cells | takes | 1 take (s) | {args.takes} takes (s) | ratio to {args.takes} x 1 take |")
    print("|---|---|---|---|---|")
    print(f"| {len(scenarios)} | {args.takes} | {t1:.2f} | {tn:.2f} | {ratio:.2f} |")
    print(f"({platform.machine()}, {os.cpu_count()} cores, ASR {args.asr}, median of {args.rounds} rounds)")
    if args.json:
        args.json.write_text(json.dumps({"one": one, "many": many, "takes": args.takes, "ratio": ratio}))


if __name__ == "__main__":
    main()
