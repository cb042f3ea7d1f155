"""Byte ranges of one object: coalescing neighbouring reads (shard indexes and chunks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

COALESCE_GAP = 64 * 1024  # bytes between two wanted ranges of one object that are read along
MAX_COALESCED = 16 * 1024 * 1024  # at most this many bytes per coalesced request

RangeT = TypeVar("RangeT")


def coalesce_ranges(
    ranges: Sequence[tuple[int, int, RangeT]], gap: int = COALESCE_GAP, max_size: int = MAX_COALESCED
) -> list[tuple[int, int, list[tuple[int, int, RangeT]]]]:
    """Group (offset, nbytes, tag) ranges of one object into requests [start, end) with their
    members: neighbours at most `gap` bytes apart share a request of at most `max_size`."""
    if not ranges:
        return []
    ordered = sorted(ranges, key=lambda r: (r[0], r[1]))
    batches: list[tuple[int, int, list[tuple[int, int, RangeT]]]] = []
    start, end = ordered[0][0], ordered[0][0] + ordered[0][1]
    members = [ordered[0]]
    for r in ordered[1:]:
        r_end = r[0] + r[1]
        if r[0] - end <= gap and max(end, r_end) - start <= max_size:
            members.append(r)
            end = max(end, r_end)
        else:
            batches.append((start, end, members))
            start, end, members = r[0], r_end, [r]
    batches.append((start, end, members))
    return batches
