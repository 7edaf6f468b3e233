"""The detectors on held-out human speech: clean passes, injected faults caught.

The calibration corpus (calibrate_detectors.py) is Piper and espeak-ng. This
runs the gate's checks on a real recording (tests/data/human/arctic_a0007.wav,
CMU ARCTIC, a room 28 dB under the voice) judged as a cloned take of itself
(its own background allowed, as the gate does for a prompt), then on N random
draws of each fault injector (tests/speech_corpus.py, the calibration's
injectors and ranges), and prints a markdown table: per fault, the check meant
to catch it, how many draws it caught, and for noise faults how many were
drawn below the room's allowance (the prompt's own level: passing them is
intended).

    .venv/bin/python bench/human_speech.py --n 10
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import speech_corpus as C

from pytest_luxgate.analysis import analyze, listen, prompt_background
from pytest_luxgate.checks import judge
from pytest_luxgate.listeners.vad import speech_segments
from pytest_luxgate.thresholds import resolve

TEXT = "And you always want to see it in the superlative degree."
CHECK_OF = {"lead_garbage": "start", "trail_garbage": "tail", "noise_lead": "start", "noise_tail": "tail",
            "breath": "start", "click": "start", "buzz_tail": "tail", "truncation": "tail",
            "clipping": "clipping", "loop_copy": "repeat"}
ALL = ("wer", "repeat", "start", "tail", "clipping", "rate", "pauses")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10, help="random draws per fault")
    ap.add_argument("--asr", default="faster-whisper:base")
    args = ap.parse_args()
    audio, sr = sf.read(ROOT / "tests" / "data" / "human" / "arctic_a0007.wav", dtype="float32")
    seg = speech_segments(audio, sr)
    clip = C.Clip("arctic_a0007", audio, sr, TEXT, seg[0].start, seg[-1].end)
    room = prompt_background(audio, sr)
    th = resolve()
    allowance = max(th["pre_onset_noise_db"], room + th["prompt_noise_margin_db"])
    with tempfile.TemporaryDirectory() as tmp:
        donor = C.make_clip(C.ClipSpec("pauses", "espeak", voice="en-us+m7", speed=170, rate=sr), Path(tmp)).audio
    t0 = time.perf_counter()

    def judged(c: C.Clip, names: tuple[str, ...], with_room: bool = True) -> dict:
        ev = analyze(c.audio, c.sr, TEXT, args.asr)
        ev.prompt_background_db = room if with_room else None
        if "quality" in names:
            listen(ev, c.audio, c.sr, ("quality",))
        return {n: judge(n, ev, th) for n in names}

    clean = judged(clip, ALL + ("quality",))
    bare = judged(clip, ("start", "tail"), with_room=False)
    print(f"room (prompt_background_db) {room:.1f} dB re speech; noise limit raised to {allowance:.1f} dB\n")
    print("| clean human speech | verdict |\n|---|---|")
    for n, r in clean.items():
        print(f"| {n} | {'pass' if r.passed else 'FAIL'}: {r.message.splitlines()[0]} |")
    for n, r in bare.items():
        print(f"| {n}, judged with no prompt (absolute limits) | {'pass' if r.passed else 'FAIL'}: "
              f"{r.message.splitlines()[0]} |")
    print("\n| fault | check | caught | drawn below the room's allowance (pass intended) |\n|---|---|---|---|")
    rng = np.random.default_rng(2026)
    for fault, check in CHECK_OF.items():
        caught, below, missed = 0, 0, []
        for _ in range(args.n):
            spoiled = C.inject(fault, clip, rng, donor if fault in C.DONOR_FAULTS else None)
            rel = spoiled.info.get("rel_db")
            if rel is not None and rel <= allowance:
                below += 1
                continue
            r = judged(spoiled, (check,))[check]
            if r.passed:
                missed.append({k: (round(v, 2) if isinstance(v, float) else v) for k, v in spoiled.info.items()})
            else:
                caught += 1
        judged_n = args.n - below
        note = f" (missed: {missed})" if missed else ""
        print(f"| {fault} | {check} | {caught}/{judged_n}{note} | {below} |")
    print(f"\n{time.perf_counter() - t0:.0f} s, ASR {args.asr}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
