"""check_start's and check_tail's rules on the metrics alone, for tests that judge a take's edges
without building an Evidence: the names of the criteria that fail (judging.checks.failing_edges,
the checks' own rules). `room_db`: a recording's own background (dB re speech), which the gate
allows a cloned take as it does its prompt's."""
from __future__ import annotations

from pytest_luxgate.judging.checks import failing_edges
from pytest_luxgate.metrics.edges import StartMetrics, TailMetrics


def start_fails(s: StartMetrics, room_db: float | None = None) -> list[str]:
    return failing_edges(s, prompt_background_db=room_db)


def tail_fails(t: TailMetrics, room_db: float | None = None) -> list[str]:
    return failing_edges(tail=t, prompt_background_db=room_db)


def noisy_start(s: StartMetrics) -> bool:
    """Sound before the onset over the pre-onset noise limit."""
    return "pre_onset_noise_db" in start_fails(s)


def noisy_tail(t: TailMetrics) -> bool:
    """Sound after the offset over the post-offset noise limit."""
    return "post_offset_noise_db" in tail_fails(t)
