"""Neuroglancer precomputed volumes written by tensorstore, cloud-volume and imagecodecs
(raw, jpeg, jxl, compressed_segmentation, compresso, sharded, voxel offsets)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .core import (
    CaseFn,
    CaseRow,
    DatasetCase,
    Vec3,
    _bad,
    _Ctx,
    _edit_json,
    _write_json,
    downsample,
    layer,
    noise,
    segments,
    smooth,
    xyz_bbox,
)


def _ts_precomputed(
    path: Path,
    levels_xyzc: Sequence[np.ndarray],
    *,
    kind: str,
    resolutions: Sequence[Sequence[float]],
    chunk: Sequence[int],
    encoding: str = "raw",
    offset: Sequence[int] = (0, 0, 0),
    **scale_extra: Any,
) -> list[str]:
    """Precomputed via tensorstore, one scale after the other (never delete_existing)."""
    import tensorstore as ts

    first = levels_xyzc[0]
    for i, (data, res) in enumerate(zip(levels_xyzc, resolutions, strict=True)):
        factor = [int(r // r0) for r, r0 in zip(res, resolutions[0], strict=True)]
        scale = {
            "resolution": list(res),
            "size": list(data.shape[:3]),
            "chunk_size": list(chunk),
            "voxel_offset": [o // f for o, f in zip(offset, factor, strict=True)],
            "encoding": encoding,
            **scale_extra,
        }
        spec: dict[str, Any] = {
            "driver": "neuroglancer_precomputed",
            "kvstore": {"driver": "file", "path": str(path)},
            "scale_metadata": scale,
        }
        if i == 0:
            spec["multiscale_metadata"] = {
                "type": kind,
                "data_type": first.dtype.name,
                "num_channels": first.shape[3],
            }
        store = ts.open(spec, create=True, open=i > 0).result()
        store[...] = data
    info = json.loads((path / "info").read_text())
    return [scale["key"] for scale in info["scales"]]


def _precomputed_case(
    ctx: _Ctx,
    cid: str,
    vol_xyzc: np.ndarray,
    *,
    kind: str = "image",
    factors: Sequence[Vec3] = ((1, 1, 1),),
    resolution: Sequence[float] = (4.0, 4.0, 40.0),
    chunk: Sequence[int] = (32, 32, 8),
    tolerance: float | None = None,
    uri_suffix: str = "",
    notes: str = "",
    **scale_extra: Any,
) -> DatasetCase:
    rel = f"precomputed/{cid}"
    levels = [downsample(vol_xyzc, (*f, 1)) for f in factors]
    resolutions = [[r * f for r, f in zip(resolution, fac, strict=True)] for fac in factors]
    keys = _ts_precomputed(
        ctx.folder(rel), levels, kind=kind, resolutions=resolutions, chunk=chunk, **scale_extra
    )
    return DatasetCase(
        id=cid,
        writer="tensorstore",
        relpath=rel,
        uri_suffix=uri_suffix,
        format="precomputed",
        name=cid,
        voxel_size=_vec3f(resolution),
        unit="nanometer",
        notes=notes,
        layers=[
            layer(
                ctx,
                cid,
                cid,
                data_format="neuroglancerPrecomputed",
                axes=("x", "y", "z", "c"),
                levels=levels,
                mags=list(factors),
                mag_paths=keys,
                bounding_box=xyz_bbox(vol_xyzc.shape[:3]),
                tolerance=tolerance,
                category="segmentation" if kind == "segmentation" else "color",
            ),
        ],
    )


def _vec3f(v: Sequence[float]) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


JPEG_TOLERANCE = 24.0  # max. abs. difference per voxel (quality 75 on smooth data gives ~8)


def cloudvolume_segmentation_offset_uint32(ctx: _Ctx) -> DatasetCase:
    """Precomputed segmentation by cloud-volume with voxel_offset (10, 20, 5), 2 scales."""
    from cloudvolume import CloudVolume

    cid, rel = "cloudvolume_segmentation_offset_uint32", "cloudvolume/segmentation_offset"
    url = ctx.folder(rel).resolve().as_uri()
    offset, size = (10, 20, 5), (70, 60, 20)
    info = CloudVolume.create_new_info(
        num_channels=1,
        layer_type="segmentation",
        data_type="uint32",
        encoding="raw",
        resolution=[8, 8, 40],
        voxel_offset=list(offset),
        volume_size=list(size),
        chunk_size=[32, 32, 8],
    )
    vol = CloudVolume(url, info=info, compress=False, progress=False)
    vol.add_scale((2, 2, 1), chunk_size=[32, 32, 8])
    vol.commit_info()
    data = segments(size, np.uint32, block=(7, 9, 3))[..., None]
    levels = [data, downsample(data, (2, 2, 1, 1))]
    offsets: list[Vec3] = [offset, (5, 10, 5)]
    for mip, level in enumerate(levels):
        CloudVolume(url, mip=mip, compress=False, progress=False)[...] = level
    return DatasetCase(
        id=cid,
        writer="cloud-volume",
        relpath=rel,
        format="precomputed",
        name="segmentation_offset",
        voxel_size=(8.0, 8.0, 40.0),
        unit="nanometer",
        notes="info has no '@type'; resolutions are ints; chunk files are named from the "
        "voxel_offset (10-42_20-52_5-13), scale 2 offset (5, 10, 5)",
        layers=[
            layer(
                ctx,
                cid,
                "segmentation_offset",
                data_format="neuroglancerPrecomputed",
                axes=("x", "y", "z", "c"),
                levels=levels,
                mags=[(1, 1, 1), (2, 2, 1)],
                mag_paths=["8_8_40", "16_16_40"],
                bounding_box=xyz_bbox(size, offset),
                offsets=offsets,
                category="segmentation",
            ),
        ],
    )


def cloudvolume_compresso_uint32(ctx: _Ctx) -> DatasetCase:
    """Precomputed segmentation in `compresso` by cloud-volume: voxel_offset, partial edge
    chunks, 2 scales (what cloud-volume / igneous write for segmentations)."""
    from cloudvolume import CloudVolume

    cid, rel = "cloudvolume_compresso_uint32", "cloudvolume/compresso"
    url = ctx.folder(rel).resolve().as_uri()
    offset, size = (3, 5, 7), (70, 50, 20)
    info = CloudVolume.create_new_info(
        num_channels=1,
        layer_type="segmentation",
        data_type="uint32",
        encoding="compresso",
        resolution=[8, 8, 8],
        voxel_offset=list(offset),
        volume_size=list(size),
        chunk_size=[32, 32, 16],
    )
    vol = CloudVolume(url, info=info, compress=False, progress=False)
    vol.add_scale((2, 2, 2), chunk_size=[32, 32, 16])
    vol.commit_info()
    data = segments(size, np.uint32, block=(9, 7, 5), base=1000)[..., None]
    levels = [data, downsample(data, (2, 2, 2, 1))]
    offsets: list[Vec3] = [offset, (1, 2, 3)]
    for mip, level in enumerate(levels):
        CloudVolume(url, mip=mip, compress=False, progress=False)[...] = level
    return DatasetCase(
        id=cid,
        writer="cloud-volume",
        relpath=rel,
        format="precomputed",
        name="compresso",
        voxel_size=(8.0, 8.0, 8.0),
        unit="nanometer",
        notes="compresso chunks; scale 2 voxel_offset (1, 2, 3)",
        layers=[
            layer(
                ctx,
                cid,
                "compresso",
                data_format="neuroglancerPrecomputed",
                axes=("x", "y", "z", "c"),
                levels=levels,
                mags=[(1, 1, 1), (2, 2, 2)],
                mag_paths=["8_8_8", "16_16_16"],
                bounding_box=xyz_bbox(size, offset),
                offsets=offsets,
                category="segmentation",
            ),
        ],
    )


def precomputed_jxl_uint8(ctx: _Ctx) -> DatasetCase:
    """Precomputed `jxl` chunks written with imagecodecs (lossless JPEG XL), laid out like
    Neuroglancer's jpeg chunks: an image x wide and y * z high."""
    import imagecodecs

    cid, rel = "precomputed_jxl_uint8", "precomputed/jxl"
    root = ctx.folder(rel)
    size, chunk = (50, 40, 6), (32, 32, 4)
    vol = smooth(size, seed=33)
    _write_json(
        root / "info",
        {
            "@type": "neuroglancer_multiscale_volume",
            "type": "image",
            "data_type": "uint8",
            "num_channels": 1,
            "scales": [
                {
                    "key": "4_4_40",
                    "size": list(size),
                    "voxel_offset": [0, 0, 0],
                    "resolution": [4, 4, 40],
                    "chunk_sizes": [list(chunk)],
                    "encoding": "jxl",
                }
            ],
        },
    )
    (root / "4_4_40").mkdir()
    for x0 in range(0, size[0], chunk[0]):
        for y0 in range(0, size[1], chunk[1]):
            for z0 in range(0, size[2], chunk[2]):
                x1, y1, z1 = (min(a + c, s) for a, c, s in zip((x0, y0, z0), chunk, size, strict=True))
                block = vol[x0:x1, y0:y1, z0:z1]  # x, y, z
                image = np.ascontiguousarray(block.transpose(2, 1, 0).reshape((z1 - z0) * (y1 - y0), x1 - x0))
                data = imagecodecs.jpegxl_encode(image, lossless=True)
                (root / "4_4_40" / f"{x0}-{x1}_{y0}-{y1}_{z0}-{z1}").write_bytes(data)
    return DatasetCase(
        id=cid,
        writer="imagecodecs",
        relpath=rel,
        format="precomputed",
        name="jxl",
        voxel_size=(4.0, 4.0, 40.0),
        unit="nanometer",
        notes="lossless JPEG XL, so the values are exact",
        layers=[
            layer(
                ctx,
                cid,
                "jxl",
                data_format="neuroglancerPrecomputed",
                axes=("x", "y", "z", "c"),
                levels=[vol[..., None]],
                mags=[(1, 1, 1)],
                mag_paths=["4_4_40"],
                bounding_box=xyz_bbox(size),
            ),
        ],
    )


def bad_precomputed_unknown_encoding(ctx: _Ctx) -> DatasetCase:
    rel = "bad/precomputed_unknown_encoding"
    path = ctx.folder(rel)
    _ts_precomputed(
        path,
        [noise((40, 30, 10, 1), np.uint8, 55)],
        kind="image",
        resolutions=[(4.0, 4.0, 40.0)],
        chunk=(16, 16, 8),
    )
    _edit_json(
        path / "info", lambda info: info["scales"][0].update(encoding="wk_test_unknown_encoding")
    )
    return _bad(
        "bad_precomputed_unknown_encoding",
        "tensorstore",
        rel,
        "precomputed",
        ["encoding", "wk_test_unknown_encoding"],
        "info scale encoding edited",
        uri_suffix="/info",
    )


def _sharding(hash_: str, preshift: int, minishard: int, shard: int, data_encoding: str) -> dict[str, Any]:
    return {
        "@type": "neuroglancer_uint64_sharded_v1",
        "hash": hash_,
        "preshift_bits": preshift,
        "minishard_bits": minishard,
        "shard_bits": shard,
        "minishard_index_encoding": "gzip",
        "data_encoding": data_encoding,
    }


def _row(
    cid: str, data: Callable[[], np.ndarray], uri_suffix: str = "", notes: str = "", **options: Any
) -> CaseRow:
    """A tensorstore precomputed volume of ``data()`` (x, y, z, c); options of ``_precomputed_case``."""
    return CaseRow(cid, _precomputed_case, data, lambda: options, uri_suffix=uri_suffix, notes=notes)


MAGS_2: list[Vec3] = [(1, 1, 1), (2, 2, 1)]

#: id, data (x, y, z, c), then what differs from the defaults of ``_precomputed_case``.
ROWS: list[CaseFn] = [
    _row(
        "precomputed_raw_multiscale_uint8", lambda: noise((100, 90, 20, 1), np.uint8, 31), "/info",
        factors=MAGS_2, encoding="raw",
    ),
    _row(
        "precomputed_jpeg_uint8", lambda: smooth((100, 90, 20), seed=32)[..., None],
        notes="lossy: truth is what tensorstore was given", encoding="jpeg", tolerance=JPEG_TOLERANCE,
    ),
    _row(
        "precomputed_segmentation_cseg_uint64", lambda: segments((100, 90, 20), np.uint64, base=2**33)[..., None],
        notes="ids above 2**32 (uint64 matters); no largestSegmentId in info",
        kind="segmentation", factors=MAGS_2, encoding="compressed_segmentation",
        compressed_segmentation_block_size=[8, 8, 8],
    ),
    _row(
        "precomputed_sharded_identity_uint8", lambda: noise((100, 90, 20, 1), np.uint8, 33),
        notes="126 chunks (7 x 6 x 3) in 4 shard files 0.shard..3.shard",
        chunk=(16, 16, 8), sharding=_sharding("identity", 0, 1, 2, "raw"),
    ),
    _row(
        "precomputed_sharded_murmur_gzip_uint16", lambda: noise((100, 90, 20, 1), np.uint16, 34),
        chunk=(16, 16, 8), factors=MAGS_2, sharding=_sharding("murmurhash3_x86_128", 1, 2, 2, "gzip"),
    ),
    _row(
        "precomputed_two_channels_uint16", lambda: noise((60, 50, 16, 2), np.uint16, 35),
        notes="num_channels 2: one layer with 2 channels (the c dim); WEBKNOSSOS itself ignores num_channels",
        chunk=(32, 32, 8),
    ),
    cloudvolume_segmentation_offset_uint32,
    cloudvolume_compresso_uint32,
    precomputed_jxl_uint8,
]  # fmt: skip

BAD: list[CaseFn] = [
    bad_precomputed_unknown_encoding,
]
