"""MurmurHash3_x86_128 (Austin Appleby's public-domain algorithm), pure Python and numpy.

Neuroglancer's sharded format hashes chunk ids with it ("murmurhash3_x86_128", seed 0,
the uint64 id in little-endian, the low 8 bytes of the 128-bit result as a little-endian
uint64). `murmurhash3_x86_128` is the general byte-string function (verified against the
published test vectors and SMHasher's verification value); `hash64_uint64` is the fast
path for one 8-byte key and `hash64_uint64_array` the vectorised one for many.
"""

from __future__ import annotations

import numpy as np

_M32 = 0xFFFFFFFF
_C1 = 0x239B961B
_C2 = 0xAB0E9789
_C3 = 0x38B34AE5
_C4 = 0xA1E38B93


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def fmix32(h: int) -> int:
    """MurmurHash3's 32-bit finalizer (h < 2**32)."""
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h


def murmurhash3_x86_128(data: bytes, seed: int = 0) -> int:
    """The 128-bit hash of `data` as an int (its 16 little-endian bytes = h1, h2, h3, h4)."""
    length = len(data)
    h1 = h2 = h3 = h4 = seed & _M32
    nblocks = length // 16
    for i in range(nblocks):
        base = i * 16
        k1 = int.from_bytes(data[base : base + 4], "little")
        k2 = int.from_bytes(data[base + 4 : base + 8], "little")
        k3 = int.from_bytes(data[base + 8 : base + 12], "little")
        k4 = int.from_bytes(data[base + 12 : base + 16], "little")

        k1 = (_rotl((k1 * _C1) & _M32, 15) * _C2) & _M32
        h1 ^= k1
        h1 = (_rotl(h1, 19) + h2) & _M32
        h1 = (h1 * 5 + 0x561CCD1B) & _M32

        k2 = (_rotl((k2 * _C2) & _M32, 16) * _C3) & _M32
        h2 ^= k2
        h2 = (_rotl(h2, 17) + h3) & _M32
        h2 = (h2 * 5 + 0x0BCAA747) & _M32

        k3 = (_rotl((k3 * _C3) & _M32, 17) * _C4) & _M32
        h3 ^= k3
        h3 = (_rotl(h3, 15) + h4) & _M32
        h3 = (h3 * 5 + 0x96CD1C35) & _M32

        k4 = (_rotl((k4 * _C4) & _M32, 18) * _C1) & _M32
        h4 ^= k4
        h4 = (_rotl(h4, 13) + h1) & _M32
        h4 = (h4 * 5 + 0x32AC3B17) & _M32

    tail = data[nblocks * 16 :]
    rest = len(tail)
    if rest > 12:
        k4 = int.from_bytes(tail[12:rest], "little")
        h4 ^= (_rotl((k4 * _C4) & _M32, 18) * _C1) & _M32
    if rest > 8:
        k3 = int.from_bytes(tail[8 : min(rest, 12)], "little")
        h3 ^= (_rotl((k3 * _C3) & _M32, 17) * _C4) & _M32
    if rest > 4:
        k2 = int.from_bytes(tail[4 : min(rest, 8)], "little")
        h2 ^= (_rotl((k2 * _C2) & _M32, 16) * _C3) & _M32
    if rest > 0:
        k1 = int.from_bytes(tail[0 : min(rest, 4)], "little")
        h1 ^= (_rotl((k1 * _C1) & _M32, 15) * _C2) & _M32

    return _finalize(h1, h2, h3, h4, length)


def _finalize(h1: int, h2: int, h3: int, h4: int, length: int) -> int:
    """The 128-bit result from the four lanes after the body (MurmurHash3_x86_128)."""
    h1 ^= length
    h2 ^= length
    h3 ^= length
    h4 ^= length
    h1 = (h1 + h2 + h3 + h4) & _M32
    h2 = (h2 + h1) & _M32
    h3 = (h3 + h1) & _M32
    h4 = (h4 + h1) & _M32
    h1 = fmix32(h1)
    h2 = fmix32(h2)
    h3 = fmix32(h3)
    h4 = fmix32(h4)
    h1 = (h1 + h2 + h3 + h4) & _M32
    h2 = (h2 + h1) & _M32
    h3 = (h3 + h1) & _M32
    h4 = (h4 + h1) & _M32
    return h1 | (h2 << 32) | (h3 << 64) | (h4 << 96)


def hash64_uint64(value: int) -> int:
    """Low 64 bits of MurmurHash3_x86_128(seed 0) of one uint64 in little-endian (fast path)."""
    k1 = value & _M32
    k2 = (value >> 32) & _M32
    h1 = (_rotl((k1 * _C1) & _M32, 15) * _C2) & _M32
    h2 = (_rotl((k2 * _C2) & _M32, 16) * _C3) & _M32
    return _finalize(h1, h2, 0, 0, 8) & 0xFFFFFFFFFFFFFFFF


def _rotl_np(x: np.ndarray, r: int) -> np.ndarray:
    return ((x << np.uint64(r)) | (x >> np.uint64(32 - r))) & np.uint64(_M32)


def _fmix_np(h: np.ndarray) -> np.ndarray:
    m = np.uint64(_M32)
    h = h ^ (h >> np.uint64(16))
    h = (h * np.uint64(0x85EBCA6B)) & m
    h = h ^ (h >> np.uint64(13))
    h = (h * np.uint64(0xC2B2AE35)) & m
    h = h ^ (h >> np.uint64(16))
    return h


def hash64_uint64_array(values: np.ndarray) -> np.ndarray:
    """`hash64_uint64` of every element of a uint64 array (vectorised)."""
    v = np.asarray(values, dtype=np.uint64)
    m = np.uint64(_M32)
    k1 = v & m
    k2 = v >> np.uint64(32)
    h1 = (_rotl_np((k1 * np.uint64(_C1)) & m, 15) * np.uint64(_C2)) & m
    h2 = (_rotl_np((k2 * np.uint64(_C2)) & m, 16) * np.uint64(_C3)) & m
    eight = np.uint64(8)
    h1 = h1 ^ eight
    h2 = h2 ^ eight
    h3 = np.full_like(h1, 8)
    h4 = np.full_like(h1, 8)
    h1 = (h1 + h2 + h3 + h4) & m
    h2 = (h2 + h1) & m
    h3 = (h3 + h1) & m
    h4 = (h4 + h1) & m
    h1 = _fmix_np(h1)
    h2 = _fmix_np(h2)
    h3 = _fmix_np(h3)
    h4 = _fmix_np(h4)
    h1 = (h1 + h2 + h3 + h4) & m
    h2 = (h2 + h1) & m
    return h1 | (h2 << np.uint64(32))
