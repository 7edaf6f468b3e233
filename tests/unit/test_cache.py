"""The persistent take/transcript cache: storage, keys, budget, and warm reruns of the gate."""
from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
import pytest
from pytester_gate import read_report, run_gate

from pytest_luxgate.run.cache import CacheConfigError, ContentCache, asr_identity, cache_get_take, cache_put_take, parse_size, take_key
from pytest_luxgate.speech.synthesis import Take
from pytest_luxgate.core.types import Transcript, Word
from pytest_luxgate.plugin.xdist import comparable


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


def _scenarios(pytester: pytest.Pytester, b_params: str = "") -> None:
    d = pytester.mkdir("sc") if not (pytester.path / "sc").exists() else pytester.path / "sc"
    (d / "a.toml").write_text('id = "cache_a"\ntext = "Please call me back tomorrow morning."\n')
    (d / "b.toml").write_text(f'id = "cache_b"\ntext = "The garden is green after the rain."\n{b_params}')


def _cached(report: dict) -> dict[str, dict[str, bool]]:
    return {c["scenario"]: c["cached"] for c in report["cells"]}


def test_warm_rerun_reuses_everything_and_a_change_invalidates_only_its_cell(pytester: pytest.Pytester) -> None:
    # -p cacheprovider: undo the helper's -p no:cacheprovider, so the default place is used
    args = ("--luxgate-scenarios=sc", "--luxgate-scenario=cache_a,cache_b", "-p", "cacheprovider")
    _scenarios(pytester)
    run_gate(pytester, *args)
    cold = read_report(pytester)
    assert _cached(cold) == {s: {"synthesis": False, "asr": False} for s in ("cache_a", "cache_b")}
    assert list((pytester.path / ".pytest_cache" / "d" / "luxgate" / "synth").rglob("*.npz"))

    warm_run = run_gate(pytester, *args)
    warm = read_report(pytester)
    # a warm rerun synthesizes nothing and transcribes nothing, and reports the same
    assert _cached(warm) == {s: {"synthesis": True, "asr": True} for s in ("cache_a", "cache_b")}
    assert all(c["timings"]["synthesis_s"] == 0.0 for c in warm["cells"])
    assert comparable(warm) == comparable(cold)
    warm_run.stdout.fnmatch_lines(["*luxgate: cache *luxgate: 2/2 takes and 2/2 transcripts reused*"])

    # one scenario's parameter changes: only its cell is recomputed; a changed limit
    # re-judges the cached take of the other (thresholds are not part of any key)
    _scenarios(pytester, b_params="[params]\nlength_scale = 1.15\n")
    res = run_gate(pytester, *args, "--luxgate-threshold=rate_max_sps=1.0")
    changed = read_report(pytester)
    assert _cached(changed) == {"cache_a": {"synthesis": True, "asr": True},
                                "cache_b": {"synthesis": False, "asr": False}}  # new audio: new transcript
    assert not any(c["checks"]["rate"]["passed"] for c in changed["cells"])
    assert res.ret == pytest.ExitCode.TESTS_FAILED

    run_gate(pytester, *args, "--luxgate-no-cache")
    assert _cached(read_report(pytester))["cache_a"] == {"synthesis": False, "asr": False}
    run_gate(pytester, *args, "--cache-clear")  # pytest empties .pytest_cache, ours included
    assert _cached(read_report(pytester))["cache_a"] == {"synthesis": False, "asr": False}


def test_explicit_cache_dir_and_cache_clear(pytester: pytest.Pytester) -> None:
    args = ("--luxgate-scenarios=sc", "--luxgate-scenario=cache_a", "--luxgate-cache-dir=lxcache")
    _scenarios(pytester)
    run_gate(pytester, *args)
    assert list((pytester.path / "lxcache" / "asr").rglob("*.json"))
    run_gate(pytester, *args)
    assert _cached(read_report(pytester))["cache_a"] == {"synthesis": True, "asr": True}
    run_gate(pytester, *args, "-p", "cacheprovider", "--cache-clear")
    assert _cached(read_report(pytester))["cache_a"] == {"synthesis": False, "asr": False}
    bad = run_gate(pytester, *args, "--luxgate-cache-size=lots")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--luxgate-cache-size: expected bytes like 500M or 2G*"])


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
