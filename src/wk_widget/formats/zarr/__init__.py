"""Zarr v2 and v3 arrays: metadata parsing, the plain-array explorers and the chunk reader.

- `parse_zarray` / `parse_zarr_json` turn a level's `.zarray` / `zarr.json` into one typed
  `ZarrArrayMeta` (pure; shared with the NGFF and WEBKNOSSOS explorers).
- `ZARR3_EXPLORER` / `ZARR2_EXPLORER` recognise a bare array at the URI.
- `open_reader` builds a `ZarrArrayReader` for a resolution level: chunk keys, concurrent
  fetches (sharded arrays: one index read per shard, cached, then coalesced byte ranges)
  and GIL-releasing decoding (imagecodecs / zlib / numcodecs).

Plain arrays are described the way WEBKNOSSOS does (mag 1 only, no voxel size), except
that the axes are counted from the end (x = last, y = second to last, z = third to last,
the NGFF convention), and v3 `dimension_names` (v2: xarray's `_ARRAY_DIMENSIONS`) are
honoured when they name the axes. A 2D array has no "z" in its axis order and depth 1; a
4th-from-last dimension is channels, one layer per channel (`channel_index`).

Decoded chunks are numpy arrays in the array's own dimension order and native byte
order; they may be read-only views of the decompressed buffer.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from ...errors import (
    CorruptChunkError,
    LimitExceededError,
    MalformedMetadataError,
    RemoteDatasetError,
    SourceNotFoundError,
    UnsupportedDataError,
)
from ...storage import RequestMeter, SourceURI, Storage
from ...storage._loop import gather_or_cancel
from .._shared import limits as _limits
from .._shared.axis_order import PLAIN
from .._shared.codecs import codec_module
from .._shared.ranges import COALESCE_GAP, coalesce_ranges
from ..base import (
    INTEGER_ELEMENT_CLASSES,
    AdditionalAxis,
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
    "EXPLORERS",
    "ShardingSpec",
    "ZarrArrayMeta",
    "ZarrArrayReader",
    "category_from_name",
    "fetch_array_meta",
    "open_reader",
    "parse_array_meta",
    "parse_zarr_json",
    "parse_zarray",
    "plain_axis_order",
    "sanitize_name",
    "validate_readable",
]

# --------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------

_V3_DTYPES = {
    "bool": "bool",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "float16": "float16",
    "float32": "float32",
    "float64": "float64",
    "complex64": "complex64",
    "complex128": "complex128",
}
_NUMERIC_KINDS = "biufc"
EMPTY_INDEX_ENTRY = 2**64 - 1
_DEFAULT_INDEX_CODECS: tuple[dict[str, Any], ...] = (
    {"name": "bytes", "configuration": {"endian": "little"}},
    {"name": "crc32c"},
)


@dataclass(frozen=True)
class ShardingSpec:
    """`sharding_indexed` configuration of a Zarr v3 array."""

    chunk_shape: tuple[int, ...]  # inner chunk shape (the unit of reading)
    codecs: tuple[dict[str, Any], ...]  # inner chunks' codecs (normalised {"name", "configuration"})
    index_codecs: tuple[dict[str, Any], ...]
    index_location: str  # "start" | "end"


@dataclass(frozen=True, eq=False)
class ZarrArrayMeta:
    """One Zarr array's metadata (v2 `.zarray` or v3 `zarr.json`), normalised.

    `chunk_shape` is the stored chunk grid (for sharded arrays: the shard shape);
    `read_shape` is the unit of reading and decoding (the inner chunk shape when sharded).
    """

    zarr_format: int  # 2 or 3
    shape: tuple[int, ...]
    chunk_shape: tuple[int, ...]
    dtype: np.dtype[Any]  # native byte order
    stored_dtype: np.dtype[Any]  # byte order as stored (v2 dtype; v3 from the bytes codec)
    fill_value: Any  # numpy scalar of `dtype`
    order: str = "C"  # v2 only: "C" | "F"
    compressor: dict[str, Any] | None = None  # v2
    filters: tuple[dict[str, Any], ...] = ()  # v2
    codecs: tuple[dict[str, Any], ...] = ()  # v3, normalised {"name", "configuration"}
    chunk_key_encoding: str = "v2"  # "default" (v3 `c/` prefix) | "v2"
    separator: str = "."  # "." | "/"
    sharding: ShardingSpec | None = None
    dimension_names: tuple[str | None, ...] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def read_shape(self) -> tuple[int, ...]:
        return self.sharding.chunk_shape if self.sharding is not None else self.chunk_shape

    @property
    def metadata_file(self) -> str:
        return "zarr.json" if self.zarr_format == 3 else ".zarray"

    @property
    def data_format(self) -> DataFormat:
        """WEBKNOSSOS dataFormat: "zarr" (v2) or "zarr3"."""
        return "zarr3" if self.zarr_format == 3 else "zarr"

    def chunk_key(self, coord: Sequence[int]) -> str:
        """Key (relative path) of a stored chunk (or shard) below the array."""
        sep = self.separator
        if self.chunk_key_encoding == "default":
            return "c" + "".join(sep + str(int(c)) for c in coord)
        return sep.join(str(int(c)) for c in coord) if len(coord) else "0"


def _malformed(where: str, cause: str) -> MalformedMetadataError:
    return MalformedMetadataError(where, cause)


def _int_tuple(value: Any, what: str, where: str, *, positive: bool = False) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise _malformed(where, f"{what} must be a list of integers, got {value!r}")
    if any(v < (1 if positive else 0) for v in value):
        raise _malformed(where, f"{what} must be {'positive' if positive else 'non-negative'}, got {value!r}")
    return tuple(int(v) for v in value)


def _numeric_dtype(dt: np.dtype[Any], raw: Any, where: str) -> np.dtype[Any]:
    if dt.kind not in _NUMERIC_KINDS or dt.fields is not None or dt.subdtype is not None:
        raise UnsupportedDataError(where, f"unsupported data type {raw!r}")
    return dt


def _special_float(text: str) -> float | None:
    return {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "inf": math.inf, "-inf": -math.inf}.get(
        text.strip().lower()
    )


def _parse_fill_value(value: Any, dtype: np.dtype[Any], where: str) -> Any:
    """A numpy scalar of `dtype`; null means 0 (what zarr-python reads for it)."""
    try:
        if value is None:
            return dtype.type(0)
        if dtype.kind == "c":
            if isinstance(value, list | tuple) and len(value) == 2:
                parts = [_special_float(v) if isinstance(v, str) else float(v) for v in value]
                if None in parts:
                    raise ValueError(value)
                return dtype.type(complex(parts[0], parts[1]))  # type: ignore[arg-type]
            if isinstance(value, str) and _special_float(value) is not None:
                return dtype.type(_special_float(value))
            return dtype.type(value)
        if isinstance(value, str):
            special = _special_float(value)
            if special is not None:
                if dtype.kind != "f":
                    raise ValueError(f"{value!r} for an integer type")
                return dtype.type(special)
            if value.lower().startswith("0x") and dtype.kind == "f":
                bits = np.array(int(value, 16), dtype=f"u{dtype.itemsize}")
                return bits.view(dtype)[()]
            number = float(value)
            value = int(number) if dtype.kind in "iub" and number.is_integer() else number
        if dtype.kind == "b":
            return dtype.type(bool(value))
        if dtype.kind in "iu":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(f"{value!r} for an integer type")
                value = int(value)
            info = np.iinfo(dtype)
            if not info.min <= int(value) <= info.max:
                raise ValueError(f"{value!r} out of range for {dtype}")
            return dtype.type(int(value))
        return dtype.type(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _malformed(where, f"invalid fill_value {value!r} for data type {dtype}: {exc}") from None


def parse_zarray(doc: Any, uri: str = "") -> ZarrArrayMeta:
    """Parse a Zarr v2 `.zarray` document. `uri` is the array's URI (for messages)."""
    where = f"{uri}/.zarray" if uri else ".zarray"
    if not isinstance(doc, dict):
        raise _malformed(where, "not a JSON object")
    fmt = doc.get("zarr_format", 2)
    if fmt != 2:
        raise _malformed(where, f"zarr_format is {fmt!r}, expected 2")
    for key in ("shape", "chunks", "dtype"):
        if key not in doc:
            raise _malformed(where, f"missing required field {key!r}")
    shape = _int_tuple(doc["shape"], "shape", where)
    chunks = _int_tuple(doc["chunks"], "chunks", where, positive=True)
    if len(chunks) != len(shape):
        raise _malformed(where, f"chunks {list(chunks)} and shape {list(shape)} differ in length")
    raw_dtype = doc["dtype"]
    if not isinstance(raw_dtype, str):
        raise UnsupportedDataError(where, f"unsupported (structured) data type {raw_dtype!r}")
    try:
        stored = np.dtype(raw_dtype)
    except TypeError:
        raise UnsupportedDataError(where, f"unsupported data type {raw_dtype!r}") from None
    stored = _numeric_dtype(stored, raw_dtype, where)
    native = stored.newbyteorder("=") if stored.byteorder not in ("=", "|") else stored
    order = doc.get("order", "C") or "C"
    if order not in ("C", "F"):
        raise _malformed(where, f"order must be 'C' or 'F', got {order!r}")
    compressor = doc.get("compressor")
    if compressor is not None and not (isinstance(compressor, dict) and isinstance(compressor.get("id"), str)):
        raise _malformed(where, f"compressor must be null or an object with an 'id', got {compressor!r}")
    filters = doc.get("filters") or []
    if not isinstance(filters, list) or not all(isinstance(f, dict) and isinstance(f.get("id"), str) for f in filters):
        raise _malformed(where, f"filters must be null or a list of objects with an 'id', got {filters!r}")
    sep = doc.get("dimension_separator", ".") or "."
    if sep not in (".", "/"):
        raise _malformed(where, f"dimension_separator must be '.' or '/', got {sep!r}")
    fill = _parse_fill_value(doc.get("fill_value"), native, where)
    return ZarrArrayMeta(
        zarr_format=2,
        shape=shape,
        chunk_shape=chunks,
        dtype=native,
        stored_dtype=stored,
        fill_value=fill,
        order=order,
        compressor=dict(compressor) if compressor else None,
        filters=tuple(dict(f) for f in filters),
        chunk_key_encoding="v2",
        separator=sep,
    )


def _normalize_codecs(raw: Any, where: str, what: str = "codecs") -> tuple[dict[str, Any], ...]:
    if not isinstance(raw, list):
        raise _malformed(where, f"{what} must be a list, got {raw!r}")
    out: list[dict[str, Any]] = []
    for item in raw:
        if isinstance(item, str):
            out.append({"name": item, "configuration": {}})
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            cfg = item.get("configuration") or {}
            if not isinstance(cfg, dict):
                raise _malformed(where, f"codec {item['name']!r} has a non-object configuration")
            out.append({"name": item["name"], "configuration": cfg})
        else:
            raise _malformed(where, f"invalid entry in {what}: {item!r}")
    return tuple(out)


def _bytes_endian(codecs: Sequence[dict[str, Any]]) -> Literal["<", ">"]:
    for c in codecs:
        if c["name"] in ("bytes", "endian"):
            endian = c["configuration"].get("endian", "little")
            return ">" if endian == "big" else "<"
    return "<"


def parse_zarr_json(doc: Any, uri: str = "") -> ZarrArrayMeta:
    """Parse a Zarr v3 array `zarr.json` document. `uri` is the array's URI (for messages)."""
    where = f"{uri}/zarr.json" if uri else "zarr.json"
    if not isinstance(doc, dict):
        raise _malformed(where, "not a JSON object")
    if doc.get("zarr_format") != 3:
        raise _malformed(where, f"zarr_format is {doc.get('zarr_format')!r}, expected 3")
    if doc.get("node_type") != "array":
        raise _malformed(where, f"node_type is {doc.get('node_type')!r}, not 'array'")
    for key in ("shape", "data_type", "chunk_grid"):
        if key not in doc:
            raise _malformed(where, f"missing required field {key!r}")
    shape = _int_tuple(doc["shape"], "shape", where)
    raw_dtype = doc["data_type"]
    dname = raw_dtype.get("name") if isinstance(raw_dtype, dict) else raw_dtype
    if not isinstance(dname, str) or dname not in _V3_DTYPES:
        raise UnsupportedDataError(where, f"unsupported data type {raw_dtype!r}")
    native = np.dtype(_V3_DTYPES[dname])
    grid = doc["chunk_grid"]
    if not isinstance(grid, dict) or grid.get("name") != "regular":
        name = grid.get("name") if isinstance(grid, dict) else grid
        raise UnsupportedDataError(where, f"unsupported chunk grid {name!r} (only 'regular')")
    chunks = _int_tuple((grid.get("configuration") or {}).get("chunk_shape"), "chunk_grid chunk_shape", where, positive=True)
    if len(chunks) != len(shape):
        raise _malformed(where, f"chunk_shape {list(chunks)} and shape {list(shape)} differ in length")
    if doc.get("storage_transformers"):
        raise UnsupportedDataError(where, "storage_transformers are not supported")
    cke = doc.get("chunk_key_encoding", {"name": "default"})
    if isinstance(cke, str):
        cke = {"name": cke}
    if not isinstance(cke, dict) or cke.get("name") not in ("default", "v2"):
        raise UnsupportedDataError(where, f"unsupported chunk_key_encoding {cke!r}")
    encoding = cke["name"]
    sep = (cke.get("configuration") or {}).get("separator", "/" if encoding == "default" else ".")
    if sep not in (".", "/"):
        raise _malformed(where, f"chunk_key_encoding separator must be '.' or '/', got {sep!r}")
    codecs = _normalize_codecs(doc.get("codecs", [{"name": "bytes"}]), where)
    sharding: ShardingSpec | None = None
    endian = _bytes_endian(codecs)
    for codec in codecs:
        if codec["name"] != "sharding_indexed":
            continue
        if sharding is not None:
            raise UnsupportedDataError(where, "more than one sharding_indexed codec")
        cfg = codec["configuration"]
        inner = _int_tuple(cfg.get("chunk_shape"), "sharding chunk_shape", where, positive=True)
        if len(inner) != len(shape):
            raise _malformed(where, f"sharding chunk_shape {list(inner)} and shape {list(shape)} differ in length")
        if any(s % c for s, c in zip(chunks, inner, strict=True)):
            raise _malformed(where, f"shard shape {list(chunks)} is not a multiple of the inner chunk shape {list(inner)}")
        location = cfg.get("index_location", "end")
        if location not in ("start", "end"):
            raise _malformed(where, f"sharding index_location must be 'start' or 'end', got {location!r}")
        inner_codecs = _normalize_codecs(cfg.get("codecs", [{"name": "bytes"}]), where, "sharding codecs")
        index_codecs = _normalize_codecs(
            cfg.get("index_codecs", list(_DEFAULT_INDEX_CODECS)), where, "sharding index_codecs"
        )
        sharding = ShardingSpec(inner, inner_codecs, index_codecs, location)
        endian = _bytes_endian(inner_codecs)
    stored = native.newbyteorder(endian) if native.itemsize > 1 else native
    names = doc.get("dimension_names")
    dim_names: tuple[str | None, ...] | None = None
    if names is not None:
        if not isinstance(names, list) or len(names) != len(shape) or not all(n is None or isinstance(n, str) for n in names):
            raise _malformed(where, f"dimension_names must be a list of {len(shape)} strings or nulls, got {names!r}")
        dim_names = tuple(names)
    attributes = doc.get("attributes") or {}
    return ZarrArrayMeta(
        zarr_format=3,
        shape=shape,
        chunk_shape=chunks,
        dtype=native,
        stored_dtype=stored,
        fill_value=_parse_fill_value(doc.get("fill_value"), native, where),
        order="C",
        codecs=codecs,
        chunk_key_encoding=encoding,
        separator=sep,
        sharding=sharding,
        dimension_names=dim_names,
        attributes=attributes if isinstance(attributes, dict) else {},
    )


def parse_array_meta(doc: Any, uri: str = "", file_name: str | None = None) -> ZarrArrayMeta:
    """Parse either kind; `file_name` (".zarray" / "zarr.json") decides, else `zarr_format`."""
    if file_name == ".zarray":
        return parse_zarray(doc, uri)
    if file_name == "zarr.json":
        return parse_zarr_json(doc, uri)
    if isinstance(doc, dict) and doc.get("zarr_format") == 3:
        return parse_zarr_json(doc, uri)
    return parse_zarray(doc, uri)


# --------------------------------------------------------------------------------------
# Codecs
# --------------------------------------------------------------------------------------

BytesDecoder = Callable[[Any], Any]


def _bounded(fn: Any, limit: int) -> BytesDecoder:
    """A decoder that never produces (or allocates) more than `limit` bytes."""
    return lambda data: fn(data, limit)


def _gzip_decoder(limit: int) -> BytesDecoder:
    # wbits 47: gzip or zlib headers; every member of a multi-member stream (pigz)
    return lambda data: _limits.zlib_bounded(data, limit, 47)


def _crc32c_decoder(where: str) -> BytesDecoder:
    # google-crc32c: the implementation zarr-python itself depends on (hardware accelerated)
    crc32c = codec_module("google_crc32c", "crc32c", where)

    def decode(data: Any) -> Any:
        return _crc32c_check(crc32c.value, data)

    return decode


def _crc32c_check(value: Callable[[Any], int], data: Any) -> Any:
    view = memoryview(data)
    if len(view) < 4:
        raise ValueError("too short for a crc32c checksum")
    body = view[:-4]
    stored = int.from_bytes(view[-4:], "little")
    actual = value(bytes(body))
    if stored != actual:
        raise ValueError(f"crc32c checksum mismatch (stored {stored:#010x}, computed {actual:#010x})")
    return body


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


_V3_BYTES_CODECS = ("gzip", "zstd", "blosc", "crc32c")


_IMAGECODECS_CODECS = frozenset({"gzip", "zstd", "blosc"})


def _v3_bytes_decoder(name: str, cfg: dict[str, Any], where: str, limit: int) -> BytesDecoder:
    if name in _IMAGECODECS_CODECS:
        codec_module("imagecodecs", name, where)  # a missing module: say so now
    if name == "gzip":
        return _gzip_decoder(limit)
    if name == "zstd":
        return _bounded(_limits.zstd_bounded, limit)
    if name == "blosc":
        return _bounded(_limits.blosc_bounded, limit)
    if name == "crc32c":
        return _crc32c_decoder(where)
    if name.startswith("numcodecs."):
        return _v2_bytes_decoder({"id": name[len("numcodecs."):], **cfg}, where, limit)
    raise UnsupportedDataError(where, f"unsupported codec {name!r}")


def _v2_bytes_decoder(config: dict[str, Any], where: str, limit: int) -> BytesDecoder:
    cid = config.get("id")
    if cid in _IMAGECODECS_CODECS:
        codec_module("imagecodecs", str(cid), where)
    if cid in ("gzip", "zlib"):
        return _gzip_decoder(limit)
    if cid == "zstd":
        return _bounded(_limits.zstd_bounded, limit)
    if cid == "blosc":
        return _bounded(_limits.blosc_bounded, limit)
    if cid == "bz2":
        return _bounded(_limits.bz2_bounded, limit)
    if cid == "crc32c":
        return _crc32c_decoder(where)
    return _numcodecs_decoder(config, where, limit)


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


# --------------------------------------------------------------------------------------
# Reader
# --------------------------------------------------------------------------------------

INDEX_CACHE_ENTRIES = 4096
INDEX_CACHE_BYTES = 256 * 1024 * 1024
_MISSING = object()


class ZarrArrayReader(ArrayReader):
    """Reads chunks of one Zarr v2/v3 array; for sharded arrays the unit is the inner chunk."""

    def __init__(self, storage: Storage, path: SourceURI, meta: ZarrArrayMeta) -> None:
        self.uri = path.url
        self.meta = meta
        self.shape = meta.shape
        self.chunk_shape = meta.read_shape
        self.grid_origin = (0,) * meta.ndim
        self.dtype = meta.dtype
        self.fill_value = meta.fill_value
        self._storage = storage
        self._path = path
        self._base = path.fs_path.rstrip("/") if not path.query else None
        _limits.check_array(self.uri, meta.shape, meta.read_shape, meta.dtype.itemsize)
        nbytes = math.prod(meta.read_shape) * meta.dtype.itemsize
        self._max_chunk_bytes = _limits.bound(nbytes) * (8 if getattr(meta, "filters", None) else 1)
        compiled = _compile(meta, self.uri)
        if compiled.index_size is not None and compiled.index_size > _limits.MAX_CHUNK_BYTES // 16:
            raise LimitExceededError(self.uri, f"shard index of {compiled.index_size} bytes; too many chunks per shard")
        self._decode_chunk = compiled.decoder
        self._index_decoder = compiled.index_decoder
        self._index_size = compiled.index_size
        self._cps = compiled.chunks_per_shard
        self._sharded = compiled.index_decoder is not None
        self._index_at_end = meta.sharding is not None and meta.sharding.index_location == "end"
        self._index_cache: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._index_cache_bytes = 0
        self._index_pending: dict[tuple[int, ...], asyncio.Future[Any]] = {}

    def __repr__(self) -> str:
        return f"ZarrArrayReader({self.uri!r}, v{self.meta.zarr_format}, shape={self.shape}, chunks={self.chunk_shape})"

    # -- keys ------------------------------------------------------------------------
    def _key_path(self, key: str) -> str:
        if self._base is not None:
            return f"{self._base}/{key}"
        return self._path.join(key).fs_path

    def _key_url(self, key: str) -> str:
        return self._path.join(key).url

    def _shard_of(self, coord: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        shard = tuple(c // k for c, k in zip(coord, self._cps, strict=True))
        inner = tuple(c % k for c, k in zip(coord, self._cps, strict=True))
        return shard, inner

    def chunk_key_uri(self, coord: tuple[int, ...]) -> str:
        if self._sharded:
            shard, inner = self._shard_of(coord)
            return f"{self._key_url(self.meta.chunk_key(shard))} (inner chunk {list(inner)})"
        return self._key_url(self.meta.chunk_key(coord))

    # -- fetching --------------------------------------------------------------------
    async def fetch(self, coords: Sequence[tuple[int, ...]], meters: Sequence[RequestMeter] = ()) -> list[bytes | None]:
        if not coords:
            return []
        if not self._sharded:
            get = self._storage.get
            key = self.meta.chunk_key
            cap = self._max_chunk_bytes
            return await gather_or_cancel(*(get(self._key_path(key(c)), meters=meters, max_bytes=cap) for c in coords))
        out: list[bytes | None] = [None] * len(coords)
        groups: dict[tuple[int, ...], list[tuple[int, int]]] = {}
        cps = self._cps
        for i, coord in enumerate(coords):
            shard = []
            linear = 0
            for c, k in zip(coord, cps, strict=True):
                shard.append(c // k)
                linear = linear * k + c % k
            groups.setdefault(tuple(shard), []).append((i, linear))
        await gather_or_cancel(*(self._fetch_in_shard(s, items, out, meters) for s, items in groups.items()))
        return out

    async def _fetch_in_shard(
        self,
        shard: tuple[int, ...],
        items: list[tuple[int, int]],
        out: list[bytes | None],
        meters: Sequence[RequestMeter],
    ) -> None:
        index = await self._shard_index(shard, meters)
        if index is None:
            return
        ranges: list[tuple[int, int, int]] = []
        for i, linear in items:
            offset, nbytes = int(index[linear, 0]), int(index[linear, 1])
            if offset == EMPTY_INDEX_ENTRY or nbytes == EMPTY_INDEX_ENTRY:
                continue
            if nbytes > self._max_chunk_bytes:
                raise CorruptChunkError(
                    self._key_url(self.meta.chunk_key(shard)),
                    f"shard index names a chunk of {nbytes} bytes, more than the {self._max_chunk_bytes} its shape allows for",
                )
            ranges.append((offset, nbytes, i))
        if not ranges:
            return
        batches = coalesce_ranges(ranges, gap=COALESCE_GAP)
        path = self._key_path(self.meta.chunk_key(shard))
        await gather_or_cancel(*(self._fetch_batch(path, shard, b, out, meters) for b in batches))

    async def _fetch_batch(
        self,
        path: str,
        shard: tuple[int, ...],
        batch: tuple[int, int, list[tuple[int, int, int]]],
        out: list[bytes | None],
        meters: Sequence[RequestMeter],
    ) -> None:
        start, end, members = batch
        data = await self._storage.get_range(path, start, end - start, meters=meters)
        if data is None:
            return
        if len(data) > end - start:  # a server that ignores Range sent the whole shard
            data = data[start:end]
        if len(data) < end - start:
            raise CorruptChunkError(
                self._key_url(self.meta.chunk_key(shard)),
                f"shard is shorter than its index says (bytes {start}..{end} requested, {len(data)} received)",
            )
        if len(members) == 1 and members[0][1] == len(data):
            out[members[0][2]] = bytes(data)
            return
        view = memoryview(data)
        for offset, nbytes, i in members:
            out[i] = bytes(view[offset - start : offset - start + nbytes])

    async def _shard_index(self, shard: tuple[int, ...], meters: Sequence[RequestMeter]) -> Any:
        cached = self._index_cache.get(shard, _MISSING)
        if cached is not _MISSING:
            self._index_cache.move_to_end(shard)
            return cached
        future = self._index_pending.get(shard)
        if future is None:
            future = asyncio.ensure_future(self._load_index(shard, meters))
            self._index_pending[shard] = future

            def done(f: asyncio.Future[Any], shard: tuple[int, ...] = shard) -> None:
                self._index_pending.pop(shard, None)
                if not f.cancelled() and f.exception() is None:
                    self._remember_index(shard, f.result())

            future.add_done_callback(done)
        return await asyncio.shield(future)

    def _remember_index(self, shard: tuple[int, ...], index: Any) -> None:
        if shard in self._index_cache:
            return
        self._index_cache[shard] = index
        self._index_cache_bytes += index.nbytes if index is not None else 0
        while self._index_cache and (
            len(self._index_cache) > INDEX_CACHE_ENTRIES or self._index_cache_bytes > INDEX_CACHE_BYTES
        ):
            _, old = self._index_cache.popitem(last=False)
            self._index_cache_bytes -= old.nbytes if old is not None else 0

    async def _load_index(self, shard: tuple[int, ...], meters: Sequence[RequestMeter]) -> np.ndarray | None:
        key = self.meta.chunk_key(shard)
        path = self._key_path(key)
        size = self._index_size
        if self._index_at_end:
            data = await self._storage.get_range(path, -size, None, meters=meters)
        else:
            data = await self._storage.get_range(path, 0, size, meters=meters)
        if data is None:
            return None
        if len(data) > size:  # a server that ignores Range sent the whole shard
            data = data[-size:] if self._index_at_end else data[:size]
        if len(data) != size:
            raise CorruptChunkError(self._key_url(key), f"shard index has {len(data)} bytes, expected {size}")
        assert self._index_decoder is not None
        try:
            index = self._index_decoder(data)
        except Exception as exc:
            raise CorruptChunkError(self._key_url(key), f"cannot decode the shard index: {exc}") from None
        return np.ascontiguousarray(index).reshape(-1, 2)

    # -- decoding --------------------------------------------------------------------
    def decode(self, coord: tuple[int, ...], data: bytes) -> np.ndarray:
        try:
            arr = self._decode_chunk(data)
        except RemoteDatasetError:
            raise
        except Exception as exc:
            raise CorruptChunkError(self.chunk_key_uri(coord), f"cannot decode chunk: {exc}") from None
        extent = self.chunk_extent(coord)
        if arr.shape != extent:
            # a copy, so that the edge chunk does not pin (and under-report) the full buffer
            arr = arr[tuple(slice(0, e) for e in extent)].copy()
        return arr


def _load_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
        raise MalformedMetadataError(where, f"malformed JSON: {detail}") from None


async def fetch_array_meta(storage: Storage, path: SourceURI, data_format: str | None = None) -> ZarrArrayMeta:
    """Fetch and parse a level's metadata: `.zarray` for "zarr", `zarr.json` for "zarr3",
    both concurrently (zarr.json preferred) when the format is not known."""
    names = {"zarr": [".zarray"], "zarr3": ["zarr.json"]}.get(data_format or "", ["zarr.json", ".zarray"])
    results = await asyncio.gather(*(storage.get(path.join(n).fs_path) for n in names))
    for name, data in zip(names, results, strict=True):
        if data is not None:
            return parse_array_meta(_load_json(data, path.join(name).url), path.url, name)
    raise SourceNotFoundError(path.url, f"no Zarr array here ({' or '.join(names)} not found)")


async def open_reader(storage: Storage, mag: MagSpec, data_format: str | None = None) -> ZarrArrayReader:
    """The reader of one resolution level (data_format "zarr" or "zarr3").

    Uses `mag.array_meta` (a `ZarrArrayMeta` kept from exploration) when present, else
    fetches the level's metadata (`data_format` saves the probe of the other file name).
    """
    meta = mag.array_meta
    if not isinstance(meta, ZarrArrayMeta):
        meta = await fetch_array_meta(storage, mag.path, data_format)
    return ZarrArrayReader(storage, mag.path, meta)


# --------------------------------------------------------------------------------------
# Explorer helpers shared with ngff.py and webknossos.py
# --------------------------------------------------------------------------------------

_SEG_NAMES = frozenset({"segmentation", "labels"})


def category_from_name(name: str, element_class: str) -> tuple[Category, str]:
    """(category, category_source) by WEBKNOSSOS's name rule, used only when no real signal
    decides: the whole name `segmentation` or `labels` (any case) with an integer type is a
    segmentation; everything else (`cells_labels`, `em_seg_raw`, ...) is color."""
    if element_class in INTEGER_ELEMENT_CLASSES and (name or "").strip().lower() in _SEG_NAMES:
        return "segmentation", "name"
    return "color", "default"


_NAME_JUNK = re.compile(r"[^A-Za-z0-9_-]+")


def sanitize_name(text: Any) -> str:
    """Keep ASCII letters, digits, `_` and `-` (what layer names may contain)."""
    return _NAME_JUNK.sub("", str(text)) if text is not None else ""


def folder_name(uri: SourceURI) -> str:
    """The folder name without the usual container suffixes, for naming layers."""
    name = uri.name
    for suffix in (".ome.zarr", ".zarr", ".n5"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


_CHANNEL_NAMES = ("c", "channel", "channels")


def plain_axis_order(
    shape: Sequence[int], dimension_names: Sequence[str | None] | None = None
) -> tuple[dict[str, int], list[AdditionalAxis]]:
    """Axis order of an array without multiscale metadata.

    When `dimension_names` name x and y, the names decide (z, c/channel optional; every other
    dimension is an additional axis). Otherwise the axes count from the end: x = last,
    y = second to last, z = third to last (2D arrays have no z); of the leading dimensions a
    named one is "c" if named c/channel, else an additional axis under its name; unnamed,
    the 4th from last is "c" and earlier ones are additional axes ("t" if there is exactly
    one, else "dim<i>").
    """
    ndim = len(shape)
    names = [n.strip().lower() if isinstance(n, str) and n.strip() else None for n in (dimension_names or [None] * ndim)]
    order: dict[str, int] = {}
    extra: list[tuple[str | None, int]] = []
    if "x" in names and "y" in names and len(set(n for n in names if n)) == len([n for n in names if n]):
        for dim, n in enumerate(names):
            if n in ("x", "y", "z"):
                order[n] = dim
            elif n in _CHANNEL_NAMES and "c" not in order:
                order["c"] = dim
            else:
                extra.append((n, dim))
    else:
        order["x"] = ndim - 1
        order["y"] = ndim - 2
        if ndim >= 3:
            order["z"] = ndim - 3
        for dim in range(ndim - 3 - 1, -1, -1):
            n = names[dim]
            is_channel = n in _CHANNEL_NAMES or (n is None and dim == ndim - 4)
            if is_channel and "c" not in order:
                order["c"] = dim
            else:
                extra.append((n, dim))
        extra.sort(key=lambda e: e[1])
    unnamed = [dim for n, dim in extra if n is None]
    taken = {n for n, _ in extra if n}
    axes: list[AdditionalAxis] = []
    for n, dim in extra:
        if n is None:
            n = "t" if len(unnamed) == 1 and "t" not in taken else f"dim{dim}"
        axes.append(AdditionalAxis(n, (0, int(shape[dim])), dim))
    return order, axes


def plain_layers(
    uri: SourceURI, meta: ZarrArrayMeta, format_name: str
) -> list[LayerSpec]:
    """Layers of a bare array at `uri`: mag 1, no voxel size, one layer per channel."""
    if meta.ndim < 2:
        raise UnsupportedDataError(uri.url, f"a {meta.ndim}-dimensional array has no x and y axes")
    element_class = element_class_of(meta.dtype, uri.url)
    validate_readable(meta, uri.url)
    axis_order, additional = plain_axis_order(meta.shape, meta.dimension_names)
    shape = meta.shape
    size = (shape[axis_order["x"]], shape[axis_order["y"]], shape[axis_order["z"]] if "z" in axis_order else 1)
    name = sanitize_name(folder_name(uri)) or sanitize_name(folder_name(uri.parent())) or "layer"
    category, source = category_from_name(name, element_class)
    channels = shape[axis_order["c"]] if "c" in axis_order else 1
    layers: list[LayerSpec] = []
    for ch in range(channels) if "c" in axis_order else [None]:
        layers.append(
            LayerSpec(
                name=name if channels == 1 else f"{name}_c{ch}",
                category=category,
                data_format=meta.data_format,
                element_class=element_class,
                bounding_box=BoundingBox((0, 0, 0), size),
                mags=[MagSpec((1, 1, 1), uri, dict(axis_order), ch, meta)],
                num_channels=1,
                voxel_size=None,
                unit=None,
                additional_axes=list(additional),
                category_source=source,
                source_uri=uri.url,
                format_name=format_name,
                dataset_name=uri.name or None,
            )
        )
    return layers


# --------------------------------------------------------------------------------------
# Plain-array explorers
# --------------------------------------------------------------------------------------


async def _explore_zarr3(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    doc = await ctx.fetch_json(uri, "zarr.json")
    if doc is None:
        raise NotThisFormat("no zarr.json")
    if not isinstance(doc, dict):
        raise MalformedMetadataError(uri.join("zarr.json").url, "not a JSON object")
    if doc.get("zarr_format") != 3:
        raise NotThisFormat(f"zarr.json has zarr_format {doc.get('zarr_format')!r}, not 3")
    if doc.get("node_type") != "array":
        raise NotThisFormat(f"zarr.json describes a {doc.get('node_type')!r} node, not an array")
    meta = parse_zarr_json(doc, uri.url)
    return plain_layers(uri, meta, "zarr3")


async def _explore_zarr2(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    doc = await ctx.fetch_json(uri, ".zarray")
    if doc is None:
        raise NotThisFormat("no .zarray")
    meta = parse_zarray(doc, uri.url)
    # xarray's dimension names; `.zattrs` is a probe file of the NGFF explorer tried
    # before this one, so reading it again costs no request
    try:
        attrs = await ctx.fetch_json(uri, ".zattrs")
    except RemoteDatasetError:
        attrs = None
    if isinstance(attrs, dict):
        dims = attrs.get("_ARRAY_DIMENSIONS")
        if isinstance(dims, list) and len(dims) == meta.ndim and all(isinstance(d, str) for d in dims):
            meta = replace(meta, dimension_names=tuple(dims), attributes=attrs)
        else:
            meta = replace(meta, attributes=attrs)
    return plain_layers(uri, meta, "zarr2")


ZARR3_EXPLORER = Explorer("zarr3", ("zarr.json",), frozenset({"zarr", "zarr3"}), _explore_zarr3)
ZARR2_EXPLORER = Explorer("zarr2", (".zarray",), frozenset({"zarr", "zarr2"}), _explore_zarr2)

EXPLORERS: list[Explorer] = [ZARR3_EXPLORER, ZARR2_EXPLORER]

FORMAT = Format(
    name="zarr",
    explorers=tuple(EXPLORERS),
    data_formats=("zarr", "zarr3"),
    open_reader=open_reader,
    uri_prefixes={"zarr": "zarr", "zarr2": "zarr2", "zarr3": "zarr3"},
    neuroglancer_prefix={"zarr": "zarr2", "zarr3": "zarr3"},
    metadata_files={".zattrs": None, ".zarray": None, ".zgroup": None, "zarr.json": None},
    axis_order={"zarr": PLAIN, "zarr3": PLAIN},
)
