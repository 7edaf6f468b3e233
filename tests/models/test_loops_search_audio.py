"""The sparse loop search equals the full one (tests/loops_reference.py) on real speech.

Piper takes of the five standard scenarios (as the gate makes them), the same
takes with copy-paste loops pasted in (the injector the detector tests use), a
re-synthesised loop, espeak-ng speech and the held-out human recordings: the raw
candidate list (every emitted path, in order) must be equal, so LoopMetrics is too. The
reference sums its similarities in the search's order (see tests/unit/test_loops_search.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import speech_corpus as C
from loops_reference import align_full, sequential_similarity

from pytest_luxgate.metrics import loops

MIN_LAG = round(loops.MIN_LAG_S / loops.HOP_S)
MIN_LEN = round(loops.MIN_REPEAT_S / loops.HOP_S)
MAX_LAG = round(loops.MAX_LAG_S / loops.HOP_S)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, C.Clip]:
    from pytest_luxgate.matrix.scenarios import load_dirs, standard_dir
    from pytest_luxgate.stacks.piper import PiperStack

    cache = tmp_path_factory.mktemp("loops_audio")
    stack = PiperStack()
    stack.load()
    out: dict[str, C.Clip] = {}
    for k, sc in enumerate(load_dirs([standard_dir()])):
        s = stack.synthesize(sc.text, None, stack.default_params(), seed=1234)
        clip = C.Clip(sc.id, s.audio, s.sample_rate, sc.text, *C.speech_bounds(s.audio, s.sample_rate))
        out[sc.id] = clip
        out[f"{sc.id}/loop_copy"] = C.loop_copy(clip, np.random.default_rng([18, k]))
    out["loop_resynth"] = C.loop_resynth("The quick brown fox jumps over the lazy dog", "over the lazy dog",
                                         cache, seed=21)
    out["espeak"] = C.make_clip(C.ClipSpec("fox", "espeak", voice="en-gb+m1", speed=160), cache)
    for name in C.HUMAN_TEXTS:
        out[name] = C.human_clip(name)
    return out


def test_sparse_search_equals_the_full_search_on_speech(clips: dict[str, C.Clip]) -> None:
    found = 0
    for key, clip in clips.items():
        f, voiced = loops._features(clip.audio, clip.sr)
        want = align_full(f, voiced, MIN_LAG, MIN_LEN, MAX_LAG, sequential_similarity)
        assert loops._align(f, voiced, MIN_LAG, MIN_LEN, MAX_LAG) == want, key
        found += bool(want)
    assert found >= 5  # the loops, at least, emit candidates: equal empty lists prove nothing


def test_loop_metrics_of_the_injected_loops(clips: dict[str, C.Clip]) -> None:
    """What the gate reads: the pasted loops are still over the limit."""
    for key, clip in clips.items():
        if key.endswith("/loop_copy") or key == "loop_resynth":
            assert loops.audio_loops(clip.audio, clip.sr).longest_repeat_s > loops.DEFAULTS["longest_repeat_s"], key
