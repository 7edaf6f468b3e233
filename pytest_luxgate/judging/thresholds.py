"""Every check threshold in one table: default, unit, direction, meaning.

Thresholds are data: scenario files, ini (`luxgate_thresholds`) and
`--luxgate-threshold KEY=VALUE` override them, validated here so a typo or an
absurd value is an error rather than a silently disabled check.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..metrics import edges as _edges
from ..metrics import level as _level
from ..metrics import loops as _loops
from ..metrics import pauses as _pauses
from ..metrics import seams as _seams
from ..metrics import text as _text


@dataclass(frozen=True)
class Threshold:
    default: float
    unit: str          # "ratio" (0..1), "s", "dB", "syl/s", "count", "score", "MOS" (1..5)
    limit: str         # "max": value must be <= threshold; "min": value must be >= threshold
    help: str


def _d(module_defaults: dict[str, float], key: str) -> float:
    return float(module_defaults[key])


THRESHOLDS: dict[str, Threshold] = {
    "wer": Threshold(0.20, "ratio", "max", "word error rate after Whisper English normalisation"),
    "repeat_span_words": Threshold(float(_text.DEFAULT_MAX_REPEAT_SPAN_WORDS - 1), "count", "max",
                                   "extra words in one repeated span the text does not have"),
    "repeat_ratio": Threshold(_text.DEFAULT_MAX_REPEAT_RATIO, "ratio", "max",
                              "share of reference words said again though the text says them once"),
    "loop_s": Threshold(_d(_loops.DEFAULTS, "longest_repeat_s"), "s", "max",
                        "longest stretch of audio that repeats itself and the text does not explain"),
    "lead_garbage_s": Threshold(_d(_edges.DEFAULTS, "lead_garbage_s"), "s", "max",
                                "speech-like sound before the first word"),
    "pre_onset_noise_db": Threshold(_d(_edges.DEFAULTS, "pre_onset_noise_db"), "dB", "max",
                                    "loudest 50 ms before speech onset, re speech level"),
    "pre_onset_click_db": Threshold(_d(_edges.DEFAULTS, "pre_onset_click_db"), "dB", "max",
                                    "loudest isolated transient before onset, re speech level"),
    "trail_garbage_s": Threshold(_d(_edges.DEFAULTS, "trail_garbage_s"), "s", "max",
                                 "speech-like sound after the last word"),
    "post_offset_noise_db": Threshold(_d(_edges.DEFAULTS, "post_offset_noise_db"), "dB", "max",
                                      "loudest 50 ms after speech offset, re speech level"),
    # a cloning engine copies its prompt's room: noise no louder than the prompt's own
    # steady background (+ this margin: 4x its power) is the prompt's, not a fault. The
    # loudest 50 ms of a steady background reads 1-3 dB over its median (CMU ARCTIC a0007:
    # -24.4 vs -27.7 dB re speech). Only raises the two noise limits and the truncation
    # limit (a take that ends in that room has not stopped mid-sound), never lowers them.
    "prompt_noise_margin_db": Threshold(6.0, "dB", "max",
                                        "how far a cloned take's lead/tail noise and end level may rise above "
                                        "its voice prompt's own background (dB re speech) before they count"),
    "tail_buzz_s": Threshold(_d(_edges.DEFAULTS, "tail_buzz_s"), "s", "max",
                             "frozen, periodic (buzzy/robotic) sound at the end"),
    "truncation_db": Threshold(_d(_edges.DEFAULTS, "truncation_db"), "dB", "max",
                               "level of the last 30 ms re speech (high = cut off mid-sound)"),
    "clip_frac": Threshold(_d(_level.DEFAULTS, "clip_frac"), "ratio", "max",
                           "share of samples in runs at full scale"),
    "longest_clip_run_s": Threshold(_d(_level.DEFAULTS, "longest_clip_run_s"), "s", "max",
                                    "longest run of samples held at full scale"),
    # conversational English runs at 3-6 syllables/s including pauses; espeak-ng
    # at its slowest setting (80 wpm) measures 2.9 and at 260 wpm 8.0. Outside
    # 2.5-8 a duration predictor has failed rather than chosen a style.
    "rate_min_sps": Threshold(2.5, "syl/s", "min", "slowest acceptable speaking rate"),
    "rate_max_sps": Threshold(8.0, "syl/s", "max", "fastest acceptable speaking rate"),
    "seam_click_db": Threshold(_d(_seams.DEFAULTS, "seam_click_db"), "dB", "max",
                               "click or discontinuity at a chunk join: loudest 0.5 ms above 6 kHz "
                               "re the 10 ms either side"),
    "seam_level_jump_db": Threshold(_d(_seams.DEFAULTS, "seam_level_jump_db"), "dB", "max",
                                    "speech level change across a chunk join (either direction)"),
    "seam_spectral_jump_db": Threshold(_d(_seams.DEFAULTS, "seam_spectral_jump_db"), "dB", "max",
                                       "change of the voiced spectral envelope across a chunk join "
                                       "(RMS over mel bands)"),
    "click_scan_db": Threshold(_d(_seams.DEFAULTS, "click_scan_db"), "dB", "max",
                               "loudest transient anywhere in the file re the 10 ms either side "
                               "(when the seam times are unknown)"),
    # listener checks (issue 9; calibrated in docs/CALIBRATION.md, "Listener checks")
    "pause_gap_s": Threshold(_d(_pauses.DEFAULTS, "pause_gap_s"), "s", "max",
                             "longest silent gap (-45 dB re peak, or down to the recording's own room) "
                             "between two words where the text has no punctuation"),
    # DNSMOS OVRL: clean Piper 2.71-3.47, clean espeak-ng 2.07-3.17 (its breathy
    # variants read as background noise), white noise at 10 dB SNR <= 2.16,
    # 4-bit audio median 2.10. 2.5 is "poor" (2) to "fair" (3) on the ACR scale.
    "quality_ovrl": Threshold(2.5, "MOS", "min",
                              "DNSMOS overall quality, predicted mean opinion score (1 bad .. 5 excellent)"),
    # take vs its 5 s prompt, >= 1 s of speech: same voice 0.71-0.96, another
    # engine or sex <= 0.66; two variants of one espeak-ng sex reach 0.92 (the
    # encoder cannot tell them apart): docs/CALIBRATION.md
    "voice_similarity": Threshold(0.70, "ratio", "min",
                                  "cosine similarity of the take's and the prompt's speaker embeddings "
                                  "(resemblyzer GE2E)"),
}


def validate_overrides(values: Mapping[str, Any]) -> dict[str, float]:
    """Check keys and values of a threshold override table; return floats."""
    out: dict[str, float] = {}
    for key, value in values.items():
        spec = THRESHOLDS.get(key)
        if spec is None:
            raise ValueError(f"unknown threshold {key!r}; known: {', '.join(sorted(THRESHOLDS))}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"threshold {key!r} must be a number, got {value!r}")
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"threshold {key!r} must be finite, got {value}")
        if spec.unit in ("ratio", "s", "syl/s", "count") and value < 0:
            raise ValueError(f"threshold {key!r} is a {spec.unit} and cannot be negative ({value})")
        if spec.unit == "ratio" and value > 1:
            raise ValueError(f"threshold {key!r} is a ratio between 0 and 1, got {value}")
        if spec.unit == "MOS" and not 1 <= value <= 5:
            raise ValueError(f"threshold {key!r} is a mean opinion score between 1 and 5, got {value}")
        out[key] = value
    return out


def parse_assignments(items: list[str], what: str) -> dict[str, str]:
    """Parse ``KEY=VALUE`` strings from the command line or ini."""
    out: dict[str, str] = {}
    for item in items:
        for part in item.replace(",", " ").split():
            key, sep, value = part.partition("=")
            if not sep or not key:
                raise ValueError(f"{what}: expected KEY=VALUE, got {part!r}")
            out[key.strip()] = value.strip()
    return out


def resolve(*layers: Mapping[str, float]) -> dict[str, float]:
    """Defaults overlaid by each layer in order (later wins)."""
    merged = {k: t.default for k, t in THRESHOLDS.items()}
    for layer in layers:
        merged.update(layer)
    return merged
