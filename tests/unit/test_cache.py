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


def test_an_entry_that_is_not_what_it_claims_is_a_miss(tmp_path: Path) -> None:
    """Copied over another key, truncated, one audio sample changed, header edited: all misses."""
    cache = ContentCache(tmp_path / "c", 1 << 30)
    a, b = "aa" * 32, "bb" * 32
    audio = np.linspace(-0.5, 0.5, 1600, dtype=np.float32)
    cache.put_take(a, audio, 16000, {"n": 1})
    cache.put_take(b, audio[::-1].copy(), 16000, {"n": 2})
    assert cache.get_take(a).meta == {"n": 1} and cache.get_take(b).meta == {"n": 2}
    pa, pb = cache._path("synth", a, ".npz"), cache._path("synth", b, ".npz")
    good_a = pa.read_bytes()
    pb.write_bytes(good_a)  # a's entry under b's key
    assert cache.get_take(b) is None and cache.get_take(a) is not None
    pa.write_bytes(good_a[: len(good_a) // 2])  # truncated
    assert cache.get_take(a) is None
    flipped = bytearray(good_a)
    flipped[-200] ^= 0x01  # one byte of the payload
    pa.write_bytes(bytes(flipped))
    assert cache.get_take(a) is None
    # the same audio bytes changed inside a validly sealed entry: the audio hash catches it
    import io

    from pytest_luxgate.run.cache import seal, unseal
    with np.load(io.BytesIO(unseal(a, good_a)), allow_pickle=False) as z:
        meta, stored = bytes(z["meta"]), np.array(z["audio"])
    stored[10] += 0.25
    buf = io.BytesIO()
    np.savez(buf, audio=stored, meta=np.frombuffer(meta, dtype=np.uint8))
    pa.write_bytes(seal(a, buf.getvalue()))
    assert cache.get_take(a) is None
    pa.write_bytes(good_a)
    assert cache.get_take(a) is not None  # and whole again: a hit
    # transcripts and blobs: the same seal
    t = Transcript("hello", (Word("hello", 0.1, 0.4, 0.9),), "m", "en")
    cache.put_transcript(a, t)
    cache.put_blob("plots", a, b"jpeg bytes")
    pt = cache._path("asr", a, ".json")
    pt.write_bytes(pt.read_bytes().replace(b"hello", b"jello"))
    assert cache.get_transcript(a) is None
    cache._path("plots", b, ".bin").parent.mkdir(parents=True, exist_ok=True)
    cache._path("plots", b, ".bin").write_bytes(cache._path("plots", a, ".bin").read_bytes())
    assert cache.get_blob("plots", a) == b"jpeg bytes" and cache.get_blob("plots", b) is None


def test_a_link_planted_in_the_cache_is_never_written_through(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cache = ContentCache(tmp_path / "c", 1 << 30)
    key = "cd" * 32
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "synth").symlink_to(elsewhere, target_is_directory=True)  # a directory link
    cache.put_take(key, np.zeros(160, np.float32), 16000, {})
    path = cache._path("asr", key, ".json")
    path.parent.mkdir(parents=True)
    path.symlink_to(elsewhere / "x.json")  # a file link at the entry's own name
    cache.put_transcript(key, Transcript("hi", (), "m", "en"))
    assert list(elsewhere.iterdir()) == []
    assert not (tmp_path / "c" / "synth").is_symlink() and cache.get_take(key) is not None
    assert not path.is_symlink() and cache.get_transcript(key).text == "hi"
