"""`luxgate check`: the gate's checks on one file, outside pytest."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_PASS, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2




def _fail_input(message: str, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"passed": False, "error": message}))
    print(f"luxgate: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _check(args: argparse.Namespace) -> int:
    from ..core.audio import AudioError, read_wav
    from ..core.defaults import DEFAULT_ASR
    from ..judging.analysis import analyze, listen, prompt_background
    from ..judging.checks import CHECK_NAMES, CHECKS, CheckNotApplicable, judge
    from ..judging.thresholds import parse_assignments, resolve, validate_overrides

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
    # a check whose row needs seams or a voice prompt joins the default set when they are given
    # (--seams, --prompt); one that is not `by_default` only when named in --checks
    given = {"seams": seams is not None, "prompt": args.prompt is not None}
    default = [n for n, row in CHECKS.items() if row.by_default and (row.needs is None or given[row.needs])]
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

