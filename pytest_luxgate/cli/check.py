"""`luxgate check`: the gate's checks on files outside pytest, many takes in one process.

    luxgate check take.wav --text "Quick quality check for LuxTTS." [--json]
    luxgate check a.wav b.wav c.wav                 # each with its text beside it: a.txt, b.txt, c.txt
    luxgate check --manifest takes.jsonl            # {"wav": .., "text": .., "seams": [..], "prompt": ..}

By default every check the gate runs (judging/checks.py CHECKS) judges every
take, so PASS means what it means in the gate. A check that cannot run on a
take (voice without --prompt, a listener not installed) is said, and the take
is INCOMPLETE, not PASS, unless the user left that check out with --skip or
--checks. Every model (Whisper, the VAD, the listeners) loads once per process,
on the first file that needs it, so a folder of takes costs one load. One file
keeps the one-object JSON of old; several print one JSON object per line, each
with its "wav". A take that cannot be judged (missing, corrupt, too long, no
text, a bad manifest line) is said for that take and the others are still
judged. Exit: 0 every check of every take ran and passed, 1 a check failed or
did not run, 2 bad input (an option, or any take that could not be judged).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .check_inputs import (
    DEFAULT_MAX_SECONDS,
    InputError,
    Item,
    check_duration,
    items,
    max_seconds,
    seam_times,
)

EXIT_PASS, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2
#: why the voice check cannot run on a take without its prompt
NO_PROMPT = ("it compares the take with its voice prompt: give --prompt PROMPT.wav, "
             "or --skip voice for a take that clones no voice")


def add_parser(sub: Any) -> None:
    c = sub.add_parser(
        "check", help="run the gate's checks on WAV files (models load once for all)",
        description="Judge takes with every check the gate runs (fail closed: a check that cannot run on "
        "a take is listed as not run and the take is INCOMPLETE, never PASS, unless --skip or --checks "
        "leaves it out). Exit 0: every check of every take ran and passed; 1: a check failed or did not "
        "run; 2: bad input (an option, or a take that could not be judged; the others are still judged).")
    c.add_argument("wav", type=Path, nargs="*",
                   help="takes to judge (any libsndfile format); without --text each needs its text in a "
                   ".txt file of the same name beside it")
    text = c.add_mutually_exclusive_group()
    text.add_argument("--text", help="the text every take should say")
    text.add_argument("--text-file", type=Path, help="file holding that text (UTF-8)")
    c.add_argument("--manifest", type=Path, default=None, metavar="FILE",
                   help="takes to judge, one per line: JSON objects {\"wav\", \"text\" or \"text_file\", "
                   "optional \"seams\" [s, ...] and \"prompt\"} (.jsonl), or WAV<TAB>TEXT; paths relative "
                   "to the manifest")
    c.add_argument("--json", action="store_true",
                   help="print one JSON object (one per line for several takes)")
    c.add_argument("--asr", default=None, help="ASR model spec (default: as the plugin)")
    c.add_argument("--threshold", action="append", default=[], metavar="KEY=VALUE",
                   help="override a threshold (repeatable)")
    c.add_argument("--checks", default="", metavar="NAME,...",
                   help="judge only these checks (default: every check the gate runs; those left out are "
                   "listed as excluded)")
    c.add_argument("--skip", default="", metavar="NAME,...",
                   help="leave these checks out, e.g. --skip voice for a take that clones no voice (a check "
                   "of the set that cannot run and is not skipped makes the take INCOMPLETE, exit 1)")
    c.add_argument("--prompt", type=Path, default=None, metavar="PROMPT.wav",
                   help="the voice prompt the takes should sound like, for the voice check (speaker "
                   "similarity; needs the 'listen' extra); without it voice does not run")
    c.add_argument("--seams", default=None, metavar="T1,T2,...",
                   help="chunk join times in seconds (one take): the seams check measures a click, loudness "
                   "and timbre jump at each; without them it scans the whole file for clicks")
    c.add_argument("--max-duration", default=str(DEFAULT_MAX_SECONDS), metavar="SECONDS",
                   help="refuse a take or prompt longer than this, from its header, before reading it "
                   f"(default {DEFAULT_MAX_SECONDS:g}: memory and time grow with the length)")


def run(args: argparse.Namespace) -> int:
    from ..judging.thresholds import parse_overrides

    try:
        overrides = parse_overrides(args.threshold, "--threshold")
        judge = _Judge(args, overrides)
        found = items(args, seam_times(args.seams))
    except (InputError, ValueError) as exc:
        return _fail_input(str(exc), args.json)
    single = len(found) == 1 and args.manifest is None
    codes = []
    for item in found:
        try:
            out = judge(item)
        except (InputError, ValueError) as exc:
            message = str(exc)
            if not (single or item.error or message.startswith(str(item.wav))):
                message = f"{item.wav}: {message}"  # which take, when its message does not say
            codes.append(_fail_input(message, args.json, None if single else item.wav))
            continue
        except Exception as exc:  # noqa: BLE001 - one take's crash must not lose the others' verdicts
            codes.append(_fail_input(f"{item.wav}: could not be judged: {type(exc).__name__}: {exc}",
                                     args.json, None if single else item.wav))
            continue
        _print(out, item.wav, args.json, single)
        codes.append(EXIT_PASS if out["passed"] else EXIT_FAIL)
    if not single and not args.json:
        bad, incomplete = codes.count(EXIT_BAD_INPUT), judge.incomplete
        print(f"luxgate check: {codes.count(EXIT_PASS)} passed, {codes.count(EXIT_FAIL) - incomplete} failed"
              + (f", {incomplete} incomplete (checks not run)" if incomplete else "")
              + (f", {bad} not judged (bad input)" if bad else "") + f" of {len(found)} takes")
    return max(codes)


class _Judge:
    """Judges one item at a time with the options of the run; models stay loaded between items."""

    def __init__(self, args: argparse.Namespace, overrides: dict[str, float]) -> None:
        from ..asr.base import ASRError
        from ..asr.registry import check_spec
        from ..core.defaults import DEFAULT_ASR
        from ..judging.checks import CHECK_NAMES
        from ..judging.thresholds import resolve

        self.asr = args.asr or DEFAULT_ASR
        try:
            check_spec(self.asr)  # a registry lookup and a look for the files: no model loads here
        except ASRError as exc:
            raise InputError(f"--asr: {exc}") from None
        self.thresholds = resolve(overrides)
        self.asked = _names(args.checks, "--checks")
        self.skip = _names(args.skip, "--skip")
        if not [n for n in (self.asked or CHECK_NAMES) if n not in self.skip]:  # nothing judged never passes
            raise InputError(f"--checks {args.checks!r} and --skip {args.skip!r} leave no check to run")
        self.max_seconds = max_seconds(args.max_duration)
        self.incomplete = 0  # takes none of whose checks failed but some did not run
        self._prompts: dict[Path, tuple[Any, float | None]] = {}

    def plan(self, item: Item) -> tuple[list[str], dict[str, str], list[str]]:
        """(checks to run, checks of the set that cannot run here -> why, checks the user left out)."""
        from ..judging.checks import CHECKS

        chosen = [n for n in (self.asked or CHECKS) if n not in self.skip]  # default: the gate's set
        excluded = [n for n in CHECKS if n not in chosen]
        run, not_run = [], {}
        for n in chosen:
            # a seams check without times scans the whole file; voice has nothing to compare
            if CHECKS[n].needs == "prompt" and item.prompt is None:
                if n in self.asked:
                    raise InputError(f"--checks {n}: the {n} check compares the take with its voice prompt: "
                                     "give --prompt PROMPT.wav")
                not_run[n] = NO_PROMPT
            else:
                run.append(n)
        return run, not_run, excluded

    def prompt(self, path: Path) -> tuple[Any, float | None]:
        """The prompt's audio and its room (a cloned take may keep it), read once per prompt file."""
        from ..core.audio import AudioError, read_wav
        from ..judging.analysis import prompt_background

        if path not in self._prompts:
            try:
                check_duration(path, self.max_seconds)
                audio = read_wav(path)
                self._prompts[path] = (audio, prompt_background(*audio))
            except (AudioError, ValueError) as exc:
                raise InputError(f"--prompt: {exc}") from None
        return self._prompts[path]

    def __call__(self, item: Item) -> dict[str, Any]:
        from ..core.audio import AudioError, read_wav
        from ..judging.analysis import analyze, listen
        from ..judging.checks import CheckNotApplicable, judge

        if item.error:
            raise InputError(item.error)
        names, not_run, excluded = self.plan(item)
        prompt, prompt_bg = self.prompt(item.prompt) if item.prompt is not None else (None, None)
        check_duration(item.wav, self.max_seconds)
        try:
            audio, rate = read_wav(item.wav)
            evidence = analyze(audio, rate, item.text or "", self.asr, seams=item.seams)
        except AudioError as exc:
            raise InputError(str(exc)) from None
        evidence.prompt_background_db = prompt_bg
        listen(evidence, audio, rate, names, prompt=prompt)
        checks = {}
        for n in names:
            try:
                checks[n] = judge(n, evidence, self.thresholds)
            except CheckNotApplicable as exc:  # a listener not installed, too little speech: not run
                not_run[n] = str(exc)
        failed = not all(c.passed for c in checks.values())
        self.incomplete += bool(not_run) and not failed
        out: dict[str, Any] = {
            # fail closed: a take passes only when every check of the set ran and passed
            "passed": not failed and not not_run,
            "checks": {n: {"passed": c.passed, "value": c.value, "threshold": c.threshold,
                           "message": c.message} for n, c in checks.items()},
            "metrics": evidence.metrics(),
            "transcript": evidence.transcript.text,
        }
        if not_run:
            out["skipped"] = not_run
        if excluded:
            out["excluded"] = excluded
        return out


def _names(value: str, option: str) -> list[str]:
    from ..judging.checks import CHECK_NAMES

    names = list(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    unknown = [n for n in names if n not in CHECK_NAMES]
    if unknown:
        raise InputError(f"{option}: unknown check(s) {', '.join(map(repr, unknown))}; known: "
                         f"{', '.join(CHECK_NAMES)}")
    return names


def _print(out: dict[str, Any], wav: Path, as_json: bool, single: bool) -> None:
    if as_json:
        print(json.dumps(out if single else {"wav": str(wav), **out}, default=float))
        return
    failed = not all(c["passed"] for c in out["checks"].values())
    not_run = out.get("skipped", {})
    verdict = "PASS" if out["passed"] else "FAIL" if failed else "INCOMPLETE"
    print(f"{wav}: {verdict}" + (f" ({len(not_run)} check(s) not run: {', '.join(not_run)})" if not_run else ""))
    print(f"  heard: {out['transcript']}")
    for n, c in out["checks"].items():
        print(f"  {'ok  ' if c['passed'] else 'FAIL'} {n}: {c['message']}")
    for n, why in not_run.items():
        print(f"  not run {n}: {why}")
    if out.get("excluded"):
        print(f"  excluded (--checks/--skip): {', '.join(out['excluded'])}")


def _fail_input(message: str, as_json: bool, wav: Path | None = None) -> int:
    if as_json:
        print(json.dumps({"passed": False, "error": message} if wav is None
                         else {"wav": str(wav), "passed": False, "error": message}))
    print(f"luxgate: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
