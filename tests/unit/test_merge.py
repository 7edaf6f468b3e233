"""Sharding the matrix over machines (--luxgate-shard) and `luxgate merge`."""
from __future__ import annotations

from pathlib import Path

import pytest

from pytest_luxgate.cli import main as luxgate
from pytest_luxgate.plugin.sharding import Shard, assign, parse_shard, shard_cells

KEYS = [f"piper/own_voice/s{i}" for i in range(11)] + [f"mlx/prompt_{p}/s{i}" for p in "ab" for i in range(5)]


def test_shards_partition_whole_cells_evenly_and_deterministically() -> None:
    for n in (1, 2, 3, 7):
        owner = assign(KEYS, n)
        sizes = [sum(1 for s in owner.values() if s == i) for i in range(1, n + 1)]
        assert sum(sizes) == len(KEYS) and max(sizes) - min(sizes) <= 1
        assert assign(list(reversed(KEYS)), n) == owner  # option/matrix order does not matter
        parts = [shard_cells(KEYS, Shard(i, n)) for i in range(1, n + 1)]
        assert sorted(k for part in parts for k in part) == sorted(KEYS)


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_bad_shard_is_a_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match="--luxgate-shard: expected I/N"):
        parse_shard(text)


def test_no_shard() -> None:
    assert parse_shard("") is None and parse_shard("2/3") == Shard(2, 3)


def test_merge_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "x.json").write_text("{not json")
    assert luxgate(["merge", str(tmp_path / "x.json"), "-o", str(tmp_path / "o")]) == 2
    assert "x.json: not JSON" in capsys.readouterr().err
    assert luxgate(["merge", str(tmp_path / "missing.json"), "-o", str(tmp_path / "o")]) == 2
    assert "missing.json: cannot read it" in capsys.readouterr().err
