"""`luxgate check` on many files in one process: the cost per file after the first (issue 18, goal 4).

Speaks N different sentences with Piper (a few seconds each), writes them as
16-bit WAVs with a manifest, and runs `luxgate check --manifest` as a fresh
process on the first file alone and on all N, with the gate's default checks
(less `voice`, which needs the voice prompt) and ASR. The per-file cost after
the first is (T_N - T_1) / (N - 1): the models load once, in T_1.

    PYTHONPATH=. .venv/bin/python bench/check_many.py [--n 10] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "The museum opens at nine in the morning.", "Please close the window before you leave.",
    "Our train was late, so we walked along the river.", "She bought fresh bread and a bag of apples.",
    "The meeting moved to Thursday afternoon.", "Turn left at the second traffic light.",
    "He plays the cello every Sunday evening.", "The garden needs water after a hot day.",
    "We counted forty two birds on the lake.", "Remember to charge the camera tonight.",
    "The library keeps old maps in the basement.", "A light rain fell over the quiet town.",
]


def run_check(manifest: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest_luxgate.cli", "check", "--manifest", str(manifest), "--json",
                    "--skip", "voice"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    from pytest_luxgate.stacks.piper import PiperStack

    stack = PiperStack()
    stack.load()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        seconds = 0.0
        rows = []
        for i, text in enumerate(TEXTS[: a.n]):
            out = stack.synthesize(text, None, stack.default_params(), 1234 + i)
            wav = d / f"take{i}.wav"
            sf.write(wav, out.audio, out.sample_rate, subtype="PCM_16")
            seconds += len(out.audio) / out.sample_rate
            rows.append(json.dumps({"wav": wav.name, "text": text}))
        (d / "one.jsonl").write_text(rows[0] + "\n")
        (d / "all.jsonl").write_text("\n".join(rows) + "\n")
        one, many = [], []
        for _ in range(a.rounds):
            one.append(run_check(d / "one.jsonl"))
            many.append(run_check(d / "all.jsonl"))
    t1, tn = min(one), min(many)
    per_file = (tn - t1) / (a.n - 1)
    result = {"files": a.n, "audio_s": round(seconds, 1), "first_file_process_s": round(t1, 2),
              "all_files_process_s": round(tn, 2), "per_file_after_first_s": round(per_file, 2),
              "per_file_goal_s": 2.0}
    print(json.dumps(result, indent=1))
    if a.json:
        a.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
