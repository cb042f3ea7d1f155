"""Neuroglancer precomputed volumes written by tensorstore, cloud-volume and imagecodecs
(raw, jpeg, jxl, compressed_segmentation, compresso, sharded, voxel offsets)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .core import (
    BadRow,
    CaseFn,
    CaseRow,
    DatasetCase,
    Vec3,
    _Ctx,
    _edit_json,
    _write_json,
    downsample,
    noise,
    one_layer_case,
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
    return one_layer_case(
        ctx,
        cid,
        writer="tensorstore",
        relpath=rel,
        fmt="precomputed",
        name=cid,
        voxel_size=_vec3f(resolution),
        unit="nanometer",
        uri_suffix=uri_suffix,
        notes=notes,
        data_format="neuroglancerPrecomputed",
        axes=("x", "y", "z", "c"),
        levels=levels,
        mags=list(factors),
        mag_paths=keys,
        bounding_box=xyz_bbox(vol_xyzc.shape[:3]),
        tolerance=tolerance,
        category="segmentation" if kind == "segmentation" else "color",
    )


def _vec3f(v: Sequence[float]) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


JPEG_TOLERANCE = 24.0  # max. abs. difference per voxel (quality 75 on smooth data gives ~8)


def _cloudvolume_case(
    ctx: _Ctx,
    cid: str,
    data_xyzc: np.ndarray,
    *,
    relpath: str,
    encoding: str,
    resolution: Vec3,
    offset: Vec3,
    chunk: Vec3,
    factor: Vec3,
    mag_paths: list[str],
    offset_2: Vec3,
    notes: str = "",
) -> DatasetCase:
    """A 2-scale segmentation (the second ``factor`` coarser) written by cloud-volume with
    ``voxel_offset``; ``mag_paths`` and ``offset_2`` (the second scale's offset) are what
    cloud-volume names and computes."""
    from cloudvolume import CloudVolume

    url = ctx.folder(relpath).resolve().as_uri()
    size = data_xyzc.shape[:3]
    info = CloudVolume.create_new_info(
        num_channels=1,
        layer_type="segmentation",
        data_type=data_xyzc.dtype.name,
        encoding=encoding,
        resolution=list(resolution),
        voxel_offset=list(offset),
        volume_size=list(size),
        chunk_size=list(chunk),
    )
    vol = CloudVolume(url, info=info, compress=False, progress=False)
    vol.add_scale(factor, chunk_size=list(chunk))
    vol.commit_info()
    levels = [data_xyzc, downsample(data_xyzc, (*factor, 1))]
    for mip, level in enumerate(levels):
        CloudVolume(url, mip=mip, compress=False, progress=False)[...] = level
    name = relpath.rsplit("/", 1)[-1]
    return one_layer_case(
        ctx,
        cid,
        writer="cloud-volume",
        relpath=relpath,
        fmt="precomputed",
        name=name,
        voxel_size=_vec3f(resolution),
        unit="nanometer",
        notes=notes,
        data_format="neuroglancerPrecomputed",
        axes=("x", "y", "z", "c"),
        levels=levels,
        mags=[(1, 1, 1), factor],
        mag_paths=mag_paths,
        bounding_box=xyz_bbox(size, offset),
        offsets=[offset, offset_2],
        category="segmentation",
    )


def _cloudvolume_row(cid: str, data: Callable[[], np.ndarray], **options: Any) -> CaseRow:
    """A cloud-volume segmentation of ``data()`` (x, y, z, c); options of ``_cloudvolume_case``."""
    return CaseRow(cid, _cloudvolume_case, data, lambda: options)


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
    return one_layer_case(
        ctx,
        cid,
        writer="imagecodecs",
        relpath=rel,
        fmt="precomputed",
        name="jxl",
        voxel_size=(4.0, 4.0, 40.0),
        unit="nanometer",
        notes="lossless JPEG XL, so the values are exact",
        data_format="neuroglancerPrecomputed",
        axes=("x", "y", "z", "c"),
        levels=[vol[..., None]],
        mags=[(1, 1, 1)],
        mag_paths=["4_4_40"],
        bounding_box=xyz_bbox(size),
    )


def _unknown_encoding(path: Path) -> None:
    _ts_precomputed(
        path, [noise((40, 30, 10, 1), np.uint8, 55)], kind="image", resolutions=[(4.0, 4.0, 40.0)], chunk=(16, 16, 8)
    )
    _edit_json(path / "info", lambda info: info["scales"][0].update(encoding="wk_test_unknown_encoding"))


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
    _cloudvolume_row(
        "cloudvolume_segmentation_offset_uint32", lambda: segments((70, 60, 20), np.uint32, block=(7, 9, 3))[..., None],
        relpath="cloudvolume/segmentation_offset", encoding="raw", resolution=(8, 8, 40), offset=(10, 20, 5),
        chunk=(32, 32, 8), factor=(2, 2, 1), mag_paths=["8_8_40", "16_16_40"], offset_2=(5, 10, 5),
        notes="info has no '@type'; resolutions are ints; chunk files are named from the "
        "voxel_offset (10-42_20-52_5-13), scale 2 offset (5, 10, 5)",
    ),
    _cloudvolume_row(
        "cloudvolume_compresso_uint32", lambda: segments((70, 50, 20), np.uint32, block=(9, 7, 5), base=1000)[..., None],
        relpath="cloudvolume/compresso", encoding="compresso", resolution=(8, 8, 8), offset=(3, 5, 7),
        chunk=(32, 32, 16), factor=(2, 2, 2), mag_paths=["8_8_8", "16_16_16"], offset_2=(1, 2, 3),
        notes="compresso chunks; scale 2 voxel_offset (1, 2, 3)",
    ),
    precomputed_jxl_uint8,
]  # fmt: skip

BAD: list[CaseFn] = [
    BadRow(
        "bad_precomputed_unknown_encoding", "tensorstore", "precomputed", _unknown_encoding,
        ["encoding", "wk_test_unknown_encoding"], "info scale encoding edited", uri_suffix="/info",
    ),
]  # fmt: skip
