"""compressed_segmentation chunks: validation of the block headers before decoding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class _Bad(Exception):
    """A chunk that cannot be decoded (becomes a CorruptChunkError naming the chunk)."""


_CSEG_BITS = np.array([0, 1, 2, 4, 8, 16, 32], dtype=np.int64)


def _cseg_block_max_index(words: np.ndarray, start: int, bits: int, block_voxels: int) -> int:
    nwords = (block_voxels * bits + 31) // 32
    packed = words[start : start + nwords].astype(np.uint64)
    per_word = 32 // bits
    shifts = np.arange(per_word, dtype=np.uint64) * np.uint64(bits)
    values = (packed[:, None] >> shifts[None, :]) & np.uint64((1 << bits) - 1)
    return int(values.reshape(-1)[:block_voxels].max(initial=0))


def validate_compressed_segmentation(
    data: bytes, volume: Sequence[int], channels: int, block: Sequence[int], item_words: int
) -> None:
    """Check every offset of a compressed_segmentation stream before the C decoder (which
    trusts them: a corrupt stream would make it read out of bounds)."""
    if len(data) % 4:
        raise _Bad(f"length {len(data)} is not a multiple of 4")
    words = np.frombuffer(data, dtype="<u4")
    n = len(words)
    if n < channels:
        raise _Bad("too short for the channel offsets")
    grid = [-(-int(v) // int(b)) for v, b in zip(volume, block, strict=True)]
    nblocks = grid[0] * grid[1] * grid[2]
    block_voxels = int(block[0]) * int(block[1]) * int(block[2])
    for c in range(channels):
        base = int(words[c])
        if base + 2 * nblocks > n:
            raise _Bad(f"channel {c}: block headers beyond the end of the data")
        header = words[base : base + 2 * nblocks].reshape(nblocks, 2).astype(np.int64)
        table = (header[:, 0] & 0xFFFFFF) + base
        bits = header[:, 0] >> 24
        values = header[:, 1] + base
        if not np.isin(bits, _CSEG_BITS).all():
            raise _Bad(f"channel {c}: invalid encoded bit width")
        value_words = (block_voxels * bits + 31) // 32
        if (values + value_words > n).any():
            raise _Bad(f"channel {c}: encoded values beyond the end of the data")
        # Tables must hold the largest index used; check cheaply by the bit width, and
        # exactly (unpacking the indices) for blocks whose bound alone does not fit.
        table_end = table + (np.left_shift(np.int64(1), bits)) * item_words
        for b in np.nonzero(table_end > n)[0]:
            nbits = int(bits[b])
            top = _cseg_block_max_index(words, int(values[b]), nbits, block_voxels) if nbits else 0
            if int(table[b]) + (top + 1) * item_words > n:
                raise _Bad(f"channel {c}: lookup table beyond the end of the data")
