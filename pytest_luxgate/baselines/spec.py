"""How each metric is compared with its baseline (METRICS), and the baseline options."""
from __future__ import annotations

import math
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:

    pass

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


