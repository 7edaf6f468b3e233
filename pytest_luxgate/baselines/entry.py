"""What a baseline file holds for one cell, built from the cell's report record."""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .spec import FORMAT, METRICS, BaselineOptions, platform_tag

if TYPE_CHECKING:

    pass



def entry_from_record(record: Mapping[str, Any], options: BaselineOptions, *,
                      scenario: Mapping[str, Any] | None = None,
                      run: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a baseline file holds for one cell, built from the cell's report record.

    ``conditions`` are what the take was made and heard with: a baseline only
    compares with a take made the same way. They hold what the scenario file
    asks for (its text, ``[params]``, ``[chunking]``) and the run's options
    (ASR, seed, ``--luxgate-params``, chunking options), never the stack's own
    defaults or versions: a stack that changes those is exactly what a
    baseline measures. ``recorded_with`` is information, never compared.
    `scenario`/`run`: {"params": .., "chunking": ..} overrides of each source.
    """
    versions = record.get("versions", {})
    metrics: dict[str, Any] = {}
    for name, spec in METRICS.items():
        value = record.get("metrics", {}).get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            value = None
        elif spec.decimals == 0:
            value = round(value)
        else:
            value = round(float(value), spec.decimals)
        metrics[name] = value
    entry: dict[str, Any] = {
        "luxgate_baseline": FORMAT,
        "cell": {"stack": record["stack"], "prompt": record["prompt"], "scenario": record["scenario"],
                 "platform": options.platform},
        "conditions": {"text": record.get("text"),
                       "scenario_params": _plain(dict((scenario or {}).get("params", {}))),
                       "scenario_chunking": _plain(dict((scenario or {}).get("chunking", {}))),
                       "asr": versions.get("asr"), "seed": versions.get("seed"),
                       # several takes per cell: the metrics are their medians (one take: no key)
                       **({"takes": versions["takes"]} if versions.get("takes", 1) > 1 else {}),
                       "run_params": _plain(dict((run or {}).get("params", {}))),
                       "run_chunking": _plain(dict((run or {}).get("chunking", {})))},
        "metrics": metrics,
    }
    if options.transcripts:
        entry["transcript"] = record.get("transcript")
    entry["recorded_with"] = {"stack": _plain(versions.get("stack", {})), "luxgate": versions.get("luxgate"),
                              "python": versions.get("python"), "platform": platform_tag()}
    return entry


def _plain(value: Any) -> Any:
    """JSON-normalised copy (numpy scalars, tuples), so a reread file compares equal."""
    return json.loads(json.dumps(value, default=str))


