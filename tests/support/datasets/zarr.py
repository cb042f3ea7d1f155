"""Plain zarr v2/v3 arrays written by zarr-python (codecs, orders, sharding, key encodings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .core import (
    ZYX,
    CaseFn,
    CaseRow,
    DatasetCase,
    _bad,
    _Ctx,
    _edit_json,
    layer,
    noise,
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
    return DatasetCase(
        id=cid,
        writer="zarr-python",
        relpath=rel,
        uri_suffix=uri_suffix,
        format=fmt,
        name=cid,
        voxel_size=(1.0, 1.0, 1.0),
        unit="nanometer",
        notes=notes,
        layers=[
            layer(
                ctx,
                cid,
                cid,
                data_format="zarr" if fmt == "zarr2" else "zarr3",
                axes=ZYX,
                levels=[data],
                mags=[(1, 1, 1)],
                mag_paths=[""],
                bounding_box=xyz_bbox(data.shape[::-1]),
            ),
        ],
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


def bad_zarr2_float16(ctx: _Ctx) -> DatasetCase:
    import zarr

    rel = "bad/zarr2_float16"
    arr = zarr.create_array(
        ctx.folder(rel), shape=(10, 20, 30), chunks=(8, 16, 16), dtype="float16", zarr_format=2
    )
    arr[...] = noise((10, 20, 30), np.float16, 52)
    return _bad(
        "bad_zarr2_float16",
        "zarr-python",
        rel,
        "zarr2",
        ["float16", "<f2", "f2"],
        'valid zarr v2 with dtype "<f2": unsupported element class',
    )


def bad_zarr3_unknown_codec(ctx: _Ctx) -> DatasetCase:
    import zarr

    rel = "bad/zarr3_unknown_codec"
    path = ctx.folder(rel)
    arr = zarr.create_array(
        path, shape=(10, 20, 30), chunks=(8, 16, 16), dtype="uint8", zarr_format=3
    )
    arr[...] = noise((10, 20, 30), np.uint8, 53)
    _edit_json(path / "zarr.json", lambda m: m["codecs"].append({"name": "wk_test_unknown_codec"}))
    return _bad(
        "bad_zarr3_unknown_codec",
        "zarr-python",
        rel,
        "zarr3",
        ["codec", "wk_test_unknown_codec"],
        "zarr.json codecs edited: unknown codec appended",
    )


BAD: list[CaseFn] = [
    bad_zarr2_float16,
    bad_zarr3_unknown_codec,
]
