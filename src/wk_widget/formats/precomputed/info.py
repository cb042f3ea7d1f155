"""Precomputed `info` metadata: scales, sharding specs and encodings parsed into typed records (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import (
    MalformedMetadataError,
    UnsupportedDataError,
)
from .._shared.layers import power_of_two_mags
from ..base import (
    element_class_of,
)

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


_GZIP_MAGIC = b"\x1f\x8b"


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
    mag = power_of_two_mags([r / f for r, f in zip(scale.resolution, first.resolution, strict=True)])
    if mag is None:
        raise UnsupportedDataError(
            where,
            f"scale {scale.key!r}: resolution {list(scale.resolution)} is not a power-of-two multiple "
            f"of the first scale's {list(first.resolution)}",
        )
    return (mag[0], mag[1], mag[2])
