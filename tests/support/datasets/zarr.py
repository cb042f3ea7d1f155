"""Plain zarr v2/v3 arrays written by zarr-python (codecs, orders, sharding, key encodings)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import (
    ZYX,
    CaseFn,
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


def zarr2_uint8_blosc(ctx: _Ctx) -> DatasetCase:
    import numcodecs

    return _plain_zarr_case(
        ctx,
        "zarr2_uint8_blosc",
        noise((40, 100, 130), np.uint8, 11),
        fmt="zarr2",
        uri_suffix="/.zarray",
        chunks=(16, 32, 32),
        compressors=numcodecs.Blosc(cname="lz4", clevel=5),
    )


def zarr2_uint16_forder_slash(ctx: _Ctx) -> DatasetCase:
    import numcodecs

    return _plain_zarr_case(
        ctx,
        "zarr2_uint16_forder_slash",
        noise((30, 70, 90), np.uint16, 12),
        fmt="zarr2",
        chunks=(16, 32, 32),
        order="F",
        chunk_key_encoding={"name": "v2", "separator": "/"},
        compressors=numcodecs.Zstd(level=3),
        notes='.zarray has order "F" (chunks stored Fortran order) and dimension_separator "/"',
    )


def zarr3_int16_gzip(ctx: _Ctx) -> DatasetCase:
    from zarr.codecs import GzipCodec

    return _plain_zarr_case(
        ctx,
        "zarr3_int16_gzip",
        noise((30, 70, 90), np.int16, 13),
        fmt="zarr3",
        uri_suffix="/zarr.json",
        chunks=(16, 32, 32),
        compressors=[GzipCodec(level=5)],
    )


def zarr3_uint16_transpose_crc32c(ctx: _Ctx) -> DatasetCase:
    from zarr.codecs import Crc32cCodec, TransposeCodec, ZstdCodec

    return _plain_zarr_case(
        ctx,
        "zarr3_uint16_transpose_crc32c",
        noise((25, 60, 70), np.uint16, 14),
        fmt="zarr3",
        chunks=(16, 32, 32),
        filters=[TransposeCodec(order=(2, 1, 0))],
        compressors=[ZstdCodec(level=3), Crc32cCodec()],
        notes="codecs: transpose(order [2,1,0]), bytes, zstd, crc32c",
    )


def zarr3_sharded_uint8(ctx: _Ctx) -> DatasetCase:
    return _plain_zarr_case(
        ctx,
        "zarr3_sharded_uint8",
        noise((50, 100, 130), np.uint8, 15),
        fmt="zarr3",
        chunks=(16, 16, 16),
        shards=(32, 64, 64),
        notes="sharding_indexed: shards (32, 64, 64) of chunks (16, 16, 16), "
        "partial shards at every upper edge; index bytes+crc32c at the end",
    )


def zarr3_v2_chunk_keys_uint32(ctx: _Ctx) -> DatasetCase:
    return _plain_zarr_case(
        ctx,
        "zarr3_v2_chunk_keys_uint32",
        noise((30, 70, 90), np.uint32, 16),
        fmt="zarr3",
        chunks=(16, 32, 32),
        chunk_key_encoding={"name": "v2", "separator": "."},
        notes='chunk_key_encoding v2 with ".": keys like "0.1.2" (no c/ prefix)',
    )


def zarr3_float64(ctx: _Ctx) -> DatasetCase:
    from zarr.codecs import ZstdCodec

    return _plain_zarr_case(
        ctx,
        "zarr3_float64",
        noise((20, 50, 60), np.float64, 17),
        fmt="zarr3",
        chunks=(8, 32, 32),
        compressors=[ZstdCodec(level=3)],
    )


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


ROWS: list[CaseFn] = [
    zarr2_uint8_blosc,
    zarr2_uint16_forder_slash,
    zarr3_int16_gzip,
    zarr3_uint16_transpose_crc32c,
    zarr3_sharded_uint8,
    zarr3_v2_chunk_keys_uint32,
    zarr3_float64,
]
BAD: list[CaseFn] = [
    bad_zarr2_float16,
    bad_zarr3_unknown_codec,
]
