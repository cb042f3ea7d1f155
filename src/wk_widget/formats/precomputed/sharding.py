"""Chunk ids of sharded precomputed volumes: compressed Morton codes (the shard hash input)."""

from __future__ import annotations

from collections.abc import Sequence


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
