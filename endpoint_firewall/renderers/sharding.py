"""Stable sharding: split a large set over several groups so that adding or removing one value changes one
group, not every group after it (cutting a sorted list by position moves every later boundary)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def bucket_of(value: str, buckets: int) -> int:
    """A value's bucket among ``buckets`` (a power of two): the low bits of its SHA-256."""
    return int.from_bytes(hashlib.sha256(value.encode()).digest()[:8], "big") & (buckets - 1)


def stable_shards(
    values: Sequence[T],
    capacity: int,
    size: Callable[[T], int] = lambda _: 1,
    name: Callable[[T], str] = str,
    headroom: float = 0.25,
) -> list[tuple[int, list[T]]]:
    """``(bucket, values)`` pairs, each bucket's total ``size`` at most ``capacity``, values in input order.

    The bucket count is the smallest power of two that leaves ``headroom`` in an even split and fits every
    bucket; when it must double, each bucket splits in two (a value in bucket k stays in k or moves to
    k + n), so growth stays local too. Empty buckets are left out; bucket numbers stay stable for naming.
    """
    total = sum(size(v) for v in values)
    buckets = 1
    while buckets * capacity < total * (1 + headroom) and buckets < 2**20:
        buckets *= 2
    while True:
        shards: dict[int, list[T]] = {}
        for value in values:
            shards.setdefault(bucket_of(name(value), buckets), []).append(value)
        if buckets == 1 or all(sum(size(v) for v in shard) <= capacity for shard in shards.values()):
            return sorted(shards.items())
        buckets *= 2
