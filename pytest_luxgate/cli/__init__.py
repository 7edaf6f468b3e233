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
from pathlib import Path
from typing import Sequence

from .check import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS, _check  # noqa: F401  the exit codes are public


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="luxgate", description="LuxTTS quality gate tools")
    sub = p.add_subparsers(dest="command", required=True)
    from .tune.command import add_parser as add_tune_parser

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
        from .tune.command import run as run_tune

        return run_tune(args)
    return EXIT_BAD_INPUT  # pragma: no cover - argparse enforces the command


