"""The detectors on held-out human speech: clean passes, injected faults caught.

The calibration corpus (calibrate_detectors.py) is Piper and espeak-ng. This
runs the gate's checks on real recordings (tests/data/human: a CMU ARCTIC
sentence and four LibriVox utterances, rooms 20-28 dB under the voice), each
judged as a cloned take of itself (its own background allowed, as the gate does
for a prompt) and with no prompt, then on N random draws of each fault injector (tests/speech_corpus.py, the calibration's
injectors and ranges), and prints a markdown table: per fault, the check meant
to catch it, how many draws it caught, and for noise faults how many were
drawn below the room's allowance (the prompt's own level: passing them is
intended).

    .venv/bin/python bench/human_speech.py --n 8
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import speech_corpus as C

from pytest_luxgate.judging.analysis import analyze, listen, prompt_background
from pytest_luxgate.judging.checks import judge
from pytest_luxgate.judging.thresholds import resolve

CHECK_OF = {"lead_garbage": "start", "trail_garbage": "tail", "noise_lead": "start", "noise_tail": "tail",
            "breath": "start", "click": "start", "buzz_tail": "tail", "truncation": "tail",
            "clipping": "clipping", "loop_copy": "repeat"}
ALL = ("wer", "repeat", "start", "tail", "clipping", "rate", "pauses")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10, help="random draws per fault")
    ap.add_argument("--asr", default="faster-whisper:base")
    ap.add_argument("--faults-on", default="arctic_a0007,librivox_sense_0870",
                    help="recordings to spoil (comma-separated names from tests/data/human)")
    args = ap.parse_args()
    th = resolve()
    t0 = time.perf_counter()

    def judged(c: C.Clip, room: float | None, names: tuple[str, ...]) -> dict:
        ev = analyze(c.audio, c.sr, c.text, args.asr)
        ev.prompt_background_db = room
        if "quality" in names:
            listen(ev, c.audio, c.sr, ("quality",))
        return {n: judge(n, ev, th) for n in names}

    def first_line(r: object) -> str:
        return f"{'pass' if r.passed else 'FAIL'}: {r.message.splitlines()[0]}"  # type: ignore[attr-defined]

    print("| recording | room (dB re speech) | as a cloned take of itself | with no prompt (absolute limits) |")
    print("|---|---|---|---|")
    for name in C.HUMAN_TEXTS:
        clip = C.human_clip(name)
        room = prompt_background(clip.audio, clip.sr)
        got = judged(clip, room, ALL + ("quality",))
        bare = judged(clip, None, ("start", "tail"))
        failed = [f"{n} {first_line(r)}" for n, r in got.items() if not r.passed]
        bare_failed = [n for n, r in bare.items() if not r.passed]
        print(f"| {name} | {room:.1f} | {'all pass' if not failed else '; '.join(failed)} "
              f"(WER {got['wer'].value:.3f}, DNSMOS {got['quality'].value:.2f}) | "
              f"{'fails ' + ', '.join(bare_failed) if bare_failed else 'passes'} |")

    with tempfile.TemporaryDirectory() as tmp:
        donor = C.make_clip(C.ClipSpec("pauses", "espeak", voice="en-us+m7", speed=170, rate=16_000),
                            Path(tmp)).audio
    print("\n| recording | fault | check | caught | drawn below the room's allowance (pass intended) |")
    print("|---|---|---|---|---|")
    for name in args.faults_on.split(","):
        clip = C.human_clip(name)
        room = prompt_background(clip.audio, clip.sr)
        allowance = max(th["pre_onset_noise_db"], room + th["prompt_noise_margin_db"])
        rng = np.random.default_rng(2026)
        for fault, check in CHECK_OF.items():
            caught, below, missed = 0, 0, []
            for _ in range(args.n):
                spoiled = C.inject(fault, clip, rng, donor if fault in C.DONOR_FAULTS else None)
                rel = spoiled.info.get("rel_db")
                if rel is not None and rel <= allowance:
                    below += 1
                    continue
                if judged(spoiled, room, (check,))[check].passed:
                    missed.append({k: (round(v, 2) if isinstance(v, float) else v) for k, v in spoiled.info.items()})
                else:
                    caught += 1
            note = f" (missed: {missed})" if missed else ""
            print(f"| {name} | {fault} | {check} | {caught}/{args.n - below}{note} | {below} |")
    print(f"\n{time.perf_counter() - t0:.0f} s, ASR {args.asr}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
