"""Sharded precomputed volumes: chunk ids (compressed Morton codes, the shard hash input) and minishard indexes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def compressed_morton_code(position: Sequence[int], grid_shape: Sequence[int]) -> int:
    """The compressed Morton code of a grid cell (Neuroglancer's sharded chunk id)."""
    bits = [max(0, int(g) - 1).bit_length() for g in grid_shape]
    code = 0
    j = 0
    for i in range(max(bits, default=0)):
        for dim in range(3):
            if i < bits[dim]:
                code |= ((int(position[dim]) >> i) & 1) << j
                j += 1
    return code


class _MortonEncoder:
    """Compressed Morton codes by byte-wise lookup tables (a few operations per chunk)."""

    def __init__(self, grid_shape: Sequence[int]) -> None:
        bits = [max(0, int(g) - 1).bit_length() for g in grid_shape]
        # output bit position of each input bit per dim
        positions: list[list[int]] = [[], [], []]
        j = 0
        for i in range(max(bits, default=0)):
            for dim in range(3):
                if i < bits[dim]:
                    positions[dim].append(j)
                    j += 1
        self._tables: list[list[list[int]]] = []
        for dim in range(3):
            pos = positions[dim]
            tables = []
            for byte in range((len(pos) + 7) // 8):
                table = []
                for value in range(256):
                    code = 0
                    for b in range(8):
                        k = byte * 8 + b
                        if k < len(pos) and (value >> b) & 1:
                            code |= 1 << pos[k]
                    table.append(code)
                tables.append(table)
            self._tables.append(tables)

    def __call__(self, position: Sequence[int]) -> int:
        code = 0
        for dim, tables in enumerate(self._tables):
            v = position[dim]
            for table in tables:
                code |= table[v & 0xFF]
                v >>= 8
        return code


class _MinishardIndex:
    """A decoded minishard index: chunk ids (sorted) and their absolute byte ranges."""

    __slots__ = ("ids", "nbytes", "sizes", "starts")

    def __init__(self, ids: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> None:
        self.ids = ids
        self.starts = starts
        self.sizes = sizes
        self.nbytes = ids.nbytes + starts.nbytes + sizes.nbytes

    def lookup(self, chunk_id: int) -> tuple[int, int] | None:
        ids = self.ids
        pos = int(np.searchsorted(ids, np.uint64(chunk_id)))
        if pos < len(ids) and int(ids[pos]) == chunk_id:
            return int(self.starts[pos]), int(self.sizes[pos])
        return None


def _minishard_nbytes(index: _MinishardIndex | None) -> int:
    return index.nbytes + 64 if index is not None else 0


def parse_minishard_index(data: bytes, index_end: int) -> _MinishardIndex:
    """The (decompressed) minishard index table: 3 rows of delta-coded uint64 (chunk ids,
    gaps before each chunk, sizes); offsets count from the end of the shard index."""
    table = np.frombuffer(data, dtype="<u8").reshape(3, -1)
    ids = np.cumsum(table[0], dtype=np.uint64)
    sizes = table[2].astype(np.uint64)
    gaps = table[1].astype(np.uint64)
    # start_i = index_end + sum(gaps[0..i]) + sum(sizes[0..i-1])
    starts = np.cumsum(gaps, dtype=np.uint64)
    if len(sizes) > 1:
        starts[1:] += np.cumsum(sizes[:-1], dtype=np.uint64)
    starts += np.uint64(index_end)
    if len(ids) > 1 and not bool((ids[1:] >= ids[:-1]).all()):
        order = np.argsort(ids, kind="stable")
        ids, starts, sizes = ids[order], starts[order], sizes[order]
    return _MinishardIndex(ids, starts, sizes)
