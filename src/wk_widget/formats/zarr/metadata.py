"""Zarr v2 / v3 array metadata: `.zarray` / `zarr.json` parsed into one typed `ZarrArrayMeta` (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ...errors import (
    MalformedMetadataError,
    UnsupportedDataError,
)
from ..base import (
    DataFormat,
)

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
