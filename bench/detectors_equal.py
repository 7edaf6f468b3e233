"""Same verdicts, same numbers: `analyze` of this checkout against another, clip by clip.

    .venv/bin/python bench/detectors_equal.py --before /path/to/other/checkout [--clips DIR]

Issue 18 made the detectors faster on the promise that no metric moves. This script keeps
that promise checkable: it builds a fixed set of clips once (the six takes of
bench/detectors.py, Piper / espeak-ng / Kokoro clips from tests/speech_corpus.py, the human
recordings, and some of them with an injected fault: loops, garbage, buzz, noise, clicks),
transcribes each once with Whisper tiny.en (the transcript is then an input, so ASR is not a
variable), and runs `analyze(...)` on every clip in one child process per checkout (each
with its own code on `sys.path`). Every clip's `metrics()`, `details()` and the check
verdicts must be equal as JSON; exit status 1 and the differing clips otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ clips (built once)

def build_clips(out: Path) -> list[str]:
    """Write every clip as <name>.wav plus <name>.json (text, transcript); return the names."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    import numpy as np
    import soundfile as sf
    import speech_corpus as C
    from detectors import takes

    from pytest_luxgate.asr import get_asr

    cache = out / "synth"
    cache.mkdir(parents=True, exist_ok=True)
    clips: list[tuple[str, np.ndarray, int, str]] = [(f"bench_{sid}", a, sr, text) for sid, a, sr, text in takes()]
    specs = [C.ClipSpec("hello", "piper", seed=3), C.ClipSpec("stove", "piper", length_scale=1.2, seed=7, rate=22_050),
             C.ClipSpec("pauses", "piper", noise_scale=1.0, seed=11, rate=24_000, noise_db=-50.0),
             C.ClipSpec("stop", "piper", seed=5, lead_s=0.3, trail_s=0.05),
             C.ClipSpec("numbers", "piper", length_scale=0.9, seed=9, rate=16_000, gain=0.3),
             C.ClipSpec("fox", "espeak", voice="en-gb+m1"), C.ClipSpec("she", "espeak", voice="en-us+f3", speed=200),
             C.ClipSpec("long", "espeak", voice="en-us+m7", speed=150, noise_db=-45.0),
             C.ClipSpec("quick", "kokoro", voice="jf_alpha"), C.ClipSpec("potato", "kokoro", voice="jm_kumo")]
    made = []
    for spec in specs:
        try:
            made.append(C.make_clip(spec, cache))
        except Exception as exc:  # an engine not installed here: the other clips still compare
            print(f"skipped {spec.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    made += [C.human_clip(name) for name in C.HUMAN_TEXTS]
    donor = made[0].audio
    for k, (fault, base) in enumerate([("loop_copy", 0), ("loop_copy", 5), ("trail_garbage", 1),
                                       ("lead_garbage", 2), ("buzz_tail", 0), ("noise_tail", 3),
                                       ("click", 1), ("breath", 2), ("truncation", 4), ("noise_lead", -1)]):
        clip = made[base]
        made.append(C.inject(fault, clip, np.random.default_rng([18, 5, k]),
                             donor=C.resample(donor, made[0].sr, clip.sr)))
    made.append(C.loop_resynth("The quick brown fox jumps over the lazy dog", "over the lazy dog", cache, seed=21))
    clips += [(c.name, c.audio, c.sr, c.text) for c in made]
    asr = get_asr("faster-whisper:tiny.en")
    names = []
    for k, (name, audio, sr, text) in enumerate(clips):
        stem = f"{k:02d}"
        sf.write(out / f"{stem}.wav", np.asarray(audio, dtype=np.float32), sr, subtype="FLOAT")
        tr = asr.transcribe(np.asarray(audio, dtype=np.float32), sr)
        (out / f"{stem}.json").write_text(json.dumps({"name": name, "text": text, "transcript": tr.to_dict()}))
        names.append(stem)
    return names


# ------------------------------------------------------------------ one checkout's results

def dump(clips: Path, code: Path) -> dict[str, Any]:
    """`analyze` on every clip with the code under `code`; what a run would report, as JSON."""
    sys.path.insert(0, str(code))
    import soundfile as sf

    import pytest_luxgate
    from pytest_luxgate.core.types import Transcript, Word
    from pytest_luxgate.judging.analysis import analyze
    from pytest_luxgate.judging.checks import CHECKS, judge
    from pytest_luxgate.judging.thresholds import resolve

    assert Path(pytest_luxgate.__file__).resolve().is_relative_to(code.resolve()), pytest_luxgate.__file__
    out: dict[str, Any] = {}
    for meta_path in sorted(clips.glob("[0-9]*.json")):
        meta = json.loads(meta_path.read_text())
        audio, sr = sf.read(meta_path.with_suffix(".wav"), dtype="float32")
        t = meta["transcript"]
        tr = Transcript(t["text"], tuple(Word(**w) for w in t["words"]), t["model"], t["language"])
        ev = analyze(audio, sr, meta["text"], "x", seams=None, transcriber=lambda *_: tr)
        # every check that needs no listener model and no seam times, at default thresholds
        verdicts = {name: judge(name, ev, resolve()).to_dict() for name, row in CHECKS.items()
                    if row.listener is None and name != "seams"}
        out[meta["name"]] = {"metrics": ev.metrics(), "details": ev.details(), "verdicts": verdicts}
    return out


def _run_child(clips: Path, code: Path, result: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(code)}
    subprocess.run([sys.executable, __file__, "--dump", str(result), "--clips", str(clips), "--code", str(code)],
                   check=True, env=env, cwd=str(code))


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Clip and key of every value that is not equal (JSON text compared, floats included)."""
    diffs = []
    for clip in sorted(before.keys() | after.keys()):
        a, b = before.get(clip), after.get(clip)
        if a is None or b is None:
            diffs.append(f"{clip}: only in {'after' if a is None else 'before'}")
            continue
        for part in ("metrics", "details", "verdicts"):
            for key in sorted(a[part].keys() | b[part].keys()):
                if json.dumps(a[part].get(key), sort_keys=True) != json.dumps(b[part].get(key), sort_keys=True):
                    diffs.append(f"{clip}: {part}.{key}: {a[part].get(key)!r} != {b[part].get(key)!r}")
    return diffs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path, help="the other checkout (its repository root)")
    ap.add_argument("--clips", type=Path, default=Path("/tmp/luxgate_detectors_equal"))
    ap.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.dump:
        a.dump.write_text(json.dumps(dump(a.clips, a.code), sort_keys=True))
        return
    if a.before is None:
        ap.error("--before is required")
    sys.path.insert(0, str(ROOT / "bench"))
    if not list(a.clips.glob("[0-9]*.json")):
        a.clips.mkdir(parents=True, exist_ok=True)
        build_clips(a.clips)
    results = {}
    for label, code in (("before", a.before), ("after", ROOT)):
        _run_child(a.clips, code.resolve(), a.clips / f"result_{label}.json")
        results[label] = json.loads((a.clips / f"result_{label}.json").read_text())
    diffs = differences(results["before"], results["after"])
    n = len(results["after"])
    for d in diffs:
        print(d)
    print(f"{n} clips, {sum(len(r['metrics']) + len(r['details']) + len(r['verdicts']) for r in results['after'].values())}"
          f" values compared (metrics, details, verdicts): {len(diffs)} differ")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
