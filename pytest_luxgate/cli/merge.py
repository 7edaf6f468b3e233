"""`luxgate merge`: its options and exit codes (the merge itself is report/merge.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..report.merge import MergeError, merge
from ..report.summary import run_headline
from ..report.verdict import STATUS_ICON

#: run facts that must match for reports to be one matrix


def add_parser(sub: Any) -> None:
    m = sub.add_parser("merge", help="combine shard reports (--luxgate-shard) into one report and verdict")
    m.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json", help="the shards' report.json files")
    m.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                   help="directory for the merged report.json, SUMMARY.md, report.html and WAVs")
    m.add_argument("--force", action="store_true",
                   help="merge even when the runs differ (version, ASR, seed, parameters, thresholds, shards)")


def run(args: Any) -> int:
    """Exit code: 0 merged verdict PASS, 1 FAIL, 2 refused or bad input."""
    import sys

    try:
        report, warnings, placed = merge(list(args.reports), args.output, force=args.force)
    except MergeError as exc:
        print(f"luxgate merge: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"luxgate merge: error: cannot write {args.output}: {exc}", file=sys.stderr)
        return 2
    for w in warnings:
        print(f"luxgate merge: warning: {w}", file=sys.stderr)
    s = report["summary"]
    verdict = run_headline(report["run"])[1]
    print(f"luxgate merge: {verdict}: {s['cells']} cells from {len(args.reports)} reports "
          f"({', '.join(f'{s[k]} {k}' for k in STATUS_ICON if s.get(k))})")
    for why in report["run"].get("verdict_reasons") or ():
        if why not in (report["run"].get("release_failures") or ()):
            print(f"luxgate merge: {verdict}: {why}")
    for why in report["run"].get("release_failures") or ():
        print(f"luxgate merge: RELEASE GATE FAILED: {why}")
    if placed.failed:  # written elsewhere, or not all of it: the line names where and what
        print(str(placed.line(args.output)).replace("luxgate: ", "luxgate merge: error: ", 1), file=sys.stderr)
        return 2
    print(f"luxgate merge: report {args.output / 'report.json'}")
    for line in placed.html_lines:
        print(line.replace("luxgate: ", "luxgate merge: ", 1))
    return 0 if report["run"]["passed"] else 1
