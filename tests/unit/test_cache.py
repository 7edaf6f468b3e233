"""The persistent take/transcript cache: storage, keys, budget (no model, no gate run).

With real speech: tests/models/test_cache_takes.py; warm reruns of the gate:
tests/integration/test_cache_gate.py.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
import pytest

from pytest_luxgate.run.cache import CacheConfigError, ContentCache, asr_identity, parse_size, take_key
from pytest_luxgate.core.types import Transcript, Word

KEY_ARGS = dict(stack="piper", describe={"model": "en_US-joe-medium", "model_version": "1.0"},
                prompt_hash="", text="Hello there.", params={"length_scale": 1.0}, seed=7,
                chunking={"max_chars": 100, "crossfade_ms": 30.0})


def test_every_key_field_changes_the_key() -> None:
    base = take_key(**KEY_ARGS)
    assert take_key(**KEY_ARGS) == base
    changes = {"stack": "mlx", "describe": {"model": "en_US-joe-medium", "model_version": "1.1"},
               "prompt_hash": "abc", "text": "Hello there!", "params": {"length_scale": 1.1},
               "seed": 8, "chunking": {"max_chars": 60, "crossfade_ms": 30.0}}
    for field, value in changes.items():
        assert take_key(**{**KEY_ARGS, field: value}) != base, field


def test_asr_identity_names_model_and_weights() -> None:
    tiny, base = asr_identity("faster-whisper:tiny.en"), asr_identity("base")
    assert tiny != base and tiny["model"] == "tiny.en" and tiny["weights"] != "-"
    assert asr_identity("tiny.en") == tiny  # a bare name means faster-whisper


def test_transcript_round_trip_and_corrupt_entry_is_a_miss(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path, 1 << 30)
    t = Transcript("hello there", (Word("hello", 0.1, 0.4, 0.9), Word("there", 0.5, 0.8, None)), "m", "en")
    cache.put_transcript("ab" * 32, t)
    assert cache.get_transcript("ab" * 32) == t
    path = next((tmp_path / "asr").rglob("*.json"))
    path.write_text("{trunc")
    assert cache.get_transcript("ab" * 32) is None


def test_budget_evicts_least_recently_used(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path, 0)
    for i, key in enumerate(("aa" * 32, "bb" * 32, "cc" * 32)):
        cache.put_take(key, np.zeros(250, np.float32), 16000, {"n": i})  # same size each
        os.utime(cache._path("synth", key, ".npz"), (1000 + i, 1000 + i))
    one = cache._path("synth", "aa" * 32, ".npz").stat().st_size
    cache.max_bytes = 2 * one + one // 2  # room for two of the three
    assert cache.get_take("aa" * 32) is not None  # a hit makes the oldest entry the newest
    freed = cache.evict()
    assert freed == one and cache.size() <= cache.max_bytes
    assert cache.get_take("bb" * 32) is None  # least recently used: gone
    assert cache.get_take("aa" * 32) is not None and cache.get_take("cc" * 32) is not None


@pytest.mark.parametrize("text,expected", [("500M", 500 << 20), ("2G", 2 << 30), ("1024", 1024),
                                           ("1.5k", 1536), ("2GiB", 2 << 30)])
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


def test_parse_size_rejects_garbage() -> None:
    with pytest.raises(CacheConfigError, match="--luxgate-cache-size"):
        parse_size("lots")


def _writer(root: str, seed: int) -> None:
    cache = ContentCache(Path(root), 1 << 30)
    audio = np.random.default_rng(0).standard_normal(200_000).astype(np.float32)
    for _ in range(20):
        cache.put_take("dd" * 32, audio, 22050, {"seed": seed % 1})


def test_concurrent_writers_never_leave_a_torn_entry(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), i)) for i in range(3)]
    for p in procs:
        p.start()
    cache = ContentCache(tmp_path, 1 << 30)
    reads = 0
    while any(p.is_alive() for p in procs):
        got = cache.get_take("dd" * 32)
        if got is not None:  # whenever an entry is visible, it is whole
            assert got.audio.shape == (200_000,)
            reads += 1
        time.sleep(0.005)
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert cache.get_take("dd" * 32) is not None
    assert not list((tmp_path / "synth").rglob(".tmp-*")), "temp files left behind"
