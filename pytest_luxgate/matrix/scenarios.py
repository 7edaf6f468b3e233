"""Scenarios are data: one TOML file each, loaded with tomllib, never executed.

A scenario file holds ``id``, ``text`` and optionally ``[thresholds]`` (per-check
overrides, validated against the known keys), ``[params]`` (generation
parameter overrides, passed to the stack) and ``[chunking]`` (``max_chars``,
``crossfade_ms``: how this text is chunked, over the run's options) and
``[baseline]`` (per-metric tolerances of `test_baseline`, see baselines.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from ..baselines.spec import validate_tolerances
from ..core.tomlfile import describe_value, read_toml
from ..judging.thresholds import check_pairs, validate_overrides
from ..metrics.text import normalize_words
from ..speech.chunking import validate_chunking

MAX_TEXT_CHARS = 20_000
#: takes per cell at most (each is a full synthesis and transcription)
MAX_TAKES = 100


class ScenarioError(ValueError):
    """A scenario file is unusable; the message names the file and the fix."""


@dataclass(frozen=True)
class Scenario:
    id: str
    text: str
    thresholds: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    chunking: dict[str, Any] = field(default_factory=dict)
    #: per-metric baseline tolerances ({metric: {"atol", "rtol"}}), see baselines.py
    baseline: dict[str, dict[str, float]] = field(default_factory=dict)
    #: takes (seeds) per cell of this scenario; None: the run's --luxgate-takes
    takes: int | None = None


def standard_dir() -> Path:
    """The five standard scenarios shipped with the package (repo: ./scenarios)."""
    return Path(str(resources.files("pytest_luxgate.standard_scenarios")))


def load_file(path: Path) -> Scenario:
    data = read_toml(path, "scenario file", ScenarioError, invalid="not valid UTF-8 TOML")
    unknown = set(data) - {"id", "text", "thresholds", "params", "chunking", "baseline", "description", "takes"}
    if unknown:
        raise ScenarioError(f"scenario file {path}: unknown key(s) {sorted(unknown)}; "
                            "allowed: id, text, description, takes, [thresholds], [params], [chunking], [baseline]")
    takes = data.get("takes")
    if takes is not None and (isinstance(takes, bool) or not isinstance(takes, int) or not 1 <= takes <= MAX_TAKES):
        raise ScenarioError(f"scenario file {path}: 'takes' must be a whole number from 1 to {MAX_TAKES}, "
                            f"got {takes!r}")
    sid = data.get("id", path.stem)
    if not isinstance(sid, str) or not sid.strip():
        raise ScenarioError(f"scenario file {path}: 'id' must be a non-empty string")
    text = data.get("text")
    if text is None:
        raise ScenarioError(f"scenario file {path}: missing 'text' (the words to synthesize)")
    if not isinstance(text, str):
        raise ScenarioError(f"scenario file {path}: 'text' must be a string, got {describe_value(text)}; "
                            'write the words in quotes: text = "..."')
    if not text.strip():
        raise ScenarioError(f"scenario file {path}: 'text' is empty; give the words to synthesize")
    if not normalize_words(text):
        # the judge compares words: a text with none (only punctuation or symbols) can be neither
        # spoken meaningfully nor checked, and a stack handed it fails in ways that blame the engine
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise ScenarioError(f"scenario file {path}: 'text' {shown!r} has nothing to speak (only punctuation "
                            "or symbols, no words or numbers); give the words to synthesize")
    if len(text) > MAX_TEXT_CHARS:
        raise ScenarioError(f"scenario file {path}: 'text' has {len(text)} characters, "
                            f"more than the {MAX_TEXT_CHARS} allowed; split it into scenarios")
    thresholds = data.get("thresholds", {})
    params = data.get("params", {})
    chunking = data.get("chunking", {})
    baseline = data.get("baseline", {})
    if not all(isinstance(t, dict) for t in (thresholds, params, chunking, baseline)):
        raise ScenarioError(f"scenario file {path}: [thresholds], [params], [chunking] and [baseline] "
                            "must be tables")
    try:
        thresholds = validate_overrides(thresholds)
        check_pairs([("its [thresholds]", thresholds)])
        chunking = validate_chunking(chunking)
        baseline = validate_tolerances(baseline, "[baseline]")
    except ValueError as exc:
        raise ScenarioError(f"scenario file {path}: {exc}") from exc
    return Scenario(sid.strip(), " ".join(text.split()), thresholds, dict(params), str(path), chunking,
                    baseline, takes)


def load_dirs(dirs: Iterable[Path]) -> list[Scenario]:
    """Load every ``*.toml`` under the given directories; later dirs may not reuse ids.

    A directory named twice (an ini entry repeated on the command line) is read once:
    its files are the same files, not a clash of ids."""
    found: dict[str, Scenario] = {}
    seen: set[Path] = set()
    for d in dirs:
        if d.resolve() in seen:
            continue
        seen.add(d.resolve())
        if not d.is_dir():
            raise ScenarioError(f"scenario directory {d} does not exist (--luxgate-scenarios / "
                                "ini luxgate_scenarios)")
        for path in sorted(d.glob("*.toml")):  # file names set the order (1_short_plain.toml, ...)
            sc = load_file(path)
            if sc.id in found:
                raise ScenarioError(f"duplicate scenario id {sc.id!r} in {path} and "
                                    f"{found[sc.id].source}; ids must be unique")
            found[sc.id] = sc
    return list(found.values())


def check_thresholds(scenarios: Iterable[Scenario], run: dict[str, float], run_source: str) -> None:
    """Refuse a scenario whose [thresholds] and the run's overrides (`run`, from `run_source`)
    together bound a quantity inconsistently (rate_min_sps above rate_max_sps); the scenario
    wins where both set a key, as in judging."""
    for sc in scenarios:
        try:
            check_pairs([(run_source, run), (f"scenario file {sc.source} [thresholds]", sc.thresholds)])
        except ValueError as exc:
            raise ScenarioError(f"scenario {sc.id!r}: {exc}") from None


def select(scenarios: list[Scenario], wanted: Iterable[str]) -> list[Scenario]:
    wanted = [w for w in wanted if w]
    if not wanted:
        return scenarios
    by_id = {s.id: s for s in scenarios}
    missing = [w for w in wanted if w not in by_id]
    if missing:
        raise ScenarioError(f"unknown scenario id(s) {missing} in --luxgate-scenario; "
                            f"known: {sorted(by_id)}")
    return [by_id[w] for w in wanted]
