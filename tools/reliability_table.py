"""Rewrite README's reliability figures and table from the ledger the reliability tests wrote.

    LUXGATE_RELIABILITY_LEDGER=/tmp/figures.json .venv/bin/python -m pytest \
        tests/integration/test_fail_closed_*.py tests/integration/test_reliability.py   # figures test last
    python3 tools/reliability_table.py /tmp/figures.json          # rewrites README.md in place

The figures line ("**N cases, ...**") and the table under it are replaced; the
rows come grouped as the tests registered them (tests/reliability_ledger.py).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
FIGURES = re.compile(r"^\*\*\d+ cases, \d+ inputs tried, \d+ handled, \d+ results lost\.\*\*$")


# the table's first groups, in the order readers know; groups added later follow as first seen
GROUP_ORDER = ("prompt wav", "prompt transcript", "scenario file", "options", "output", "stack", "fault", "safety")


def ordered(rows: list[dict]) -> list[dict]:
    seen = list(dict.fromkeys(r["group"] for r in rows))
    rank = {g: i for i, g in enumerate([*GROUP_ORDER, *[g for g in seen if g not in GROUP_ORDER]])}
    # stable: within a group the original table's rows first, then each module's in its order
    return sorted(rows, key=lambda r: (rank[r["group"]], r.get("module", "") != "test_reliability"))


def render(figures: dict) -> list[str]:
    head = (f"**{figures['cases']} cases, {figures['inputs_tried']} inputs tried, {figures['handled']} handled, "
            f"{figures['results_lost']} results lost.**")
    lines = [head, "", "| | input | what it gets |", "|---|---|---|"]
    last = None
    for row in ordered(figures["rows"]):
        group = row["group"] if row["group"] != last else ""
        last = row["group"]
        lines.append(f"| {group} | {row['input']} | {row['gets']} |")
    return lines


def rewrite(text: str, figures: dict) -> str:
    lines = text.split("\n")
    start = next(i for i, ln in enumerate(lines) if FIGURES.match(ln))
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith("|")):
        if not lines[end].strip() and end > start + 1 and lines[end - 1].startswith("|"):
            break
        end += 1
    return "\n".join(lines[:start] + render(figures) + lines[end:])


def main() -> None:
    figures = json.loads(Path(sys.argv[1]).read_text())
    README.write_text(rewrite(README.read_text(), figures))
    print(f"README.md: {figures['cases']} cases, {figures['inputs_tried']} inputs")


if __name__ == "__main__":
    main()
