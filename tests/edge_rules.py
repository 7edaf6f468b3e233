"""check_start's and check_tail's rules at the edges.DEFAULTS limits, on the metrics alone: the
names of the criteria that fail. For tests that judge a take's edges without building Evidence.
`noise_db` replaces the pre-onset / post-offset noise limit (a recording is allowed its own room
+ 6 dB, as the gate allows a prompt's)."""
from __future__ import annotations

from pytest_luxgate.metrics.edges import DEFAULTS as E
from pytest_luxgate.metrics.edges import StartMetrics, TailMetrics

MEASURED_S = 0.05  # a pre-onset / post-offset stretch shorter than this is not measured (check_start)


def start_fails(s: StartMetrics, noise_db: float = E["pre_onset_noise_db"]) -> list[str]:
    out = [k for k in ("lead_garbage_s", "before_text_s") if getattr(s, k) is not None and getattr(s, k) > E[k]]
    if s.pre_onset_s >= MEASURED_S and s.pre_onset_noise_db is not None and s.pre_onset_noise_db > noise_db:
        out.append("pre_onset_noise_db")
    if s.pre_onset_s > 0 and s.pre_onset_click_db > E["pre_onset_click_db"]:
        out.append("pre_onset_click_db")
    return out


def tail_fails(t: TailMetrics, noise_db: float = E["post_offset_noise_db"]) -> list[str]:
    out = [k for k in ("trail_garbage_s", "after_text_s") if getattr(t, k) is not None and getattr(t, k) > E[k]]
    if t.post_offset_s >= MEASURED_S and t.post_offset_noise_db is not None and t.post_offset_noise_db > noise_db:
        out.append("post_offset_noise_db")
    if t.tail_buzz_s > E["tail_buzz_s"]:
        out.append("tail_buzz_s")
    if t.truncation_db > E["truncation_db"]:
        out.append("truncation_db")
    return out


def noisy_start(s: StartMetrics) -> bool:
    """Sound before the onset over the pre-onset noise limit."""
    return "pre_onset_noise_db" in start_fails(s)
