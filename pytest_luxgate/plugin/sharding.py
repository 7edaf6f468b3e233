"""Deterministic sharding of the matrix over CI machines: ``--luxgate-shard I/N``.

Whole cells are the unit (all checks of a cell share one synthesis, so a cell
split over two machines would be synthesized twice and reported in halves).
pytest-split (``--splits N --group I``) and pytest-shard (``--num-shards/
--shard-id``) split *test items* — by recorded durations or by node-id hash —
and neither keeps a cell's tests together, so the gate shards cells itself,
using pytest-split's 1-based ``I of N`` convention.

Assignment: cells sorted by the SHA-256 of their key (``stack/prompt/scenario``)
are dealt round-robin to the shards. That depends only on the set of cells
(not on option order, machine or Python's hash seed), and shard sizes differ
by at most one cell.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard | None:
    """``"2/3"`` -> Shard(2, 3); ``""`` -> None (no sharding)."""
    text = text.strip()
    if not text:
        return None
    i, sep, n = text.partition("/")
    try:
        shard = Shard(int(i), int(n))
    except ValueError:
        shard = None
    if not sep or shard is None or not 1 <= shard.index <= shard.count:
        raise ValueError(f"--luxgate-shard: expected I/N with 1 <= I <= N (e.g. 1/3), got {text!r}")
    return shard


def _rank(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def assign(keys: Iterable[str], count: int) -> dict[str, int]:
    """Cell key -> its 1-based shard."""
    ordered = sorted(set(keys), key=lambda k: (_rank(k), k))
    return {key: i % count + 1 for i, key in enumerate(ordered)}


def shard_cells(keys: Iterable[str], shard: Shard) -> list[str]:
    """The keys of `keys` that belong to `shard`, in the given order."""
    keys = list(keys)
    owner = assign(keys, shard.count)
    return [k for k in keys if owner[k] == shard.index]
