"""Zarr v2 compressors / filters and v3 codec chains compiled into a `ChunkDecoder` (bounded, GIL-releasing)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import (
    UnsupportedDataError,
)
from .._shared import limits as _limits
from .._shared.bytes_codecs import BytesDecoder, bytes_decoder
from .._shared.codecs import codec_module
from .metadata import ZarrArrayMeta, _malformed


def _numcodecs_decoder(config: dict[str, Any], where: str, limit: int) -> BytesDecoder:
    numcodecs = codec_module("numcodecs", str(config.get("id")), where)

    try:
        codec = numcodecs.get_codec(dict(config))
    except (ValueError, TypeError, KeyError) as exc:
        raise UnsupportedDataError(where, f"unsupported codec {config.get('id')!r} ({exc})") from None
    decode: BytesDecoder = codec.decode
    if config.get("id") == "lz4":

        def lz4(data: Any) -> Any:
            _limits.lz4_size_checked(data, limit)
            return decode(data)

        return lz4
    return decode


# v3 bytes-to-bytes codecs read by the shared table (other names: numcodecs.* or unsupported)
_V3_BYTES_CODECS = ("gzip", "zstd", "blosc", "crc32c")
# v2 compressor ids the shared table reads (under its name); the rest go to numcodecs
_V2_COMPRESSORS = {"gzip": "gzip", "zlib": "gzip", "zstd": "zstd", "blosc": "blosc", "bz2": "bz2", "crc32c": "crc32c"}


def _v3_bytes_decoder(name: str, cfg: dict[str, Any], where: str, limit: int) -> BytesDecoder:
    if name in _V3_BYTES_CODECS:
        decoder = bytes_decoder(name, where, limit)
        assert decoder is not None
        return decoder
    if name.startswith("numcodecs."):
        return _v2_bytes_decoder({"id": name[len("numcodecs."):], **cfg}, where, limit)
    raise UnsupportedDataError(where, f"unsupported codec {name!r}")


def _v2_bytes_decoder(config: dict[str, Any], where: str, limit: int) -> BytesDecoder:
    name = _V2_COMPRESSORS.get(str(config.get("id")))
    decoder = bytes_decoder(name, where, limit) if name is not None else None
    return decoder if decoder is not None else _numcodecs_decoder(config, where, limit)


class ChunkDecoder:
    """Bytes of one stored chunk -> ndarray of the full chunk shape (native byte order).

    Pure and thread-safe; the heavy work happens in GIL-releasing codecs.
    """

    __slots__ = ("bytes_decoders", "count", "encoded_shape", "filters", "inverse_perm", "native", "order", "stored")

    def __init__(
        self,
        bytes_decoders: Sequence[BytesDecoder],
        stored: np.dtype[Any],
        encoded_shape: tuple[int, ...],
        *,
        order: str = "C",
        perm: Sequence[int] | None = None,
        filters: Sequence[Any] = (),
    ) -> None:
        self.bytes_decoders = tuple(bytes_decoders)
        self.stored = stored
        self.native = stored.newbyteorder("=") if stored.byteorder not in ("=", "|") else stored
        self.encoded_shape = encoded_shape
        self.count = math.prod(encoded_shape)
        self.order = order
        self.inverse_perm = tuple(int(i) for i in np.argsort(perm)) if perm is not None and list(perm) != sorted(perm) else None
        self.filters = tuple(filters)

    def __call__(self, data: Any) -> np.ndarray:
        for decode in self.bytes_decoders:
            data = decode(data)
        if self.filters:
            for f in reversed(self.filters):
                data = f.decode(data)
            if isinstance(data, np.ndarray):
                data = np.ascontiguousarray(data).tobytes()
        arr = np.frombuffer(data, dtype=np.uint8)
        if arr.size != self.count * self.stored.itemsize:
            raise ValueError(f"decoded to {arr.size} bytes, expected {self.count * self.stored.itemsize}")
        arr = arr.view(self.stored).reshape(self.encoded_shape, order="F" if self.order == "F" else "C")
        if self.inverse_perm is not None:
            arr = arr.transpose(self.inverse_perm)
        if not self.stored.isnative:
            arr = arr.astype(self.native)
        return arr


def _transpose_order(cfg: dict[str, Any], ndim: int, where: str) -> tuple[int, ...]:
    order = cfg.get("order")
    if order == "C":
        return tuple(range(ndim))
    if order == "F":
        return tuple(reversed(range(ndim)))
    if not isinstance(order, list) or sorted(order) != list(range(ndim)):
        raise _malformed(where, f"transpose order {order!r} is not a permutation of {ndim} dimensions")
    return tuple(int(o) for o in order)


def _compile_v3(
    codecs: Sequence[dict[str, Any]],
    dtype: np.dtype[Any],
    chunk_shape: tuple[int, ...],
    where: str,
    *,
    allow_sharding: bool,
) -> tuple[ChunkDecoder | None, dict[str, Any] | None]:
    """Compile a v3 codec chain. Returns (decoder, None), or (None, sharding config) when the
    array-to-bytes codec is sharding_indexed (which must then be the only codec)."""
    ndim = len(chunk_shape)
    perm = list(range(ndim))
    array_to_bytes: dict[str, Any] | None = None
    bytes_codecs: list[dict[str, Any]] = []
    for codec in codecs:
        name, cfg = codec["name"], codec["configuration"]
        if array_to_bytes is None:
            if name == "transpose":
                order = _transpose_order(cfg, ndim, where)
                perm = [perm[o] for o in order]
            elif name in ("bytes", "endian", "sharding_indexed"):
                array_to_bytes = codec
            elif name.startswith("numcodecs."):
                raise UnsupportedDataError(where, f"unsupported array-to-array codec {name!r}")
            elif name in _V3_BYTES_CODECS:
                raise _malformed(where, f"codec {name!r} comes before the array-to-bytes codec ('bytes')")
            else:
                raise UnsupportedDataError(where, f"unsupported codec {name!r}")
        else:
            if name in ("transpose", "bytes", "endian", "sharding_indexed"):
                raise _malformed(where, f"codec {name!r} after the array-to-bytes codec")
            bytes_codecs.append(codec)
    if array_to_bytes is None:
        raise _malformed(where, "no array-to-bytes codec ('bytes' or 'sharding_indexed')")
    if array_to_bytes["name"] == "sharding_indexed":
        if not allow_sharding:
            raise UnsupportedDataError(where, "nested sharding_indexed codecs are not supported")
        if perm != list(range(ndim)) or bytes_codecs:
            raise UnsupportedDataError(
                where, "codecs around sharding_indexed (transpose before it or compression after it) are not supported"
            )
        return None, array_to_bytes["configuration"]
    endian = array_to_bytes["configuration"].get("endian", "little")
    if endian not in ("little", "big", None):
        raise _malformed(where, f"bytes codec endian must be 'little' or 'big', got {endian!r}")
    stored = dtype.newbyteorder(">" if endian == "big" else "<") if dtype.itemsize > 1 else dtype
    encoded_shape = tuple(chunk_shape[p] for p in perm)
    nbytes = math.prod(chunk_shape) * dtype.itemsize
    decoders: list[BytesDecoder] = []
    for i, codec in enumerate(reversed(bytes_codecs)):
        last = i == len(bytes_codecs) - 1
        limit = nbytes if last else _limits.bound(nbytes)  # the last stage yields the chunk itself
        decoders.append(_v3_bytes_decoder(codec["name"], codec["configuration"], where, limit))
    return ChunkDecoder(decoders, stored, encoded_shape, perm=perm), None


def _compile_v2(meta: ZarrArrayMeta, where: str) -> ChunkDecoder:
    filters: list[Any] = []
    if meta.filters:
        numcodecs = codec_module("numcodecs", str(meta.filters[0].get("id")), where)

        for f in meta.filters:
            try:
                filters.append(numcodecs.get_codec(dict(f)))
            except (ValueError, TypeError, KeyError) as exc:
                raise UnsupportedDataError(where, f"unsupported filter {f.get('id')!r} ({exc})") from None
    decoders: list[BytesDecoder] = []
    if meta.compressor is not None:
        nbytes = math.prod(meta.chunk_shape) * meta.dtype.itemsize
        # filters may change the size (e.g. astype): then a bound, not the exact size
        limit = 8 * _limits.bound(nbytes) if filters else nbytes
        decoders.append(_v2_bytes_decoder(meta.compressor, where, limit))
    return ChunkDecoder(decoders, meta.stored_dtype, meta.chunk_shape, order=meta.order, filters=filters)


@dataclass(frozen=True)
class _Compiled:
    decoder: ChunkDecoder  # of one read unit (inner chunk when sharded)
    index_decoder: ChunkDecoder | None = None
    index_size: int = 0
    chunks_per_shard: tuple[int, ...] = ()


def _compile(meta: ZarrArrayMeta, uri: str) -> _Compiled:
    where = f"{uri}/{meta.metadata_file}" if uri else meta.metadata_file
    if meta.zarr_format == 2:
        return _Compiled(_compile_v2(meta, where))
    decoder, shard_cfg = _compile_v3(meta.codecs, meta.dtype, meta.chunk_shape, where, allow_sharding=True)
    if decoder is not None:
        return _Compiled(decoder)
    sharding = meta.sharding
    assert sharding is not None and shard_cfg is not None
    inner, _ = _compile_v3(sharding.codecs, meta.dtype, sharding.chunk_shape, where, allow_sharding=False)
    assert inner is not None
    cps = tuple(s // c for s, c in zip(meta.chunk_shape, sharding.chunk_shape, strict=True))
    index_shape = (*cps, 2)
    index_size = math.prod(index_shape) * 8
    for codec in sharding.index_codecs:
        name = codec["name"]
        if name == "crc32c":
            index_size += 4
        elif name in ("bytes", "endian", "transpose"):
            continue
        else:
            raise UnsupportedDataError(where, f"unsupported sharding index codec {name!r} (its size is not fixed)")
    index_decoder, _ = _compile_v3(sharding.index_codecs, np.dtype("uint64"), index_shape, where, allow_sharding=False)
    assert index_decoder is not None
    return _Compiled(inner, index_decoder, index_size, cps)


def validate_readable(meta: ZarrArrayMeta, uri: str = "") -> None:
    """Raise UnsupportedDataError / MalformedMetadataError if the array's codecs cannot be read."""
    _compile(meta, uri)
