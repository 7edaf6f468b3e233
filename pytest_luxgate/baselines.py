"""Regression baselines: each cell's metrics against a committed syrupy snapshot.

The absolute checks (`test_wer`, `test_start`, ...) say whether a take is good
enough; a baseline says whether it got *worse* than it was. `test_baseline`
stores, per cell (stack, prompt, scenario[, platform]), the numbers that
matter in one small JSON file under the test module's ``__snapshots__``
(syrupy's ``--snapshot-dirname`` moves it), and compares later runs with a
tolerance per metric. Only a change in the bad direction by more than the
tolerance fails; a change for the better by more than the tolerance is
reported (terminal summary, report.json, SUMMARY.md) and passes. syrupy's own
``--snapshot-update`` rewrites the files; its xdist support and unused-snapshot
bookkeeping apply unchanged.

Tolerances (``atol + rtol * |baseline|``) are sized for what legitimately
moves a take between machines and library builds while the model is the same
(see METRICS for each row's reason): Whisper's int8 beam search on another
CPU can flip one word; word timestamps and VAD frames move edges by tens of
milliseconds; levels far below the speech (dB re speech under FLOOR) are
inaudible and swing freely with float noise, so both sides are clamped to the
metric's floor before comparing. Scenario files (``[baseline]``), ini and the
command line (``luxgate_baseline_tolerance``) override them.

Nothing here runs models; the comparison is a pure function of two entries.
"""
from __future__ import annotations

import json
import math
import platform
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from syrupy.data import SnapshotCollections
from syrupy.exceptions import SnapshotDoesNotExist, TaintedSnapshotError
from syrupy.extensions.json import JSONSnapshotExtension

if TYPE_CHECKING:
    from syrupy.assertion import SnapshotAssertion
    from syrupy.location import PyTestLocation

    from .plugin import CellHandle

FORMAT = 1                     # the file format; a file of another format must be re-recorded
DIRECTIONS = ("higher", "lower", "both", "info")
DIRECTION_TEXT = {"higher": "higher is worse", "lower": "lower is worse",
                  "both": "a change either way is worse", "info": "shown, not judged"}


@dataclass(frozen=True)
class Metric:
    """How one metric is compared with its baseline."""

    direction: str              # "higher" / "lower": that way is worse; "both": any change; "info"
    atol: float                 # absolute tolerance, in the metric's unit
    rtol: float = 0.0           # plus this share of |baseline|
    unit: str = ""
    floor: float | None = None  # values below (and None, "not measurable") count as the floor
    magnitude: bool = False     # compare |value| (seam level jumps are signed)
    decimals: int = 4           # stored rounding: keeps float noise out of the diff
    why: str = ""


_EDGE = "word timestamps and 32 ms VAD frames move an edge by tens of ms between machines"
_DB_FLOOR = ("below -60 dB re speech is inaudible under the speech and swings with float noise; "
             "6 dB is a doubling of amplitude")
#: the metrics a baseline holds, in file order. A listener that adds a metric to
#: Evidence.metrics() adds a row here to have it baselined; absent values are skipped.
METRICS: dict[str, Metric] = {
    "wer_errors": Metric("higher", 1.0, 0.1, "words", decimals=0,
                         why="Whisper's int8 beam search on another CPU can flip one word; "
                             "a real regression costs several (10 % of the errors on long texts)"),
    "wer": Metric("info", 0.0, 0.0, "", why="judged through wer_errors: one word is 0.17 of a short "
                                            "text and 0.03 of a long one, so a WER tolerance fits neither"),
    "repeated_words": Metric("higher", 1.0, 0.0, "words", decimals=0,
                             why="the ASR occasionally doubles one word; test_repeat judges the span"),
    "longest_loop_s": Metric("higher", 0.15, 0.0, "s", decimals=3,
                             why="the loop detector's frames and lag search resolve ~0.1 s"),
    "lead_garbage_s": Metric("higher", 0.1, 0.0, "s", decimals=3, why=_EDGE),
    "onset_s": Metric("both", 0.1, 0.0, "s", decimals=3, why=_EDGE),
    "pre_onset_noise_db": Metric("higher", 6.0, 0.0, "dB", floor=-60.0, decimals=2, why=_DB_FLOOR),
    "pre_onset_click_db": Metric("higher", 6.0, 0.0, "dB", floor=-60.0, decimals=2, why=_DB_FLOOR),
    "trail_garbage_s": Metric("higher", 0.1, 0.0, "s", decimals=3, why=_EDGE),
    "post_offset_noise_db": Metric("higher", 6.0, 0.0, "dB", floor=-60.0, decimals=2, why=_DB_FLOOR),
    "tail_buzz_s": Metric("higher", 0.1, 0.0, "s", decimals=3, why=_EDGE),
    "truncation_db": Metric("higher", 6.0, 0.0, "dB", floor=-60.0, decimals=2, why=_DB_FLOOR),
    "clip_frac": Metric("higher", 1e-4, 0.0, "", decimals=6,
                        why="a fifth of test_clipping's limit: a few samples reaching full scale"),
    "longest_clip_run_s": Metric("higher", 0.001, 0.0, "s", decimals=4,
                                 why="one millisecond at full scale"),
    "duration_s": Metric("both", 0.05, 0.05, "s", decimals=3,
                         why="a duration predictor off by a frame per word on other numerics; "
                             "5 % faster or slower speech is at the edge of what listeners notice"),
    "syllables_per_s": Metric("both", 0.0, 0.08, "syl/s", decimals=3,
                              why="speech time comes from VAD frames; 8 % is under a noticeable "
                                  "tempo change"),
    "worst_seam_click_db": Metric("higher", 3.0, 0.0, "dB", decimals=2,
                                  why="a 0.5 ms window at a join; 3 dB is under a third of the limit"),
    "worst_seam_level_jump_db": Metric("higher", 1.5, 0.0, "dB", magnitude=True, decimals=2,
                                       why="signed level change, compared as its size; 1.5 dB is "
                                           "about the just-noticeable loudness difference"),
    "worst_seam_spectral_jump_db": Metric("higher", 2.0, 0.0, "dB", decimals=2,
                                          why="RMS over mel bands of voiced frames either side"),
    # listener metrics, present when their check ran (test_pauses, test_quality, test_voice)
    "longest_unexplained_pause_s": Metric("higher", 0.1, 0.0, "s", decimals=3, why=_EDGE),
    "mos_ovrl": Metric("lower", 0.2, 0.0, "MOS", decimals=3,
                       why="DNSMOS moves by a few hundredths between takes of one model; 0.2 is "
                           "about its per-clip error against listeners"),
    "mos_sig": Metric("lower", 0.2, 0.0, "MOS", decimals=3, why="as mos_ovrl"),
    "mos_bak": Metric("lower", 0.2, 0.0, "MOS", decimals=3, why="as mos_ovrl"),
    "voice_similarity": Metric("lower", 0.03, 0.0, "cos", decimals=4,
                               why="GE2E cosine: takes of one voice spread by about 0.02; another "
                                   "voice scores 0.4 lower"),
}


class BaselineError(ValueError):
    """A baseline option, tolerance table or file is unusable; the message says which and why."""


# -- options ------------------------------------------------------------------

@dataclass(frozen=True)
class BaselineOptions:
    #: metric -> {"atol": .., "rtol": ..} overrides of METRICS (run-wide)
    tolerances: dict[str, dict[str, float]] = field(default_factory=dict)
    #: None: one baseline for every platform; else the tag that keys this platform's files
    platform: str | None = None
    #: also snapshot the transcript verbatim (pinned environments only)
    transcripts: bool = False
    #: a cell without a (current) baseline fails instead of being skipped
    required: bool = False


def platform_tag() -> str:
    """``linux-x86_64``, ``darwin-arm64``, ``win32-x86_64``: where numerics legitimately differ."""
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine) or "unknown"
    return f"{sys.platform}-{machine}"


def parse_bool(value: str | bool, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise BaselineError(f"{what} must be true or false (yes/no, on/off, 1/0), got {value!r}")


def parse_options(*, tolerance: str = "", platform_opt: str = "", transcripts: str | bool = "",
                  required: str | bool = "") -> BaselineOptions:
    """The four baseline options as given on the command line or in ini (strings)."""
    tolerances: dict[str, dict[str, float]] = {}
    for part in tolerance.replace(",", " ").split():
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise BaselineError(f"--luxgate-baseline-tolerance: expected METRIC=ATOL, METRIC.atol=X or "
                                f"METRIC.rtol=X, got {part!r}")
        name, _, kind = key.partition(".")
        try:
            number = float(value)
        except ValueError:
            raise BaselineError(f"--luxgate-baseline-tolerance: {key} must be a number, got {value!r}") from None
        table = validate_tolerances({name: {kind or "atol": number}}, "--luxgate-baseline-tolerance")
        tolerances.setdefault(name, {}).update(table[name])
    tag = platform_opt.strip()
    if tag.lower() in ("", "off", "false", "no", "0", "none"):
        plat = None
    elif tag.lower() in ("auto", "on", "true", "yes", "1"):
        plat = platform_tag()
    else:
        if not all(c.isalnum() or c in "._-" for c in tag):
            raise BaselineError(f"--luxgate-baseline-platform: a tag of letters, digits, '.', '_' and '-' "
                                f"(or off/auto), got {tag!r}")
        plat = tag
    return BaselineOptions(tolerances, plat, parse_bool(transcripts, "--luxgate-baseline-transcripts"),
                           parse_bool(required, "--luxgate-baseline-required"))


def validate_tolerances(table: Mapping[str, Any], where: str) -> dict[str, dict[str, float]]:
    """Check a ``[baseline]`` table: ``metric = ATOL`` or ``metric = {atol = .., rtol = ..}``."""
    out: dict[str, dict[str, float]] = {}
    for name, value in table.items():
        if name not in METRICS:
            raise BaselineError(f"{where}: unknown baseline metric {name!r}; known: {', '.join(METRICS)}")
        if METRICS[name].direction == "info":
            raise BaselineError(f"{where}: {name!r} is shown, not judged; set a tolerance on "
                                f"{'wer_errors' if name == 'wer' else 'another metric'} instead")
        spec = value if isinstance(value, Mapping) else {"atol": value}
        bad = set(spec) - {"atol", "rtol"}
        if bad:
            raise BaselineError(f"{where}: baseline tolerance {name!r} takes atol and rtol, not {sorted(bad)}")
        row: dict[str, float] = {}
        for kind, number in spec.items():
            if isinstance(number, bool) or not isinstance(number, (int, float)) \
                    or not math.isfinite(number) or number < 0:
                raise BaselineError(f"{where}: baseline tolerance {name}.{kind} must be a finite number "
                                    f">= 0, got {number!r}")
            row[kind] = float(number)
        out[name] = row
    return out


def tolerances_for(options: BaselineOptions, scenario: Mapping[str, Mapping[str, float]]
                   ) -> dict[str, dict[str, float]]:
    """Defaults, then the run's overrides, then the scenario's ``[baseline]`` table."""
    merged = {name: {"atol": m.atol, "rtol": m.rtol} for name, m in METRICS.items()}
    for layer in (options.tolerances, scenario):
        for name, row in layer.items():
            merged[name].update(row)
    return merged


# -- the stored entry ---------------------------------------------------------

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


# -- comparing ----------------------------------------------------------------

@dataclass
class Delta:
    metric: str
    baseline: float | None
    now: float | None
    delta: float | None       # now - baseline, on the compared scale (floor/magnitude applied)
    tolerance: float
    direction: str
    verdict: str              # "same" (within tolerance), "worse", "better", "n/a", "info"
    atol: float = 0.0
    rtol: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "now": self.now,
                "delta": None if self.delta is None else round(self.delta, 6),
                "tolerance": round(self.tolerance, 6), "direction": self.direction, "verdict": self.verdict}

    def text(self) -> str:
        spec = METRICS[self.metric]
        unit = f" {spec.unit}" if spec.unit else ""

        def show(v: float | None) -> str:
            if v is None:
                return "n/a" + (f" (counts as the {spec.floor:g} dB floor)" if spec.floor is not None else "")
            return f"{v:.{max(spec.decimals, 0)}f}{unit}" if spec.decimals else f"{v:g}{unit}"

        moved = "" if self.delta is None else f" ({self.delta:+.4g}{unit})"
        how = f" = {self.atol:g}{unit} + {self.rtol:.0%} of the baseline" if self.rtol else ""
        return (f"{self.metric}: baseline {show(self.baseline)}, now {show(self.now)}{moved}; "
                f"tolerance {self.tolerance:.4g}{unit}{how}; {DIRECTION_TEXT[self.direction]}")


@dataclass
class Comparison:
    #: "passed" (nothing beyond tolerance), "improved", "regressed", "stale" (the cell's text,
    #: parameters, chunking or transcript option changed), "incomparable" (another ASR or
    #: seed), "unreadable" (not a baseline file of this format)
    status: str
    deltas: list[Delta] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    transcript: tuple[str, str] | None = None   # (baseline, now) when the exact transcript differs

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "improved")

    def worse(self) -> list[Delta]:
        return [d for d in self.deltas if d.verdict == "worse"]

    def better(self) -> list[Delta]:
        return [d for d in self.deltas if d.verdict == "better"]


#: what the scenario file defines: when it changed, the cell is another cell and its baseline stale
_DEFINITION = ("text", "scenario_params", "scenario_chunking")
#: what the run chose (ASR, seed, parameter and chunking options): another experiment, not a regression
_APPARATUS = ("asr", "seed", "run_params", "run_chunking")


def compare(baseline: Mapping[str, Any], now: Mapping[str, Any],
            tolerances: Mapping[str, Mapping[str, float]]) -> Comparison:
    """Compare two entries (as `entry_from_record` builds them). Pure; never raises on bad data."""
    if not isinstance(baseline, Mapping) or baseline.get("luxgate_baseline") != FORMAT \
            or not isinstance(baseline.get("metrics"), Mapping):
        return Comparison("unreadable", reasons=[f"not a luxgate baseline of format {FORMAT}"])
    bcond, ncond = baseline.get("conditions", {}), now.get("conditions", {})
    stale = [k for k in _DEFINITION if bcond.get(k) != ncond.get(k)]
    other = [k for k in _APPARATUS if bcond.get(k) != ncond.get(k)]
    if "transcript" in now and "transcript" not in baseline:
        stale.append("transcript (the baseline was recorded without --luxgate-baseline-transcripts)")
    if stale or other:
        reasons = [f"{k} differs: baseline {bcond.get(k)!r}, now {ncond.get(k)!r}"
                   if k in bcond or k in ncond else k for k in stale + other]
        return Comparison("stale" if stale else "incomparable", reasons=reasons)
    deltas = [_delta(name, baseline["metrics"].get(name), now["metrics"].get(name), tolerances[name])
              for name in METRICS if name in tolerances]
    transcript = None
    if "transcript" in now and baseline.get("transcript") != now.get("transcript"):
        transcript = (str(baseline.get("transcript")), str(now.get("transcript")))
    if transcript or any(d.verdict == "worse" for d in deltas):
        status = "regressed"
    elif any(d.verdict == "better" for d in deltas):
        status = "improved"
    else:
        status = "passed"
    return Comparison(status, deltas, transcript=transcript)


def _delta(name: str, base: Any, now: Any, tol: Mapping[str, float]) -> Delta:
    spec = METRICS[name]

    def scale(v: Any) -> float | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return spec.floor  # not measurable: the floor where there is one (silence), else n/a
        v = abs(float(v)) if spec.magnitude else float(v)
        return v if spec.floor is None else max(v, spec.floor)

    b, n = scale(base), scale(now)

    def clean(v: Any) -> float | None:
        return None if isinstance(v, bool) or not isinstance(v, (int, float)) else v

    atol, rtol = tol["atol"], tol["rtol"]
    if b is None or n is None:
        return Delta(name, clean(base), clean(now), None, atol, spec.direction, "n/a", atol, rtol)
    allowed = atol + rtol * abs(b)
    change = n - b
    if spec.direction == "info":
        return Delta(name, clean(base), clean(now), change, allowed, spec.direction, "info", atol, rtol)
    # 1e-9: values are stored rounded, so a change of exactly the tolerance is within it
    worse = {"higher": change, "lower": -change, "both": abs(change)}[spec.direction]
    if worse > allowed + 1e-9:
        verdict = "worse"
    elif spec.direction != "both" and -worse > allowed + 1e-9:
        verdict = "better"
    else:
        verdict = "same"
    return Delta(name, clean(base), clean(now), change, allowed, spec.direction, verdict, atol, rtol)


def regression_message(cmp: Comparison, location: str) -> str:
    worse = cmp.worse()
    lines = [f"{len(worse)} metric(s) worse than the baseline beyond tolerance" if worse
             else "the transcript differs from the baseline"]
    lines += [f"  {d.text()}" for d in worse]
    if cmp.transcript:
        lines.append(f"  transcript: baseline {cmp.transcript[0]!r}, now {cmp.transcript[1]!r} "
                     "(exact, --luxgate-baseline-transcripts)")
    lines.append(f"  baseline: {location}; if the change is intended, re-record with --snapshot-update")
    return "\n".join(lines)


# -- the syrupy extension -----------------------------------------------------

class BaselineExtension(JSONSnapshotExtension):
    """One readable JSON file per cell, compared with tolerances instead of equality.

    `check_baseline` sets `tolerances` and `update` on the instance before the
    assertion; `matches` leaves the comparison in `last` for the message.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tolerances: dict[str, dict[str, float]] = tolerances_for(BaselineOptions(), {})
        self.update = False
        self.last: Comparison | None = None

    def serialize(self, data: Any, **_: Any) -> str:
        # key order is the file's reading order (cell, conditions, metrics ...), not alphabetical
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def matches(self, *, serialized_data: Any, snapshot_data: Any) -> bool:
        try:
            base, now = json.loads(snapshot_data), json.loads(serialized_data)
        except (TypeError, ValueError) as exc:
            self.last = Comparison("unreadable", reasons=[f"not valid JSON ({exc})"])
            return False
        self.last = compare(base, now, self.tolerances)
        if self.update:
            # --snapshot-update: rewrite whenever a compared number moved at all, so a
            # team can ratchet; recorded_with alone never causes a rewrite
            keys = ("luxgate_baseline", "cell", "conditions", "metrics", "transcript")
            return all(base.get(k) == now.get(k) for k in keys)
        return self.last.ok

    def discover_snapshots(self, *, test_location: PyTestLocation,
                           ignore_extensions: list[str] | None = None) -> SnapshotCollections:
        """syrupy's discovery, minus the baselines this run leaves out on purpose.

        A run of other stacks, a `--luxgate-scenario` subset, another prompts
        file or another platform tag does not use those cells' baselines;
        syrupy would call them unused (failing the run, deleting them under
        --snapshot-update). A baseline of a scenario that no longer exists
        stays in view, so syrupy reports and cleans it as usual.
        """
        found = super().discover_snapshots(test_location=test_location, ignore_extensions=ignore_extensions)
        scope = _run_scope(test_location)
        if scope is None:
            return found
        kept = SnapshotCollections()
        for collection in found:
            if _in_scope(collection.location, scope):
                kept.add(collection)
        return kept


@dataclass(frozen=True)
class _Scope:
    stacks: frozenset[str]
    prompts: frozenset[str]
    selected: frozenset[str]
    known: frozenset[str]
    platform: str | None


def _run_scope(test_location: PyTestLocation) -> _Scope | None:
    config = getattr(test_location.item, "config", None)
    if config is None:  # an item rebuilt from an xdist worker's report: nothing to narrow
        return None
    from .cells import OWN_VOICE
    from .plugin import SESSION_KEY
    from .scenarios import ScenarioError, load_dirs, standard_dir

    lux = config.stash.get(SESSION_KEY, None)
    if lux is None:
        return None
    try:
        cells = lux.matrix()
        known = {s.id for s in load_dirs([standard_dir(), *lux.cfg.scenario_dirs])}
    except (ScenarioError, ValueError):
        return None
    return _Scope(frozenset(lux.cfg.stacks), frozenset({c.prompt for c in cells} | {OWN_VOICE}
                                                       | {p.id for p in getattr(lux, "_prompts", ())}),
                  frozenset(c.scenario for c in cells), frozenset(known), lux.cfg.baseline.platform)


def _in_scope(location: str, scope: _Scope) -> bool:
    try:
        cell = json.loads(Path(location).read_text(encoding="utf-8"))["cell"]
        stack, prompt, scenario, plat = cell["stack"], cell["prompt"], cell["scenario"], cell.get("platform")
    except (OSError, ValueError, KeyError, TypeError):
        return True  # not one of ours, or broken: syrupy decides
    if stack not in scope.stacks or prompt not in scope.prompts or plat != scope.platform:
        return False
    return scenario in scope.selected or scenario not in scope.known


# -- the gate test ------------------------------------------------------------

@pytest.fixture
def luxgate_snapshot(request: pytest.FixtureRequest) -> SnapshotAssertion:
    """syrupy's `snapshot`, built with BaselineExtension from the start.

    Not `snapshot.use_extension(...)`: the plain fixture would register an
    assertion of syrupy's default (amber) extension too, whose discovery
    claims every other file under ``__snapshots__`` as an unknown collection,
    so baselines a run leaves out on purpose would be reported unused and
    deleted by --snapshot-update.
    """
    from syrupy.assertion import SnapshotAssertion
    from syrupy.location import PyTestLocation

    syrupy_session = getattr(request.config, "_syrupy", None)
    if syrupy_session is None:
        pytest.skip("baselines need the syrupy plugin, which is disabled (-p no:syrupy)")
    return SnapshotAssertion(update_snapshots=request.config.option.update_snapshots,
                             update_new_snapshots_only=request.config.option.update_new_snapshots_only,
                             extension_class=BaselineExtension, test_location=PyTestLocation(request.node),
                             session=syrupy_session)


def check_baseline(handle: CellHandle, snapshot: SnapshotAssertion) -> dict[str, Any]:
    """`test_baseline`: compare the cell with its baseline; fail, skip or pass with a note."""
    cell, lux = handle.cell, handle.session
    options: BaselineOptions = lux.cfg.baseline
    scenario = lux.runner.scenarios[cell.scenario]
    entry = entry_from_record(
        handle.outcome.record, options,
        scenario={"params": scenario.params, "chunking": scenario.chunking},
        run={"params": lux.cfg.params, "chunking": lux.cfg.chunking.to_dict()})
    snap = snapshot if isinstance(snapshot.extension, BaselineExtension) \
        else snapshot.use_extension(BaselineExtension)
    if options.platform:
        snap = snap(name=options.platform)  # file: test_baseline[<cell>][<platform>].json
    ext = snap.extension
    assert isinstance(ext, BaselineExtension)
    ext.tolerances = tolerances_for(options, getattr(scenario, "baseline", {}) or {})
    ext.update = bool(snap.update_snapshots)
    location = _shown(ext.get_location(test_location=snap.test_location, index=snap.index), lux.cfg.rootdir)

    if not ext.update:
        # decide skips before asserting: a skipped test's snapshot is not "unused" to syrupy,
        # while a failed assertion would be counted as a failed snapshot
        try:
            stored = snap.session.recall_snapshot(ext, snap.test_location, snap.index)
        except SnapshotDoesNotExist:
            stored = None
        except TaintedSnapshotError:
            stored = "{}"
        if stored is None and not snap.update_new_snapshots_only:  # new-only: syrupy records it
            return _not_compared(handle, "missing", location, [], options.required,
                                 f"no baseline for this cell yet ({location}); record one with "
                                 "--snapshot-update and commit it")
        try:
            pre = compare(json.loads(stored), entry, ext.tolerances) if stored is not None else None
        except ValueError:
            pre = Comparison("unreadable")
        if pre is not None and pre.status in ("stale", "incomparable"):
            why = "; ".join(pre.reasons)
            if pre.status == "stale":
                text = (f"the baseline is for another version of this cell ({why}); "
                        f"re-record it with --snapshot-update ({location})")
            else:
                text = (f"not comparable with the baseline, which was measured differently ({why}); "
                        f"run with the baseline's settings, or re-record with --snapshot-update ({location})")
            return _not_compared(handle, pre.status, location, pre.reasons,
                                 options.required and pre.status == "stale", text)

    matched = snap == entry
    result = snap.executions[snap.num_executions - 1]
    cmp = ext.last or Comparison("created")
    if result.created:
        status = "created"
    elif result.updated:
        status = "updated"
    else:
        status = cmp.status
    section = {"status": status, "file": location, "platform": options.platform,
               "deltas": {d.metric: d.to_dict() for d in cmp.deltas}}
    if cmp.reasons:
        section["reasons"] = cmp.reasons
    if cmp.transcript:
        section["transcript"] = {"baseline": cmp.transcript[0], "now": cmp.transcript[1]}
    handle.outcome.record["baseline"] = section
    if matched:
        note = _note(status, cmp, location)
        _send_verdict(handle, True, note, section)
        return section
    if cmp.status == "unreadable" or result.exception is not None:
        why = "; ".join(cmp.reasons) or repr(result.exception)
        message = (f"the baseline file {location} cannot be used ({why}); fix it, or delete it and "
                   "re-record with --snapshot-update")
    else:
        message = regression_message(cmp, location)
    _send_verdict(handle, False, message, section)
    pytest.fail(f"[{cell.id}] baseline: {message}", pytrace=False)
    raise AssertionError  # unreachable: pytest.fail raises


def _send_verdict(handle: CellHandle, passed: bool, message: str, section: dict[str, Any]) -> None:
    handle._send(check={"name": "baseline", "passed": passed, "value": None, "threshold": None,
                        "message": message, "details": section})


def _not_compared(handle: CellHandle, status: str, location: str, reasons: list[str],
                  fail: bool, text: str) -> dict[str, Any]:
    section = {"status": status, "file": location, "platform": handle.session.cfg.baseline.platform,
               "deltas": {}, "reasons": reasons}
    handle.outcome.record["baseline"] = section
    if fail:
        message = text + " (--luxgate-baseline-required)"
        _send_verdict(handle, False, message, section)
        pytest.fail(f"[{handle.cell.id}] baseline: {message}", pytrace=False)
    handle._send(skipped_check=("baseline", text))
    pytest.skip(f"[{handle.cell.id}] baseline: {text}")
    raise AssertionError  # unreachable


def _note(status: str, cmp: Comparison, location: str) -> str:
    if status == "created":
        return f"baseline recorded: {location}"
    if status == "updated":
        return f"baseline re-recorded: {location}"
    if status == "improved":
        return ("better than the baseline (re-record with --snapshot-update to keep the gain): "
                + "; ".join(d.text() for d in cmp.better()))
    return "within tolerance of the baseline"


def _shown(location: str, root: Path) -> str:
    try:
        return str(Path(location).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return location


# -- reporting ----------------------------------------------------------------

def delta_text(section: Mapping[str, Any] | None, limit: int = 4) -> str:
    """One SUMMARY.md cell: the baseline verdict and the metrics that moved."""
    if not section:
        return "–"
    status = section.get("status", "?")
    icon = {"passed": "＝", "improved": "⬆️", "regressed": "⬇️", "created": "🆕", "updated": "🔄",
            "missing": "–", "stale": "⚠️", "incomparable": "≠", "unreadable": "💥"}.get(status, "?")
    moved = []
    for name, d in (section.get("deltas") or {}).items():
        if d.get("delta") in (None, 0) or d.get("verdict") == "n/a":
            continue
        unit = METRICS[name].unit if name in METRICS else ""
        unit = f" {unit}" if unit and unit != "words" else ""
        mark = {"worse": "**", "better": "_"}.get(d.get("verdict"), "")
        rank = {"worse": 0, "better": 1}.get(d.get("verdict"), 2)
        moved.append((rank, f"{mark}{name} {d['delta']:+.3g}{unit}{mark}"))
    moved.sort(key=lambda m: m[0])  # stable: file order within each verdict
    shown = [m[1] for m in moved[:limit]] + ([f"+{len(moved) - limit} more"] if len(moved) > limit else [])
    return f"{icon} {status}" + (": " + ", ".join(shown) if shown else "")


def summary_rows(cells: list[Mapping[str, Any]]) -> list[str]:
    """SUMMARY.md: one stack's cells against their baselines (nothing when none was compared)."""
    rows = [c for c in cells if c.get("baseline")]
    if not rows:
        return []
    lines = ["| prompt | scenario | against the baseline (**worse**, _better_ beyond tolerance) |",
             "|---|---|---|"]
    lines += [f"| {c['prompt']} | {c['scenario']} | {delta_text(c['baseline'])} |"
              for c in sorted(rows, key=lambda c: (c["prompt"], c.get("order", 0)))]
    return lines + [""]


def summary_lines(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Terminal summary: regressions fail their test anyway; improvements are said here."""
    counts: dict[str, int] = {}
    better: list[str] = []
    for rec in records:
        section = rec.get("baseline")
        if not section:
            continue
        counts[section["status"]] = counts.get(section["status"], 0) + 1
        for name, d in (section.get("deltas") or {}).items():
            if d.get("verdict") == "better":
                better.append(f"  {rec.get('cell', rec.get('scenario'))}: {name} {d['baseline']} -> {d['now']}")
    if not counts:
        return []
    lines = ["luxgate baselines: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))]
    if better:
        lines.append("luxgate baselines: better than the baseline (re-record with --snapshot-update "
                     "to keep the gain):")
        lines += better
    return lines
