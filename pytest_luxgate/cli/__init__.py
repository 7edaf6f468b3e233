"""`luxgate` console script: the gate's detectors on files, outside pytest.

    luxgate check take.wav --text "Quick quality check for LuxTTS." [--json]
    luxgate check joined.wav --text-file long.txt --seams 1.92,4.40
    luxgate check takes/*.wav                      # texts beside them (takes/a.txt ...), models loaded once
    luxgate check --manifest takes.jsonl           # {"wav", "text", "seams", "prompt"} per line
    luxgate merge shard-*/report.json -o merged/
    luxgate tune --stack piper -o luxgate-tune

`luxgate check` exit codes: 0 every check ran and passed, 1 a check failed or
could not run, 2 bad input or usage. The --json shape is a stable interface
(see README): {"passed", "checks": {name: {"passed", "value", "threshold",
"message"}}, "metrics", "transcript"}, plus "skipped" {name: why} for checks
that could not run (then "passed" is false) and "excluded" [name, ...] for the
gate's checks left out with --checks/--skip. By default every check the gate
runs judges the take: "seams" at the --seams times, else as a whole-file click
scan; "voice" needs --prompt PROMPT.wav (or --skip voice for a take that
clones no voice).
"""
from __future__ import annotations

import argparse
from typing import Sequence

from ..core.threads import pin_blas_threads
from .check import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS  # noqa: F401  the exit codes are public
from .check import add_parser as add_check_parser
from .check import run as run_check


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="luxgate", description="LuxTTS quality gate tools")
    sub = p.add_subparsers(dest="command", required=True)
    from .tune.command import add_parser as add_tune_parser

    add_tune_parser(sub)  # `luxgate tune` (issue 11): its options and loop live in tune.py
    from .merge import add_parser as add_merge_parser

    add_merge_parser(sub)  # `luxgate merge` (issue 6): shard reports -> one report (merge.py)
    add_check_parser(sub)  # `luxgate check`: the gate's checks on files (check.py)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    pin_blas_threads()  # the gate's numbers: a kept WAV checked here measures as in the gate
    if args.command == "check":
        return run_check(args)
    if args.command == "merge":
        from .merge import run as run_merge

        return run_merge(args)
    if args.command == "tune":
        from .tune.command import run as run_tune

        return run_tune(args)
    return EXIT_BAD_INPUT  # pragma: no cover - argparse enforces the command


