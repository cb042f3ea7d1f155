"""Neuroglancer precomputed volumes: the `info` explorer and the chunk reader.

- `parse_info` / `parse_scale` turn an `info` file into typed `PrecomputedScale`s (pure).
- `EXPLORERS` holds the "precomputed" explorer: one layer per `info`, one mag per scale.
- `open_reader` builds a `PrecomputedReader` for one scale: unsharded chunk files
  (`x0-x1_y0-y1_z0-z1`, absolute coordinates) or the `neuroglancer_uint64_sharded_v1`
  format (compressed Morton chunk ids, identity / murmurhash3_x86_128 hashes, raw or gzip
  minishard indices and data), with raw, jpeg, png, compressed_segmentation, compresso
  (cloud-volume / igneous segmentations; the `compresso` package) and jxl (JPEG XL laid out
  like jpeg; imagecodecs) chunks. Codec modules are imported when a reader is made, so a
  missing one is an UnsupportedDataError naming the package (`_codecs`).

Reader dims are (x, y, z, c), F order as stored: axis order {"x": 0, "y": 1, "z": 2, "c": 3}.
The reader's array is in absolute voxel coordinates: `shape` = voxel_offset + size and
`grid_origin` = (voxel_offset..., 0), so chunk `coord` is the grid cell relative to the
voxel offset (what the sharded format's chunk ids count).

Sharded reads: per shard, the needed 16-byte shard-index entries are read once (entries of
neighbouring minishards in one small range), then the minishard indices (cached, bounded
LRU), then the chunks' byte ranges, with neighbours (gap <= 64 KiB) coalesced into one
request. A shard file that does not exist is remembered (its chunks read as missing).

Decisions where the spec is silent:
- mag = resolution / first scale's resolution, rounded, a power of two per axis (else
  UnsupportedDataError); a second scale with an already seen resolution is skipped.
- `largestSegmentId` is None (the format declares none); `type` decides the category
  ("precomputed-type"), the name heuristic only when `type` is absent.
- Chunks stored at the full chunk size at the upper edge (some writers pad) are cropped;
  unsharded raw / compressed_segmentation chunks that arrive gzip-compressed (objects
  stored with Content-Encoding gzip and read without decoding) are gunzipped.
- compressed_segmentation streams are bounds-checked before the C decoder runs: it trusts
  every offset, and a corrupt chunk would otherwise crash the process.
"""

from __future__ import annotations

import asyncio
import json
import math
import zlib
from collections import OrderedDict
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

from ...errors import (
    CorruptChunkError,
    MalformedMetadataError,
    RemoteDatasetError,
    SourceNotFoundError,
    UnsupportedDataError,
)
from ...storage import RequestMeter, SourceURI, Storage
from ...storage._loop import gather_or_cancel
from .._shared import limits as _limits
from .._shared.axis_order import PRECOMPUTED as PRECOMPUTED_AXIS_ORDER
from .._shared.codecs import codec_module, imagecodecs_codec
from .._shared.compresso import decode_compresso
from .._shared.layers import category_from_name, sanitize_name
from .._shared.murmur import hash64_uint64
from .._shared.ranges import COALESCE_GAP, coalesce_ranges
from ..base import (
    ArrayReader,
    BoundingBox,
    Category,
    DataFormat,
    ExploreContext,
    Explorer,
    Format,
    LayerSpec,
    MagSpec,
    NotThisFormat,
    element_class_of,
)

__all__ = [
    "AXIS_ORDER",
    "EXPLORERS",
    "PrecomputedReader",
    "PrecomputedScale",
    "ShardingSpec",
    "compressed_morton_code",
    "fetch_scale",
    "open_reader",
    "parse_info",
    "parse_scale",
    "validate_compressed_segmentation",
]

AXIS_ORDER = {"x": 0, "y": 1, "z": 2, "c": 3}
ENCODINGS = ("raw", "jpeg", "png", "compressed_segmentation", "compresso", "jxl")
# encoding -> (module that decodes it, imagecodecs codec it needs or None); imported when a
# reader is made, so a missing package is an UnsupportedDataError, not a corrupt chunk
_CODEC_MODULES: dict[str, tuple[str, str | None]] = {
    "jpeg": ("imagecodecs", "JPEG8"),
    "png": ("imagecodecs", "PNG"),
    "jxl": ("imagecodecs", "JPEGXL"),
    "compressed_segmentation": ("compressed_segmentation", None),
    "compresso": ("compresso", None),
}
_INFO = "info"
INDEX_CACHE_ENTRIES = 8192  # minishard indices and shard-index entries kept per reader
INDEX_CACHE_BYTES = 128 * 1024 * 1024
_MISSING: Any = object()
_GZIP_MAGIC = b"\x1f\x8b"

T = TypeVar("T")

# --------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardingSpec:
    """A `neuroglancer_uint64_sharded_v1` sharding specification."""

    preshift_bits: int
    hash: str  # "identity" | "murmurhash3_x86_128"
    minishard_bits: int
    shard_bits: int
    minishard_index_encoding: str  # "raw" | "gzip"
    data_encoding: str  # "raw" | "gzip"

    @classmethod
    def from_json(cls, doc: Any, where: str) -> ShardingSpec:
        if not isinstance(doc, dict):
            raise MalformedMetadataError(where, "sharding must be a JSON object")
        kind = doc.get("@type")
        if kind != "neuroglancer_uint64_sharded_v1":
            raise UnsupportedDataError(
                where, f"unsupported sharding {kind!r}; only neuroglancer_uint64_sharded_v1"
            )

        def bits(name: str) -> int:
            value = doc.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 64:
                raise MalformedMetadataError(
                    where, f"sharding {name} must be an integer in [0, 64], not {value!r}"
                )
            return value

        preshift, minishard, shard = (
            bits("preshift_bits"),
            bits("minishard_bits"),
            bits("shard_bits"),
        )
        if minishard + shard > 64:
            raise MalformedMetadataError(where, "sharding minishard_bits + shard_bits exceed 64")
        hash_name = doc.get("hash")
        if hash_name not in ("identity", "murmurhash3_x86_128"):
            raise UnsupportedDataError(
                where, f"unsupported sharding hash {hash_name!r}; identity or murmurhash3_x86_128"
            )
        encodings = []
        for name in ("minishard_index_encoding", "data_encoding"):
            value = doc.get(name, "raw")
            if value not in ("raw", "gzip"):
                raise UnsupportedDataError(
                    where, f"unsupported sharding {name} {value!r}; raw or gzip"
                )
            encodings.append(value)
        return cls(preshift, hash_name, minishard, shard, encodings[0], encodings[1])


@dataclass(frozen=True)
class PrecomputedScale:
    """One scale of a precomputed volume (what `MagSpec.array_meta` holds)."""

    key: str
    dtype: np.dtype[Any]  # native byte order
    num_channels: int
    size: tuple[int, int, int]
    voxel_offset: tuple[int, int, int]
    chunk_size: tuple[int, int, int]
    resolution: tuple[float, float, float]  # nanometers
    encoding: str  # one of ENCODINGS
    compressed_segmentation_block_size: tuple[int, int, int] | None = None
    sharding: ShardingSpec | None = None
    volume_type: str | None = None  # "image" | "segmentation" | None

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """Reader shape (x, y, z, c) in absolute coordinates."""
        vo, sz = self.voxel_offset, self.size
        return (vo[0] + sz[0], vo[1] + sz[1], vo[2] + sz[2], self.num_channels)

    @property
    def grid_shape(self) -> tuple[int, int, int]:
        return tuple(-(-s // c) for s, c in zip(self.size, self.chunk_size, strict=True))  # type: ignore[return-value]


def _ints(
    value: Any, what: str, where: str, *, n: int = 3, minimum: int | None = None
) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or len(value) != n:
        raise MalformedMetadataError(where, f"{what} must be a list of {n} integers, not {value!r}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | float) or not float(v).is_integer():
            raise MalformedMetadataError(
                where, f"{what} must be a list of {n} integers, not {value!r}"
            )
        iv = int(v)
        if minimum is not None and iv < minimum:
            raise MalformedMetadataError(where, f"{what} must be >= {minimum}, not {value!r}")
        out.append(iv)
    return tuple(out)


def _floats(value: Any, what: str, where: str) -> tuple[float, float, float]:
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise MalformedMetadataError(where, f"{what} must be a list of 3 numbers, not {value!r}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise MalformedMetadataError(where, f"{what} must be 3 positive numbers, not {value!r}")
        out.append(float(v))
    return (out[0], out[1], out[2])


def _parse_dtype(info: dict[str, Any], where: str) -> np.dtype[Any]:
    raw = info.get("data_type")
    if not isinstance(raw, str):
        raise MalformedMetadataError(where, f"data_type must be a string, not {raw!r}")
    try:
        dt = np.dtype(raw.strip().lower())
    except TypeError:
        raise UnsupportedDataError(where, f"unsupported data_type {raw!r}") from None
    element_class_of(dt, where)  # float16, bool, ... are a clear error
    return dt.newbyteorder("=")


def parse_scale(info: dict[str, Any], scale: Any, where: str, index: int = 0) -> PrecomputedScale:
    """One entry of `info["scales"]` (validated; unsupported encodings are a clear error)."""
    dtype = _parse_dtype(info, where)
    channels = info.get("num_channels", 1)
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise MalformedMetadataError(
            where, f"num_channels must be a positive integer, not {channels!r}"
        )
    if not isinstance(scale, dict):
        raise MalformedMetadataError(where, f"scales[{index}] must be a JSON object")
    key = scale.get("key")
    if not isinstance(key, str) or not key.strip("/"):
        raise MalformedMetadataError(
            where, f"scales[{index}].key must be a non-empty string, not {key!r}"
        )
    label = f"scale {key!r}"
    size = _ints(scale.get("size"), f"{label} size", where, minimum=0)
    offset = _ints(scale.get("voxel_offset", [0, 0, 0]), f"{label} voxel_offset", where)
    resolution = _floats(scale.get("resolution"), f"{label} resolution", where)
    chunk_sizes = scale.get("chunk_sizes")
    if not isinstance(chunk_sizes, list) or not chunk_sizes:
        raise MalformedMetadataError(
            where, f"{label} chunk_sizes must be a non-empty list of [x, y, z]"
        )
    chunk = _ints(chunk_sizes[0], f"{label} chunk_sizes[0]", where, minimum=1)
    encoding = scale.get("encoding")
    if not isinstance(encoding, str):
        raise MalformedMetadataError(where, f"{label} encoding must be a string, not {encoding!r}")
    encoding = encoding.lower()
    if encoding not in ENCODINGS:
        raise UnsupportedDataError(
            where, f"{label}: unsupported encoding {encoding!r} (supported: {', '.join(ENCODINGS)})"
        )
    block: tuple[int, ...] | None = None
    if encoding == "compressed_segmentation":
        if dtype not in (np.dtype("uint32"), np.dtype("uint64")):
            raise UnsupportedDataError(
                where, f"{label}: compressed_segmentation needs uint32 or uint64, not {dtype.name}"
            )
        block = _ints(
            scale.get("compressed_segmentation_block_size"),
            f"{label} compressed_segmentation_block_size",
            where,
            minimum=1,
        )
    elif encoding == "jpeg":
        if dtype != np.dtype("uint8") or channels not in (1, 3):
            raise UnsupportedDataError(
                where,
                f"{label}: jpeg needs uint8 with 1 or 3 channels, not {dtype.name} with {channels}",
            )
    elif encoding == "compresso" and (dtype.kind not in "ui" or channels != 1):
        raise UnsupportedDataError(
            where, f"{label}: compresso needs 1 channel of integers, not {dtype.name} with {channels}"
        )
    elif encoding == "jxl" and (dtype != np.dtype("uint8") or channels not in (1, 3)):
        raise UnsupportedDataError(
            where, f"{label}: jxl needs uint8 with 1 or 3 channels, not {dtype.name} with {channels}"
        )
    elif encoding == "png" and (
        dtype not in (np.dtype("uint8"), np.dtype("uint16")) or channels > 4
    ):
        raise UnsupportedDataError(
            where, f"{label}: png needs uint8 or uint16 with 1 to 4 channels"
        )
    sharding = None
    if scale.get("sharding") is not None:
        sharding = ShardingSpec.from_json(scale["sharding"], f"{where} ({label})")
        if len(chunk_sizes) != 1:
            raise MalformedMetadataError(
                where, f"{label}: a sharded scale must have exactly one chunk size"
            )
    volume_type = info.get("type")
    return PrecomputedScale(
        key=key,
        dtype=dtype,
        num_channels=channels,
        size=size,  # type: ignore[arg-type]
        voxel_offset=offset,  # type: ignore[arg-type]
        chunk_size=chunk,  # type: ignore[arg-type]
        resolution=resolution,
        encoding=encoding,
        compressed_segmentation_block_size=block,  # type: ignore[arg-type]
        sharding=sharding,
        volume_type=volume_type if isinstance(volume_type, str) else None,
    )


def parse_info(info: Any, where: str) -> list[PrecomputedScale]:
    """All scales of a precomputed volume `info` (raises for non-volumes and broken files)."""
    if not isinstance(info, dict):
        raise MalformedMetadataError(where, "info must be a JSON object")
    kind = info.get("@type", "neuroglancer_multiscale_volume")
    if kind != "neuroglancer_multiscale_volume":
        raise UnsupportedDataError(
            where, f"{kind!r} is not a volume (meshes, skeletons and annotations are not supported)"
        )
    volume_type = info.get("type")
    if volume_type is not None and volume_type not in ("image", "segmentation"):
        raise UnsupportedDataError(
            where, f"unsupported volume type {volume_type!r}; image or segmentation"
        )
    scales = info.get("scales")
    if not isinstance(scales, list) or not scales:
        raise MalformedMetadataError(where, "info has no scales")
    return [parse_scale(info, s, where, i) for i, s in enumerate(scales)]


def _mag_of(scale: PrecomputedScale, first: PrecomputedScale, where: str) -> tuple[int, int, int]:
    mag = []
    for r, f in zip(scale.resolution, first.resolution, strict=True):
        ratio = r / f
        m = round(ratio)
        if m < 1 or abs(ratio - m) > 1e-3 * m or (m & (m - 1)) != 0:
            raise UnsupportedDataError(
                where,
                f"scale {scale.key!r}: resolution {list(scale.resolution)} is not a power-of-two multiple "
                f"of the first scale's {list(first.resolution)}",
            )
        mag.append(m)
    return (mag[0], mag[1], mag[2])


# --------------------------------------------------------------------------------------
# Explorer
# --------------------------------------------------------------------------------------


def _layer_name(uri: SourceURI) -> str:
    return sanitize_name(uri.name) or "layer"


async def _explore(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    info = await ctx.fetch_json(uri, _INFO)
    if info is None:
        raise NotThisFormat("no info file")
    where = uri.join(_INFO).url
    if not isinstance(info, dict):
        raise NotThisFormat("info is not a JSON object")
    kind = info.get("@type")
    if "scales" not in info and not (isinstance(kind, str) and kind.startswith("neuroglancer")):
        raise NotThisFormat("info has no scales")
    scales = parse_info(info, where)
    first = scales[0]
    mags: list[MagSpec] = []
    seen: set[tuple[int, int, int]] = set()
    for scale in scales:
        mag = _mag_of(scale, first, where)
        if mag in seen:  # the same resolution twice (e.g. another chunk size): keep the first
            continue
        seen.add(mag)
        mags.append(MagSpec(mag, uri.join(scale.key), dict(AXIS_ORDER), None, scale))
    mags.sort(key=lambda m: (m.mag[0] * m.mag[1] * m.mag[2], m.mag))
    element_class = element_class_of(first.dtype, where)
    name = _layer_name(uri)
    category: Category
    if first.volume_type == "segmentation":
        category, source = "segmentation", "precomputed-type"
    elif first.volume_type == "image":
        category, source = "color", "precomputed-type"
    else:
        category, source = category_from_name(name, element_class)
    return [
        LayerSpec(
            name=name,
            category=category,
            data_format="neuroglancerPrecomputed",
            element_class=element_class,
            bounding_box=BoundingBox(first.voxel_offset, first.size),
            mags=mags,
            num_channels=first.num_channels,
            voxel_size=first.resolution,
            unit="nanometer",
            largest_segment_id=None,
            category_source=source,
            source_uri=uri.url,
            format_name="precomputed",
            dataset_name=uri.name or None,
        )
    ]


PRECOMPUTED_EXPLORER = Explorer("precomputed", (_INFO,), frozenset({"precomputed"}), _explore)
EXPLORERS: list[Explorer] = [PRECOMPUTED_EXPLORER]


# --------------------------------------------------------------------------------------
# Chunk ids, hashing
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Chunk decoding
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Reader
# --------------------------------------------------------------------------------------


class _LRU:
    """A small bounded LRU cache (entries and bytes)."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self._data: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes

    def get(self, key: Any) -> Any:
        item = self._data.get(key)
        if item is None:
            return _MISSING
        self._data.move_to_end(key)
        return item[0]

    def put(self, key: Any, value: Any, nbytes: int = 0) -> None:
        old = self._data.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        self._data[key] = (value, nbytes)
        self._bytes += nbytes
        while self._data and (len(self._data) > self._max_entries or self._bytes > self._max_bytes):
            _, (_, size) = self._data.popitem(last=False)
            self._bytes -= size

    def __len__(self) -> int:
        return len(self._data)


_MAX_MINISHARD_INDEX = 64 << 20


async def _gather_all(aws: Iterable[Awaitable[T]]) -> list[T]:
    """asyncio.gather whose first error cancels the others (no orphaned retries)."""
    return await gather_or_cancel(*aws)


class _MinishardIndex:
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


class PrecomputedReader(ArrayReader):
    """Reads chunks of one precomputed scale; dims (x, y, z, c), absolute coordinates."""

    def __init__(self, storage: Storage, path: SourceURI, scale: PrecomputedScale) -> None:
        self.uri = path.url
        self.scale = scale
        self.shape = scale.shape
        self.chunk_shape = (*scale.chunk_size, scale.num_channels)
        self.grid_origin = (*scale.voxel_offset, 0)
        self.dtype = scale.dtype
        self.fill_value = self.dtype.type(0)
        self._storage = storage
        self._path = path
        self._base = path.fs_path.rstrip("/") if not path.query else None
        self._le_dtype = scale.dtype.newbyteorder("<")
        self._grid = scale.grid_shape
        self._sharding = scale.sharding
        self._encoding = scale.encoding
        self._codec = _codec_for(scale.encoding, f"{path.url}/info")
        _limits.check_array(self.uri, self.shape, self.chunk_shape, self.dtype.itemsize)
        # jpeg/png/compressed_segmentation may exceed the raw size a little: twice is ample
        self._max_chunk_bytes = 2 * _limits.bound(math.prod(self.chunk_shape) * self.dtype.itemsize)
        if scale.sharding is not None:
            sh = scale.sharding
            self._morton = _MortonEncoder(self._grid)
            self._minishard_mask = (1 << sh.minishard_bits) - 1
            self._shard_mask = (1 << sh.shard_bits) - 1
            self._shard_digits = -(-sh.shard_bits // 4)
            self._index_end = 16 << sh.minishard_bits
            self._entries = _LRU(INDEX_CACHE_ENTRIES * 4, INDEX_CACHE_BYTES // 8)
            self._minishards = _LRU(INDEX_CACHE_ENTRIES, INDEX_CACHE_BYTES)
            self._pending: dict[tuple[str, str, int], asyncio.Future[Any]] = {}
            self._tasks: set[asyncio.Future[Any]] = set()
            self._gzip_data = sh.data_encoding == "gzip"
        else:
            self._gzip_data = False

    def __repr__(self) -> str:
        return (
            f"PrecomputedReader({self.uri!r}, {self._encoding}, shape={self.shape}, chunks={self.chunk_shape}, "
            f"sharded={self._sharding is not None})"
        )

    # -- keys ------------------------------------------------------------------------
    def _key_path(self, key: str) -> str:
        if self._base is not None:
            return f"{self._base}/{key}"
        return self._path.join(key).fs_path

    def chunk_name(self, coord: Sequence[int]) -> str:
        """Unsharded file name of a chunk: `x0-x1_y0-y1_z0-z1` in absolute coordinates."""
        parts = []
        for i in range(3):
            begin = self.grid_origin[i] + coord[i] * self.chunk_shape[i]
            end = min(begin + self.chunk_shape[i], self.shape[i])
            parts.append(f"{begin}-{end}")
        return "_".join(parts)

    def chunk_id(self, coord: Sequence[int]) -> int:
        """Sharded chunk id: the compressed Morton code of the grid position."""
        return self._morton(coord)

    def shard_and_minishard(self, chunk_id: int) -> tuple[int, int]:
        sh = self._sharding
        assert sh is not None
        shifted = chunk_id >> sh.preshift_bits
        hashed = hash64_uint64(shifted) if sh.hash == "murmurhash3_x86_128" else shifted
        return (hashed >> sh.minishard_bits) & self._shard_mask, hashed & self._minishard_mask

    def shard_name(self, shard: int) -> str:
        return f"{shard:0{self._shard_digits}x}.shard" if self._shard_digits else f"{shard:x}.shard"

    def chunk_key_uri(self, coord: tuple[int, ...]) -> str:
        if self._sharding is None:
            return f"{self.uri}/{self.chunk_name(coord)}"
        cid = self.chunk_id(coord)
        shard, _ = self.shard_and_minishard(cid)
        return f"{self.uri}/{self.shard_name(shard)} (chunk {list(coord[:3])}, id {cid})"

    def _in_grid(self, coord: Sequence[int]) -> bool:
        g = self._grid
        return 0 <= coord[0] < g[0] and 0 <= coord[1] < g[1] and 0 <= coord[2] < g[2]

    # -- fetching --------------------------------------------------------------------
    async def fetch(
        self, coords: Sequence[tuple[int, ...]], meters: Sequence[RequestMeter] = ()
    ) -> list[bytes | None]:
        if not coords:
            return []
        if self._sharding is None:
            get = self._storage.get
            cap = self._max_chunk_bytes
            return await _gather_all(
                get(self._key_path(self.chunk_name(c)), meters=meters, max_bytes=cap)
                if self._in_grid(c)
                else _none()
                for c in coords
            )
        out: list[bytes | None] = [None] * len(coords)
        groups: dict[int, list[tuple[int, int, int]]] = {}
        for i, coord in enumerate(coords):
            if not self._in_grid(coord):
                continue
            cid = self._morton(coord)
            shard, minishard = self.shard_and_minishard(cid)
            groups.setdefault(shard, []).append((i, minishard, cid))
        await _gather_all(
            self._fetch_in_shard(s, items, out, meters) for s, items in groups.items()
        )
        return out

    async def _fetch_in_shard(
        self,
        shard: int,
        items: list[tuple[int, int, int]],
        out: list[bytes | None],
        meters: Sequence[RequestMeter],
    ) -> None:
        name = self.shard_name(shard)
        path = self._key_path(name)
        minishards = sorted({m for _, m, _ in items})
        entries = await self._shard_index_entries(name, path, minishards, meters)
        wanted: list[tuple[int, tuple[int, int]]] = []
        for m in minishards:
            entry = entries[m]
            if entry is not None and entry[1] > entry[0]:  # an empty range: no chunks
                wanted.append((m, entry))
        indices = await _gather_all(
            self._minishard_index(name, path, m, e, meters) for m, e in wanted
        )
        by_minishard = {m: index for (m, _), index in zip(wanted, indices, strict=True)}
        ranges: list[tuple[int, int, int]] = []
        for i, minishard, cid in items:
            index = by_minishard.get(minishard)
            if index is None:
                continue
            found = index.lookup(cid)
            if found is not None:
                if found[1] > self._max_chunk_bytes:
                    raise CorruptChunkError(
                        f"{self.uri}/{name}", f"minishard index names a chunk of {found[1]} bytes; refused"
                    )
                ranges.append((found[0], found[1], i))
        if not ranges:
            return
        batches = coalesce_ranges(ranges, gap=COALESCE_GAP)
        await _gather_all(self._fetch_batch(path, b, out, meters) for b in batches)

    async def _fetch_batch(
        self,
        path: str,
        batch: tuple[int, int, list[tuple[int, int, int]]],
        out: list[bytes | None],
        meters: Sequence[RequestMeter],
    ) -> None:
        start, end, members = batch
        data = await self._storage.get_range(path, start, end - start, meters=meters)
        if data is None:
            return
        if len(members) == 1 and members[0][1] == len(data):
            out[members[0][2]] = bytes(data)
            return
        view = memoryview(data)
        # A short answer (truncated shard) gives short chunks, which decode() reports.
        for offset, nbytes, i in members:
            out[i] = bytes(view[offset - start : offset - start + nbytes])

    def _shared(self, key: tuple[str, str, int], factory: Any) -> asyncio.Future[Any]:
        """One in-flight load per key, shared by concurrent callers, run as its own task
        (a cancelled caller does not cancel what others wait for)."""
        future = self._pending.get(key)
        if future is None:
            future = self._spawn(factory())
            self._pending[key] = future

            def forget(f: asyncio.Future[Any], key: tuple[str, str, int] = key) -> None:
                if self._pending.get(key) is f:
                    del self._pending[key]

            future.add_done_callback(forget)
        return future

    def _spawn(self, coro: Any) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(f: asyncio.Future[Any]) -> None:
            self._tasks.discard(f)
            if not f.cancelled():
                f.exception()  # retrieved here; awaiting callers still see it

        task.add_done_callback(done)
        return task

    async def _shard_index_entries(
        self, name: str, path: str, minishards: list[int], meters: Sequence[RequestMeter]
    ) -> dict[int, tuple[int, int] | None]:
        """Shard-index entries (absolute [start, end) of each minishard index), None when
        the shard does not exist. Entries of nearby minishards share one range request."""
        result: dict[int, tuple[int, int] | None] = {}
        if self._entries.get((name, -1)) is not _MISSING:  # the shard file does not exist
            return dict.fromkeys(minishards)
        waiting: dict[int, asyncio.Future[Any]] = {}
        missing: list[int] = []
        for m in minishards:
            cached = self._entries.get((name, m))
            if cached is not _MISSING:
                result[m] = cached
                continue
            future = self._pending.get(("entry", name, m))
            if future is not None:
                waiting[m] = future
            else:
                missing.append(m)
        if missing:
            runs: list[list[int]] = [[missing[0]]]
            for m in missing[1:]:
                if (m - runs[-1][-1] - 1) * 16 <= COALESCE_GAP:
                    runs[-1].append(m)
                else:
                    runs.append([m])
            for run in runs:
                load = self._spawn(self._load_entries(name, path, run, meters))
                for m in run:
                    waiting[m] = self._shared(
                        ("entry", name, m), lambda load=load, m=m: _pick(load, m)
                    )
        for m, future in waiting.items():
            result[m] = await asyncio.shield(future)
        return result

    async def _load_entries(
        self, name: str, path: str, run: list[int], meters: Sequence[RequestMeter]
    ) -> dict[int, tuple[int, int] | None]:
        first, last = run[0], run[-1]
        data = await self._storage.get_range(
            path, first * 16, (last - first + 1) * 16, meters=meters
        )
        out: dict[int, tuple[int, int] | None] = {}
        if data is None:
            self._entries.put((name, -1), None, 16)  # remembered: no more requests for it
            return dict.fromkeys(run)
        if len(data) != (last - first + 1) * 16:
            raise CorruptChunkError(
                f"{self.uri}/{name}",
                f"shard index is truncated ({len(data)} bytes at offset {first * 16})",
            )
        table = np.frombuffer(data, dtype="<u8").reshape(-1, 2)
        for m in run:
            s, e = int(table[m - first, 0]), int(table[m - first, 1])
            if e < s:
                raise CorruptChunkError(
                    f"{self.uri}/{name}", f"shard index entry {m} has end {e} < start {s}"
                )
            entry = (self._index_end + s, self._index_end + e)
            out[m] = entry
            self._entries.put((name, m), entry, 16)
        return out

    async def _minishard_index(
        self,
        name: str,
        path: str,
        minishard: int,
        entry: tuple[int, int],
        meters: Sequence[RequestMeter],
    ) -> _MinishardIndex | None:
        cached = self._minishards.get((name, minishard))
        if cached is not _MISSING:
            return cached
        future = self._shared(
            ("minishard", name, minishard),
            lambda: self._load_minishard(name, path, minishard, entry, meters),
        )
        return await asyncio.shield(future)

    async def _load_minishard(
        self,
        name: str,
        path: str,
        minishard: int,
        entry: tuple[int, int],
        meters: Sequence[RequestMeter],
    ) -> _MinishardIndex | None:
        start, end = entry
        where = f"{self.uri}/{name}"
        if end - start > _MAX_MINISHARD_INDEX:
            raise CorruptChunkError(where, f"minishard index {minishard} claims {end - start} bytes; refused")
        data = await self._storage.get_range(path, start, end - start, meters=meters)
        if data is None:
            return None
        if len(data) != end - start:
            raise CorruptChunkError(where, f"minishard index {minishard} is truncated")
        assert self._sharding is not None
        try:
            if self._sharding.minishard_index_encoding == "gzip":
                data = _limits.zlib_bounded(data, _MAX_MINISHARD_INDEX, 47)
        except (zlib.error, ValueError) as exc:
            raise CorruptChunkError(
                where, f"cannot decompress minishard index {minishard}: {exc}"
            ) from None
        if len(data) % 24:
            raise CorruptChunkError(
                where, f"minishard index {minishard} has {len(data)} bytes, not a multiple of 24"
            )
        table = np.frombuffer(data, dtype="<u8").reshape(3, -1)
        ids = np.cumsum(table[0], dtype=np.uint64)
        sizes = table[2].astype(np.uint64)
        gaps = table[1].astype(np.uint64)
        # start_i = index_end + sum(gaps[0..i]) + sum(sizes[0..i-1])
        starts = np.cumsum(gaps, dtype=np.uint64)
        if len(sizes) > 1:
            starts[1:] += np.cumsum(sizes[:-1], dtype=np.uint64)
        starts += np.uint64(self._index_end)
        if len(ids) > 1 and not bool((ids[1:] >= ids[:-1]).all()):
            order = np.argsort(ids, kind="stable")
            ids, starts, sizes = ids[order], starts[order], sizes[order]
        index = _MinishardIndex(ids, starts, sizes)
        self._minishards.put((name, minishard), index, index.nbytes + 64)
        return index

    # -- decoding --------------------------------------------------------------------
    def decode(self, coord: tuple[int, ...], data: bytes) -> np.ndarray:
        extent = self.chunk_extent(coord)
        try:
            if self._gzip_data:
                data = _limits.zlib_bounded(data, self._max_chunk_bytes, 47)
            encoding = self._encoding
            if encoding == "raw":
                arr = self._decode_raw(data, extent)
            elif encoding == "compressed_segmentation":
                arr = self._decode_cseg(data, extent)
            elif encoding == "compresso":
                assert self._codec is not None
                arr = decode_compresso(self._codec, data, extent, self.dtype, self.chunk_shape)
            else:
                arr = self._decode_image(data, extent)
        except RemoteDatasetError:
            raise
        except Exception as exc:  # every codec failure is a corrupt chunk
            raise CorruptChunkError(
                self.chunk_key_uri(coord), f"cannot decode {self._encoding} chunk: {exc}"
            ) from None
        return arr

    def _decode_raw(self, data: bytes, extent: tuple[int, ...]) -> np.ndarray:
        itemsize = self.dtype.itemsize
        nbytes = extent[0] * extent[1] * extent[2] * extent[3] * itemsize
        shape = extent
        if len(data) != nbytes:
            full = self.chunk_shape
            if len(data) == full[0] * full[1] * full[2] * full[3] * itemsize:
                shape = full  # stored padded to the full chunk size
            elif data[:2] == _GZIP_MAGIC:
                full_bytes = full[0] * full[1] * full[2] * full[3] * itemsize
                return self._decode_raw(_limits.zlib_bounded(data, full_bytes, 47), extent)
            else:
                raise _Bad(
                    f"{len(data)} bytes, expected {nbytes} for {list(extent)} {self.dtype.name} voxels"
                )
        arr = np.frombuffer(data, dtype=self._le_dtype).reshape(shape[::-1]).transpose(3, 2, 1, 0)
        if shape != extent:
            arr = arr[: extent[0], : extent[1], : extent[2], : extent[3]]
        if not self._le_dtype.isnative:
            arr = arr.astype(self.dtype)
        return arr

    def _decode_image(self, data: bytes, extent: tuple[int, ...]) -> np.ndarray:
        imagecodecs = self._codec
        assert imagecodecs is not None
        full = self.chunk_shape
        # The header's size is checked before the decoder allocates what it says.
        _limits.check_image(self._encoding, data, full[0] * full[1] * full[2] * max(full[3], 4))
        if self._encoding == "jpeg":
            img = imagecodecs.jpeg_decode(data)
        elif self._encoding == "jxl":  # laid out like jpeg: width x, height y * z
            img = imagecodecs.jpegxl_decode(data)
        else:
            img = imagecodecs.png_decode(data)
        channels = extent[3]
        pixels = img.shape[0] * img.shape[1]
        img_channels = img.shape[2] if img.ndim == 3 else 1
        if img_channels != channels:
            if channels == 1 and img_channels in (3, 4) and self._encoding == "jpeg":
                img = img[..., 0]  # a grey image stored as RGB
            else:
                raise _Bad(f"image has {img_channels} channels, the volume {channels}")
        shape = extent
        voxels = extent[0] * extent[1] * extent[2]
        if pixels != voxels:
            full = self.chunk_shape
            if pixels == full[0] * full[1] * full[2]:
                shape = full
            else:
                raise _Bad(f"image has {pixels} pixels, expected {voxels} for {list(extent[:3])}")
        if img.dtype != self.dtype:
            img = img.astype(self.dtype)
        arr = img.reshape(shape[2], shape[1], shape[0], channels).transpose(2, 1, 0, 3)
        if shape != extent:
            arr = arr[: extent[0], : extent[1], : extent[2]]
        return arr

    def _decode_cseg(self, data: bytes, extent: tuple[int, ...]) -> np.ndarray:
        compressed_segmentation = self._codec
        assert compressed_segmentation is not None

        block = self.scale.compressed_segmentation_block_size
        assert block is not None
        if data[:2] == _GZIP_MAGIC:
            data = _limits.zlib_bounded(data, self._max_chunk_bytes, 47)
        data = bytes(data)
        item_words = self.dtype.itemsize // 4
        try:
            validate_compressed_segmentation(data, extent[:3], extent[3], block, item_words)
            volume = extent
        except _Bad:
            full = self.chunk_shape
            if full == extent:
                raise
            # some writers store edge chunks at the full chunk size
            validate_compressed_segmentation(data, full[:3], full[3], block, item_words)
            volume = full
        arr = compressed_segmentation.decompress(
            data, tuple(volume), self.dtype, tuple(block), order="F"
        )
        if arr.ndim == 3:
            arr = arr[..., None]
        if volume != extent:
            arr = arr[: extent[0], : extent[1], : extent[2]]
        return arr


def _codec_for(encoding: str, where: str) -> ModuleType | None:
    if encoding not in _CODEC_MODULES:
        return None
    module, imagecodec = _CODEC_MODULES[encoding]
    if imagecodec is not None:
        return imagecodecs_codec(imagecodec, encoding, where)
    return codec_module(module, encoding, where)


async def _none() -> None:
    return None


async def _pick(load: Awaitable[dict[int, Any]], key: int) -> Any:
    return (await load)[key]


# --------------------------------------------------------------------------------------
# Opening a reader
# --------------------------------------------------------------------------------------


async def fetch_scale(storage: Storage, path: SourceURI) -> PrecomputedScale:
    """The scale whose folder is `path`: looks for the `info` in the parent folders."""
    target = path.url.rstrip("/")
    root = path
    for _ in range(3):  # keys may be nested paths ("a/b")
        root = root.parent()
        data = await storage.get(root.join(_INFO).fs_path)
        if data is None:
            continue
        where = root.join(_INFO).url
        try:
            info = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedMetadataError(where, f"malformed JSON: {exc}") from None
        scales = parse_info(info, where)
        for scale in scales:
            if root.join(scale.key).url.rstrip("/") == target:
                return scale
        raise SourceNotFoundError(path.url, f"no scale of {where} has the key {path.name!r}")
    raise SourceNotFoundError(path.url, "no precomputed info file found in the parent folder")


async def open_reader(storage: Storage, mag: MagSpec) -> PrecomputedReader:
    """The reader of one scale (data_format "neuroglancerPrecomputed").

    Uses `mag.array_meta` (a `PrecomputedScale` kept from exploration) when present, else
    reads the `info` of the parent folder and picks the scale whose key is the mag path.
    """
    scale = mag.array_meta
    if not isinstance(scale, PrecomputedScale):
        scale = await fetch_scale(storage, mag.path)
    return PrecomputedReader(storage, mag.path, scale)


async def _open_level(storage: Storage, mag: MagSpec, data_format: DataFormat) -> PrecomputedReader:
    return await open_reader(storage, mag)


FORMAT = Format(
    name="precomputed",
    explorers=tuple(EXPLORERS),
    data_formats=("neuroglancerPrecomputed",),
    open_reader=_open_level,
    uri_prefixes={"precomputed": "precomputed"},
    pipe_prefixes={"neuroglancer-precomputed": "precomputed"},
    neuroglancer_prefix={"neuroglancerPrecomputed": "precomputed"},
    metadata_files={_INFO: None},
    axis_order={"neuroglancerPrecomputed": PRECOMPUTED_AXIS_ORDER},
)
