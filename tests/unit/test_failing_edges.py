"""judging.checks.failing_edges, the edge checks' rules without an Evidence (calibration scripts
and tests judge takes with it), names exactly the criteria that check_start and check_tail fail
on the same metrics: each criterion over its limit, at it, too short to measure, and under a
cloned take's room allowance."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from synthetic_speech import SR, vowel

from pytest_luxgate.core.types import Segment
from pytest_luxgate.judging.analysis import Evidence
from pytest_luxgate.judging.checks import (
    MEASURED_S,
    check_start,
    check_tail,
    failing_edges,
)
from pytest_luxgate.judging.thresholds import resolve
from pytest_luxgate.metrics.edges import StartMetrics, TailMetrics, edge_metrics

TH = resolve()


@pytest.fixture(scope="module")
def clean() -> tuple[StartMetrics, TailMetrics]:
    """The metrics of a clean synthetic take: a vowel between two silences."""
    rng = np.random.default_rng(0)
    x = np.concatenate([np.zeros(int(0.3 * SR)), vowel(0.8, rng), np.zeros(int(0.3 * SR))]).astype(np.float32)
    return edge_metrics(x, SR, [Segment(0.3, 1.1)], [])


def _checked(start: StartMetrics, tail: TailMetrics, room: float | None) -> list[str]:
    """The criteria the checks themselves fail, read from their messages."""
    ev = Evidence.__new__(Evidence)
    ev.start, ev.tail, ev.text, ev.duration_s, ev.prompt_background_db = start, tail, "Say it.", 1.4, room
    out = []
    for result in (check_start(ev, TH), check_tail(ev, TH)):
        if not result.passed:
            out += [part.split(" ", 1)[0] for part in result.message.split("\n")[0].split("; ")]
    return out


def _over(key: str) -> float:
    return TH[key] + (0.05 if key.endswith("_s") else 3.0)


START = {"lead_garbage_s": {}, "before_text_s": {"text_start_s": 0.4, "before_text_from_s": 0.1},
         "pre_onset_noise_db": {"pre_onset_s": 0.29}, "pre_onset_click_db": {"pre_onset_s": 0.29}}
TAIL = {"trail_garbage_s": {}, "after_text_s": {"text_end_s": 1.0, "after_text_to_s": 1.2},
        "post_offset_noise_db": {"post_offset_s": 0.3}, "tail_buzz_s": {}, "truncation_db": {}}


def test_a_clean_take_fails_nothing(clean: tuple[StartMetrics, TailMetrics]) -> None:
    s, t = clean
    assert failing_edges(s, t) == [] == _checked(s, t, None)


@pytest.mark.parametrize("key", list(START) + list(TAIL))
def test_each_criterion_over_its_limit_and_at_it(clean: tuple[StartMetrics, TailMetrics], key: str) -> None:
    s, t = clean
    for value, expected in ((_over(key), [key]), (TH[key], [])):
        if key in START:
            s2, t2 = replace(s, **{key: value, **START[key]}), t
        else:
            s2, t2 = s, replace(t, **{key: value, **TAIL[key]})
        assert failing_edges(s2, t2) == expected == _checked(s2, t2, None), (key, value)


def test_noise_in_a_stretch_too_short_to_measure_is_not_judged(clean: tuple[StartMetrics, TailMetrics]) -> None:
    s, t = clean
    s2 = replace(s, pre_onset_noise_db=-10.0, pre_onset_s=MEASURED_S - 0.01)
    t2 = replace(t, post_offset_noise_db=-10.0, post_offset_s=MEASURED_S - 0.01)
    assert failing_edges(s2, t2) == [] == _checked(s2, t2, None)
    s3 = replace(s2, pre_onset_s=MEASURED_S)
    assert failing_edges(s3, t2) == ["pre_onset_noise_db"] == _checked(s3, t2, None)


def test_a_cloned_takes_room_raises_the_noise_and_end_limits_alike(clean: tuple[StartMetrics, TailMetrics]) -> None:
    s, t = clean
    noisy = ["pre_onset_noise_db", "post_offset_noise_db", "truncation_db"]
    level = max(TH[k] for k in noisy) + 3.0  # over all three limits
    s2 = replace(s, pre_onset_noise_db=level, pre_onset_s=0.29)
    t2 = replace(t, post_offset_noise_db=level, post_offset_s=0.3, truncation_db=level)
    assert failing_edges(s2, t2) == noisy == _checked(s2, t2, None)
    room = level - TH["prompt_noise_margin_db"]  # the take's noise sits exactly at its allowance
    assert failing_edges(s2, t2, prompt_background_db=room) == [] == _checked(s2, t2, room)
    assert failing_edges(s2, t2, prompt_background_db=room - 1.0) == noisy == _checked(s2, t2, room - 1.0)


def test_thresholds_overlay_the_defaults(clean: tuple[StartMetrics, TailMetrics]) -> None:
    s, t = clean
    s2 = replace(s, lead_garbage_s=TH["lead_garbage_s"])
    assert failing_edges(s2) == []
    assert failing_edges(s2, thresholds={"lead_garbage_s": TH["lead_garbage_s"] - 0.01}) == ["lead_garbage_s"]


@pytest.mark.parametrize("side", ["start", "tail"])
def test_the_sonorant_edge_limit_over_and_at_it(clean: tuple[StartMetrics, TailMetrics], side: str) -> None:
    """The same sound outside the text, held to the lower limit where the text's edge phone is a
    vowel or sonorant; to before_text_s's / after_text_s's alone where it is an obstruent."""
    s, t = clean
    key = "before_sonorant_text_s" if side == "start" else "after_sonorant_text_s"
    for value, phone, expected in ((_over(key), "AH", [key]), (TH[key], "AH", []), (_over(key), "S", []),
                                   (_over(key.replace("sonorant_", "")), "N", [key.replace("sonorant_", ""), key])):
        if side == "start":
            s2, t2 = replace(s, before_text_s=value, text_first_phone=phone, **START["before_text_s"]), t
        else:
            s2, t2 = s, replace(t, after_text_s=value, text_last_phone=phone, **TAIL["after_text_s"])
        assert failing_edges(s2, t2) == expected == _checked(s2, t2, None), (key, value, phone)
