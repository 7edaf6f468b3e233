"""The persistent cache on real Piper speech: a take round-trips bit-exact; listener results
are reused by audio."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pytest_luxgate.run.cache import ContentCache, cache_get_take, cache_put_take, take_key
from pytest_luxgate.speech.synthesis import Take


KEY_ARGS = dict(stack="piper", describe={"model": "en_US-joe-medium", "model_version": "1.0"},
                prompt_hash="", text="Hello there.", params={"length_scale": 1.0}, seed=7,
                chunking={"max_chars": 100, "crossfade_ms": 30.0})


def test_take_round_trip_is_exact(tmp_path: Path, piper_take: tuple[np.ndarray, int, str]) -> None:
    audio, rate, text = piper_take
    cache = ContentCache(tmp_path, 1 << 30)
    take = Take(audio, rate, text, {"length_scale": 1.0}, 7, 0.5, {"sentences": 1},
                chunks=[text], seams=[1.25])
    key = take_key(**KEY_ARGS)
    assert cache_get_take(cache, key, text, {"length_scale": 1.0}, 7) is None
    cache_put_take(cache, key, take)
    got = cache_get_take(cache, key, text, {"length_scale": 1.0}, 7)
    assert got is not None and got.audio.dtype == np.float32
    assert np.array_equal(got.audio, audio) and got.sample_rate == rate  # bit-exact: same evidence
    assert got.chunks == [text] and got.seams == [1.25] and got.info == {"sentences": 1}
    assert got.synthesis_s == 0.0  # nothing was synthesized by this run


def test_listener_results_are_reused(tmp_path: Path, piper_take: tuple[np.ndarray, int, str]) -> None:
    """Listener results (DNSMOS, speaker similarity) are cached by audio like a transcript.

    The stored objects are the listeners' own result types; their values are given
    here because DNSMOS's lazily imported native stack cannot be loaded after an
    in-process pytester run in the same interpreter (this module runs several).
    """
    from pytest_luxgate.judging.analysis import analyze
    from pytest_luxgate.run.cache import keep_listeners, reuse_listeners
    from pytest_luxgate.listeners.dnsmos import MOS
    from pytest_luxgate.listeners.speaker import VoiceMatch

    audio, rate, text = piper_take
    cache = ContentCache(tmp_path, 1 << 30)
    cold = analyze(audio, rate, text, "tiny.en", seams=[])
    keys, reused = reuse_listeners(cache, cold, audio, rate, {"quality", "voice"}, "prompt-hash")
    assert reused == set() and cold.quality is None and cold.voice is None
    cold.quality, cold.voice = MOS(3.1, 3.4, 3.9, 3.6), VoiceMatch(0.83, 2.1, 4.0)  # as listen() sets them
    keep_listeners(cache, cold, keys, reused)
    warm = analyze(audio, rate, text, "tiny.en", seams=[])
    _, reused = reuse_listeners(cache, warm, audio, rate, {"quality", "voice"}, "prompt-hash")
    assert reused == {"quality", "voice"} and warm.quality == cold.quality and warm.voice == cold.voice
    # only what a check asks for; another prompt is another voice key; other audio, other keys
    only = analyze(audio, rate, text, "tiny.en", seams=[])
    assert reuse_listeners(cache, only, audio, rate, {"quality"}, "prompt-hash")[1] == {"quality"}
    assert only.voice is None
    assert reuse_listeners(cache, analyze(audio, rate, text, "tiny.en", seams=[]), audio, rate,
                           {"voice"}, "other-prompt")[1] == set()
    quiet = audio * 0.5
    assert reuse_listeners(cache, analyze(quiet, rate, text, "tiny.en", seams=[]), quiet, rate,
                           {"quality"}, "")[1] == set()
