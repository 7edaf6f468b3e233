"""aligner._lead_pad: silence before a take only where it starts in sound (listeners/aligner.py;
tests/models/test_unvoiced_outside_text.py has the reason on real takes)."""
from __future__ import annotations

import numpy as np
import pytest

from pytest_luxgate.listeners import aligner

SR = 16_000
PAD = round(aligner.LEAD_PAD_S * SR)


def _tone(seconds: float) -> np.ndarray:
    return 0.3 * np.sin(2 * np.pi * 200 * np.arange(int(seconds * SR)) / SR)


def _quiet(seconds: float, rel_db: float = -80.0) -> np.ndarray:
    return 0.3 * 10 ** (rel_db / 20) * np.random.default_rng(0).standard_normal(int(seconds * SR))


@pytest.mark.parametrize("head, tail, want", [
    (0.1, 0.1, 0),    # silence first: the decoder has its own
    (0.1, 0.0, 0),    # sound to the last sample is not asked about
    (0.0, 0.1, PAD),  # sound from the first sample
    (0.0, 0.0, 0),    # sound throughout: no floor for the start to be over (a take has pauses)
])
def test_pads_only_a_take_that_starts_in_sound(head: float, tail: float, want: int) -> None:
    x = np.concatenate([_quiet(head), _tone(0.5), _quiet(tail)])
    assert aligner._lead_pad(x) == want


def test_a_room_at_the_start_is_the_floor_not_sound() -> None:
    """A recording's room, quiet or loud, is what its pauses hold too: not sound glued to the
    word. A burst over that floor is."""
    for room_db in (-50.0, -30.0):
        room = _quiet(0.3, room_db)
        x = np.concatenate([room[:1600], _tone(0.5), room[1600:]])
        assert aligner._lead_pad(x) == 0, room_db
        burst = 0.2 * np.random.default_rng(1).standard_normal(1600)  # as loud as the tone
        assert aligner._lead_pad(np.concatenate([burst, x])) == PAD, room_db


def test_digital_silence_needs_no_pad() -> None:
    assert aligner._lead_pad(np.zeros(SR)) == 0
