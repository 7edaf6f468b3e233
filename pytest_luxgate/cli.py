"""`luxgate` console script: the gate's detectors on single files, outside pytest.

    luxgate check take.wav --text "Quick quality check for LuxTTS." [--json]
    luxgate check joined.wav --text-file long.txt --seams 1.92,4.40

Exit codes: 0 all checks passed, 1 a check failed, 2 bad input or usage.
The --json shape is a stable interface (see README): {"passed", "checks":
{name: {"passed", "value", "threshold", "message"}}, "metrics", "transcript"}.
The "seams" check is in "checks" when it runs: with --seams, or when named in --checks;
"voice" with --prompt PROMPT.wav; "quality" and "pauses" when named in --checks. A
listener check that cannot run here (extra not installed) is under "skipped" with the reason.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

EXIT_PASS, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="luxgate", description="LuxTTS quality gate tools")
    sub = p.add_subparsers(dest="command", required=True)
    from .tune import add_parser as add_tune_parser

    add_tune_parser(sub)  # `luxgate tune` (issue 11): its options and loop live in tune.py
    from .merge import add_parser as add_merge_parser

    add_merge_parser(sub)  # `luxgate merge` (issue 6): shard reports -> one report (merge.py)
    c = sub.add_parser("check", help="run the gate's checks on one WAV file")
    c.add_argument("wav", type=Path, help="the take to judge (any libsndfile format)")
    text = c.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the text the take should say")
    text.add_argument("--text-file", type=Path, help="file holding the text")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_argument("--asr", default=None, help="ASR model spec (default: as the plugin)")
    c.add_argument("--threshold", action="append", default=[], metavar="KEY=VALUE",
                   help="override a threshold (repeatable)")
    c.add_argument("--checks", default="", help="comma-separated subset of checks (default: all; "
                   "'seams' only with --seams or when named here)")
    c.add_argument("--prompt", type=Path, default=None, metavar="PROMPT.wav",
                   help="the voice prompt the take should sound like: adds the voice check (speaker "
                   "similarity; needs the 'listen' extra)")
    c.add_argument("--seams", default=None, metavar="T1,T2,...",
                   help="chunk join times in seconds: the seams check measures a click, loudness and "
                   "timbre jump at each; without it, --checks seams scans the whole file for clicks")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check":
        return _check(args)
    if args.command == "merge":
        from .merge import run as run_merge

        return run_merge(args)
    if args.command == "tune":
        from .tune import run as run_tune

        return run_tune(args)
    return EXIT_BAD_INPUT  # pragma: no cover - argparse enforces the command


def _fail_input(message: str, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"passed": False, "error": message}))
    print(f"luxgate: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _check(args: argparse.Namespace) -> int:
    from .analysis import analyze, listen, prompt_background
    from .audio import AudioError, read_wav
    from .checks import CHECK_NAMES, CheckNotApplicable, judge
    from .config import DEFAULT_ASR
    from .thresholds import parse_assignments, resolve, validate_overrides

    try:
        text = args.text if args.text is not None else args.text_file.read_text("utf-8")
    except OSError as exc:
        return _fail_input(f"--text-file {args.text_file}: {exc.strerror}", args.json)
    if not text or not text.strip():
        return _fail_input("--text is empty: give the words the take should say", args.json)
    try:
        raw = parse_assignments(args.threshold, "--threshold")
        overrides = validate_overrides({k: float(v) for k, v in raw.items()})
    except ValueError as exc:
        return _fail_input(str(exc), args.json)
    try:
        seams = _seam_times(args.seams)
    except ValueError as exc:
        return _fail_input(str(exc), args.json)
    # seams, voice, quality and pauses join the default set only when asked for
    # (--seams, --prompt, --checks), so the default JSON keeps its six checks
    default = [n for n in CHECK_NAMES if n not in ("seams", "voice", "quality", "pauses")
               or (n == "seams" and seams is not None) or (n == "voice" and args.prompt is not None)]
    names = [n.strip() for n in args.checks.split(",") if n.strip()] or default
    unknown = [n for n in names if n not in CHECK_NAMES]
    if unknown:
        return _fail_input(f"unknown check(s) {unknown}; known: {', '.join(CHECK_NAMES)}", args.json)
    if "voice" in names and args.prompt is None:
        return _fail_input("the voice check compares the take with its voice prompt: give --prompt PROMPT.wav",
                           args.json)
    prompt, prompt_bg = None, None
    if args.prompt is not None:
        try:
            prompt = read_wav(args.prompt)
            prompt_bg = prompt_background(*prompt)  # a cloned take may keep its prompt's room
        except (AudioError, ValueError) as exc:
            return _fail_input(f"--prompt: {exc}", args.json)
    try:
        audio, rate = read_wav(args.wav)
        evidence = analyze(audio, rate, text, args.asr or DEFAULT_ASR, seams=seams)
    except (AudioError, ValueError) as exc:
        return _fail_input(str(exc), args.json)
    evidence.prompt_background_db = prompt_bg
    listen(evidence, audio, rate, names, prompt=prompt)
    thresholds = resolve(overrides)
    checks, skipped = {}, {}
    for n in names:
        try:
            checks[n] = judge(n, evidence, thresholds)
        except CheckNotApplicable as exc:  # a listener that is not installed: said, not failed
            skipped[n] = str(exc)
    passed = all(c.passed for c in checks.values())
    out: dict[str, Any] = {
        "passed": passed,
        "checks": {n: {"passed": c.passed, "value": c.value, "threshold": c.threshold,
                       "message": c.message} for n, c in checks.items()},
        "metrics": evidence.metrics(),
        "transcript": evidence.transcript.text,
    }
    if skipped:
        out["skipped"] = skipped
    if args.json:
        print(json.dumps(out, default=float))
    else:
        print(f"{args.wav}: {'PASS' if passed else 'FAIL'}")
        print(f"  heard: {evidence.transcript.text}")
        for n, c in checks.items():
            print(f"  {'ok  ' if c.passed else 'FAIL'} {n}: {c.message}")
        for n, why in skipped.items():
            print(f"  skip {n}: {why}")
    return EXIT_PASS if passed else EXIT_FAIL


def _seam_times(value: str | None) -> list[float] | None:
    if value is None:
        return None
    try:
        times = [float(v) for v in value.replace(" ", "").split(",") if v]
    except ValueError:
        raise ValueError(f"--seams: expected seconds like 1.92,4.40, got {value!r}") from None
    if not times or any(t < 0 or t != t for t in times):
        raise ValueError(f"--seams: expected seconds >= 0 like 1.92,4.40, got {value!r}")
    return times


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
