"""Reading chunks out of shards, where Zarr v3 `sharding_indexed` and Neuroglancer's
`neuroglancer_uint64_sharded_v1` really do the same: read an index (or part of one) by
byte range, look up each chunk's (offset, nbytes), then read the chunks' ranges of the
shard with neighbours coalesced into one request.

What differs stays with the format: how an index is laid out and found (Zarr: one dense
table at the start or end of the shard; precomputed: shard-index entries, then a
minishard index per hashed chunk id), and what a short answer means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ...errors import CorruptChunkError
from ...storage import RequestMeter, Storage
from ...storage._loop import gather_or_cancel
from .ranges import COALESCE_GAP, coalesce_ranges

Range = tuple[int, int, int]  # (offset, nbytes, index into the caller's output)


async def read_range(
    storage: Storage, path: str, start: int, length: int, meters: Sequence[RequestMeter], *, suffix: bool = False
) -> bytes | None:
    """Bytes [start, start + length) of a shard (`suffix`: its last `length` bytes); None
    when it does not exist. A server that ignores Range sends the whole shard: cut to the
    range. A short answer is returned as is (the caller says what is truncated)."""
    if suffix:
        data = await storage.get_range(path, -length, None, meters=meters)
    else:
        data = await storage.get_range(path, start, length, meters=meters)
    if data is not None and len(data) > length:
        data = data[-length:] if suffix else data[start : start + length]
    return data


def chunk_ranges(
    found: Iterable[tuple[int, tuple[int, int] | None]], max_bytes: int, where: str, too_large: Callable[[int], str]
) -> list[Range]:
    """(offset, nbytes, i) of each chunk an index names ((i, None): not stored); a chunk
    larger than its shape allows for is refused before it is read."""
    ranges: list[Range] = []
    for i, entry in found:
        if entry is None:
            continue
        offset, nbytes = entry
        if nbytes > max_bytes:
            raise CorruptChunkError(where, too_large(nbytes))
        ranges.append((offset, nbytes, i))
    return ranges


async def read_chunks(
    storage: Storage,
    path: str,
    ranges: Sequence[Range],
    out: list[bytes | None],
    meters: Sequence[RequestMeter],
    short: Callable[[int, int, int], Exception] | None = None,
    gap: int = COALESCE_GAP,
) -> None:
    """Fill `out[i]` with each range's bytes, neighbours (at most `gap` bytes apart) sharing
    one request. A batch shorter than asked: `short(start, end, received)` is raised, or (None)
    the chunks come out short and their decoding reports them."""
    batches = coalesce_ranges(ranges, gap=gap)
    await gather_or_cancel(*(_read_batch(storage, path, b, out, meters, short) for b in batches))


async def _read_batch(
    storage: Storage,
    path: str,
    batch: tuple[int, int, list[Range]],
    out: list[bytes | None],
    meters: Sequence[RequestMeter],
    short: Callable[[int, int, int], Exception] | None,
) -> None:
    start, end, members = batch
    data = await read_range(storage, path, start, end - start, meters)
    if data is None:
        return
    if short is not None and len(data) < end - start:
        raise short(start, end, len(data))
    if len(members) == 1 and members[0][1] == len(data):
        out[members[0][2]] = bytes(data)
        return
    view = memoryview(data)
    for offset, nbytes, i in members:
        out[i] = bytes(view[offset - start : offset - start + nbytes])
