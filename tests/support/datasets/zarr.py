"""Plain zarr v2/v3 arrays written by zarr-python (codecs, orders, sharding, key encodings)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .core import (
    ZYX,
    BadRow,
    CaseFn,
    CaseRow,
    DatasetCase,
    _Ctx,
    _edit_json,
    noise,
    one_layer_case,
    xyz_bbox,
)


def _plain_zarr_case(
    ctx: _Ctx,
    cid: str,
    data: np.ndarray,
    *,
    fmt: str,
    uri_suffix: str = "",
    notes: str = "",
    **create: Any,
) -> DatasetCase:
    """A plain (z, y, x) array: mag 1 only, voxel size 1 nanometer, x = last dim."""
    import zarr

    rel = f"zarr/{cid}"
    arr = zarr.create_array(
        ctx.folder(rel),
        shape=data.shape,
        dtype=data.dtype,
        zarr_format=2 if fmt == "zarr2" else 3,
        **create,
    )
    arr[...] = data
    return one_layer_case(
        ctx,
        cid,
        writer="zarr-python",
        relpath=rel,
        fmt=fmt,
        name=cid,
        voxel_size=(1.0, 1.0, 1.0),
        unit="nanometer",
        uri_suffix=uri_suffix,
        notes=notes,
        data_format="zarr" if fmt == "zarr2" else "zarr3",
        axes=ZYX,
        levels=[data],
        mags=[(1, 1, 1)],
        mag_paths=[""],
        bounding_box=xyz_bbox(data.shape[::-1]),
    )


def _blosc_lz4() -> dict[str, Any]:
    import numcodecs

    return {"compressors": numcodecs.Blosc(cname="lz4", clevel=5)}


def _zstd_v2() -> dict[str, Any]:
    import numcodecs

    return {"compressors": numcodecs.Zstd(level=3)}


def _gzip() -> dict[str, Any]:
    from zarr.codecs import GzipCodec

    return {"compressors": [GzipCodec(level=5)]}


def _transpose_zstd_crc32c() -> dict[str, Any]:
    from zarr.codecs import Crc32cCodec, TransposeCodec, ZstdCodec

    return {"filters": [TransposeCodec(order=(2, 1, 0))], "compressors": [ZstdCodec(level=3), Crc32cCodec()]}


def _zstd_v3() -> dict[str, Any]:
    from zarr.codecs import ZstdCodec

    return {"compressors": [ZstdCodec(level=3)]}


def _row(
    cid: str,
    fmt: str,
    shape: tuple[int, int, int],
    dtype: Any,
    seed: int,
    codecs: Callable[[], dict[str, Any]] = dict,
    uri_suffix: str = "",
    notes: str = "",
    **create: Any,
) -> CaseRow:
    """A plain (z, y, x) array of ``noise(shape, dtype, seed)`` written as ``fmt``."""
    return CaseRow(
        cid,
        _plain_zarr_case,
        lambda: noise(shape, dtype, seed),
        lambda: {"fmt": fmt, **create, **codecs()},
        uri_suffix=uri_suffix,
        notes=notes,
    )


C16 = (16, 32, 32)

#: id, format, shape (z, y, x), dtype, seed, codecs, ...: one line per plain zarr case.
ROWS: list[CaseFn] = [
    _row("zarr2_uint8_blosc", "zarr2", (40, 100, 130), np.uint8, 11, _blosc_lz4, "/.zarray", chunks=C16),
    _row(
        "zarr2_uint16_forder_slash", "zarr2", (30, 70, 90), np.uint16, 12, _zstd_v2,
        notes='.zarray has order "F" (chunks stored Fortran order) and dimension_separator "/"',
        chunks=C16, order="F", chunk_key_encoding={"name": "v2", "separator": "/"},
    ),
    _row("zarr3_int16_gzip", "zarr3", (30, 70, 90), np.int16, 13, _gzip, "/zarr.json", chunks=C16),
    _row(
        "zarr3_uint16_transpose_crc32c", "zarr3", (25, 60, 70), np.uint16, 14, _transpose_zstd_crc32c,
        notes="codecs: transpose(order [2,1,0]), bytes, zstd, crc32c", chunks=C16,
    ),
    _row(
        "zarr3_sharded_uint8", "zarr3", (50, 100, 130), np.uint8, 15,
        notes="sharding_indexed: shards (32, 64, 64) of chunks (16, 16, 16), "
        "partial shards at every upper edge; index bytes+crc32c at the end",
        chunks=(16, 16, 16), shards=(32, 64, 64),
    ),
    _row(
        "zarr3_v2_chunk_keys_uint32", "zarr3", (30, 70, 90), np.uint32, 16,
        notes='chunk_key_encoding v2 with ".": keys like "0.1.2" (no c/ prefix)',
        chunks=C16, chunk_key_encoding={"name": "v2", "separator": "."},
    ),
    _row("zarr3_float64", "zarr3", (20, 50, 60), np.float64, 17, _zstd_v3, chunks=(8, 32, 32)),
]  # fmt: skip


def _write_zarr_noise(dtype: str, zarr_format: int, seed: int) -> Callable[[Path], Any]:
    """A valid (10, 20, 30) zarr array of ``noise``, chunks (8, 16, 16); returns the array."""

    def write(path: Path) -> Any:
        import zarr

        arr = zarr.create_array(path, shape=(10, 20, 30), chunks=(8, 16, 16), dtype=dtype, zarr_format=zarr_format)
        arr[...] = noise((10, 20, 30), np.dtype(dtype), seed)
        return arr

    return write


def _unknown_codec(path: Path) -> None:
    _write_zarr_noise("uint8", 3, 53)(path)
    _edit_json(path / "zarr.json", lambda m: m["codecs"].append({"name": "wk_test_unknown_codec"}))


BAD: list[CaseFn] = [
    BadRow(
        "bad_zarr2_float16", "zarr-python", "zarr2", _write_zarr_noise("float16", 2, 52),
        ["float16", "<f2", "f2"], 'valid zarr v2 with dtype "<f2": unsupported element class',
    ),
    BadRow(
        "bad_zarr3_unknown_codec", "zarr-python", "zarr3", _unknown_codec,
        ["codec", "wk_test_unknown_codec"], "zarr.json codecs edited: unknown codec appended",
    ),
]  # fmt: skip
