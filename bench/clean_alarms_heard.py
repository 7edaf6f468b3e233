"""Clean takes that a glued-noise draw fails at the start or tail: what does the gate's own
recogniser (Whisper base) hear in them? A take that says a word the text lacks at the edge it
fails is a bad take, not a false alarm (docs/CALIBRATION.md "The clean alarms, heard by the
gate's recogniser").

    .venv/bin/python bench/calibrate_glued_noise.py --set kokoro --n 30 --seed 113 --cache C --dump D.json
    .venv/bin/python bench/clean_alarms_heard.py D.json --set kokoro --n 30 --seed 113 --cache C

The draw is made again from --set/--n/--seed (its synthesis cached under --cache).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import calibrate_glued_noise as G  # noqa: E402  (puts tests/ on sys.path)

from pytest_luxgate.asr.registry import get_asr  # noqa: E402
from pytest_luxgate.metrics.text import word_error  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump", type=Path, help="rows written by calibrate_glued_noise.py --dump")
    ap.add_argument("--set", choices=tuple(G.SETS), required=True)
    ap.add_argument("--n", type=int, default=0)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/luxgate-calibration"))
    ap.add_argument("--asr", default="faster-whisper:base")
    args = ap.parse_args()
    failing = [r for r in json.loads(args.dump.read_text()) if r["fault"] == "clean"
               and (r["start_fail"] or r["tail_fail"])]
    if not failing:
        print("no clean take fails start or tail")
        return
    n = args.n or 2 * len(G.SETS[args.set][0])
    clips = {c.name: c for c in G.clean_clips(args.set, n, args.cache, args.seed)}
    asr = get_asr(args.asr)
    for r in failing:
        clip = clips[r["clip"]]
        heard = asr.transcribe(clip.audio, clip.sr).text
        print(f"{clip.name} | fails {r['start_why'] + r['tail_why']} | heard {heard!r} | "
              f"WER {word_error(clip.text, heard).wer:.3f}")


if __name__ == "__main__":
    main()
