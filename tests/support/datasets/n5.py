"""N5 arrays written by tensorstore: plain, with channels, COSEM and BigDataViewer multiscales."""

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
    xyz_bbox,
)


def _ts_n5_write(
    path: Path, vol_xyz: np.ndarray, block: Sequence[int], compression: dict[str, Any]
) -> None:
    """N5 via tensorstore: its dims are N5's `dimensions` (x fastest): pass x, y, z."""
    import tensorstore as ts

    dtype = np.dtype(vol_xyz.dtype).name
    spec = {
        "driver": "n5",
        "kvstore": {"driver": "file", "path": str(path)},
        "metadata": {
            "dimensions": list(vol_xyz.shape),
            "blockSize": list(block),
            "dataType": dtype,
            "compression": compression,
        },
    }
    store = ts.open(spec, create=True, delete_existing=True).result()
    store[...] = vol_xyz


def _n5_plain_case(
    ctx: _Ctx, cid: str, vol_xyz: np.ndarray, compression: dict[str, Any], uri_suffix: str = ""
) -> DatasetCase:
    rel = f"n5/{cid}"
    _ts_n5_write(ctx.folder(rel), vol_xyz, (32, 32, 16), compression)
    return DatasetCase(
        id=cid,
        writer="tensorstore",
        relpath=rel,
        uri_suffix=uri_suffix,
        format="n5",
        name=cid,
        voxel_size=(1.0, 1.0, 1.0),
        unit="nanometer",
        notes="plain N5 array: no resolution, so 1 nanometer like plain zarr arrays",
        layers=[
            layer(
                ctx,
                cid,
                cid,
                data_format="n5",
                axes=("x", "y", "z"),
                levels=[vol_xyz],
                mags=[(1, 1, 1)],
                mag_paths=[""],
                bounding_box=xyz_bbox(vol_xyz.shape),
            ),
        ],
    )


def n5_channels_uint8(ctx: _Ctx) -> DatasetCase:
    """4-D N5 with a channel dimension (`dimensions` x, y, z, c): one layer per channel."""
    cid = "n5_channels_uint8"
    rel = f"n5/{cid}"
    xyzc = np.ascontiguousarray(noise((3, 40, 30, 12), np.uint8, 25).transpose(1, 2, 3, 0))
    _ts_n5_write(ctx.folder(rel), xyzc, (16, 16, 8, 1), {"type": "gzip"})
    return DatasetCase(
        id=cid,
        writer="tensorstore",
        relpath=rel,
        format="n5",
        name=cid,
        voxel_size=(1.0, 1.0, 1.0),
        unit="nanometer",
        notes="every channel readable; exported axisOrder names c in N5 positions",
        layers=[
            layer(
                ctx,
                cid,
                f"{cid}_c{ch}",
                data_format="n5",
                axes=("x", "y", "z", "c"),
                levels=[xyzc],
                mags=[(1, 1, 1)],
                mag_paths=[""],
                bounding_box=xyz_bbox((40, 30, 12)),
                channel_index=ch,
            )
            for ch in range(3)
        ],
    )


def _n5_pyramid(
    ctx: _Ctx,
    rel: str,
    vol_xyz: np.ndarray,
    mags: Sequence[Vec3],
    extra_attrs: Callable[[int, Vec3], dict[str, Any]],
) -> list[np.ndarray]:
    """s0..sN by tensorstore (data downsampled here, by striding); returns the levels."""
    levels = [downsample(vol_xyz, mag) for mag in mags]
    for i, (mag, data) in enumerate(zip(mags, levels, strict=True)):
        path = ctx.folder(f"{rel}/s{i}")
        _ts_n5_write(path, data, (32, 32, 16), {"type": "gzip"})
        attrs_path = path / "attributes.json"
        attrs_path.write_text(
            json.dumps({**json.loads(attrs_path.read_text()), **extra_attrs(i, mag)}, indent=2)
        )
    return levels


def n5_multiscales_cosem(ctx: _Ctx) -> DatasetCase:
    """COSEM style: group `multiscales[0].datasets[].transform{axes, scale, units}`."""
    cid, rel = "n5_multiscales_cosem", "n5/cosem_multiscale"
    mags: list[Vec3] = [(1, 1, 1), (2, 2, 1), (4, 4, 2)]
    base_zyx = (8.0, 4.0, 4.0)  # voxel size (z, y, x) in nm

    def transform(mag: Vec3) -> dict[str, Any]:
        scale = [base_zyx[0] * mag[2], base_zyx[1] * mag[1], base_zyx[2] * mag[0]]
        return {
            "axes": ["z", "y", "x"],
            "scale": scale,
            "translate": [0.0, 0.0, 0.0],
            "units": ["nm", "nm", "nm"],
        }

    levels = _n5_pyramid(
        ctx, rel, noise((100, 80, 30), np.uint8, 25), mags, lambda i, m: {"transform": transform(m)}
    )
    _write_json(
        ctx.folder(rel) / "attributes.json",
        {
            "n5": "2.5.1",
            "multiscales": [
                {
                    "name": "cosem_multiscale",
                    "datasets": [
                        {"path": f"s{i}", "transform": transform(m)} for i, m in enumerate(mags)
                    ],
                }
            ],
        },
    )
    return DatasetCase(
        id=cid,
        writer="tensorstore",
        relpath=rel,
        format="n5-multiscales-cosem",
        name="cosem_multiscale",
        voxel_size=(4.0, 4.0, 8.0),
        unit="nanometer",
        notes="arrays by tensorstore; group attributes.json written here in the COSEM layout "
        "(axes listed z, y, x = reverse of N5 `dimensions`); level data downsampled here",
        layers=[
            layer(
                ctx,
                cid,
                "cosem_multiscale",
                data_format="n5",
                axes=("x", "y", "z"),
                levels=levels,
                mags=mags,
                mag_paths=["s0", "s1", "s2"],
                bounding_box=xyz_bbox((100, 80, 30)),
            ),
        ],
    )


def n5_multiscales_bdv(ctx: _Ctx) -> DatasetCase:
    """BigDataViewer / n5-viewer style: `multiScale`, `resolution`, `downsamplingFactors`."""
    cid, rel = "n5_multiscales_bdv", "n5/bdv_multiscale"
    mags: list[Vec3] = [(1, 1, 1), (2, 2, 1), (4, 4, 2)]
    levels = _n5_pyramid(
        ctx,
        rel,
        noise((90, 70, 24), np.uint16, 26),
        mags,
        lambda i, m: {"downsamplingFactors": list(m)},
    )
    _write_json(
        ctx.folder(rel) / "attributes.json",
        {
            "n5": "2.5.1",
            "multiScale": True,
            "resolution": [0.25, 0.25, 1.0],
            "downsamplingFactors": [list(m) for m in mags],
        },
    )
    return DatasetCase(
        id=cid,
        writer="tensorstore",
        relpath=rel,
        format="n5-multiscales-bdv",
        name="bdv_multiscale",
        voxel_size=(0.25, 0.25, 1.0),
        unit="micrometer",
        notes="no unit given: micrometer (N5 default). resolution/downsamplingFactors are "
        "x, y, z; each sN also has its own downsamplingFactors attribute",
        layers=[
            layer(
                ctx,
                cid,
                "bdv_multiscale",
                data_format="n5",
                axes=("x", "y", "z"),
                levels=levels,
                mags=mags,
                mag_paths=["s0", "s1", "s2"],
                bounding_box=xyz_bbox((90, 70, 24)),
            ),
        ],
    )


def bad_n5_unknown_compression(ctx: _Ctx) -> DatasetCase:
    rel = "bad/n5_unknown_compression"
    path = ctx.folder(rel)
    _ts_n5_write(path, noise((40, 30, 10), np.uint8, 56), (16, 16, 8), {"type": "gzip"})
    _edit_json(
        path / "attributes.json",
        lambda a: a.update(compression={"type": "wk_test_unknown_compression"}),
    )
    return _bad(
        "bad_n5_unknown_compression",
        "tensorstore",
        rel,
        "n5",
        ["compression", "wk_test_unknown_compression"],
        "attributes.json compression type edited",
    )


def _row(
    cid: str, shape_xyz: tuple[int, int, int], dtype: Any, seed: int, compression: dict[str, Any], uri_suffix: str = ""
) -> CaseRow:
    """A plain N5 array of ``noise(shape_xyz, dtype, seed)`` (x fastest) with ``compression``."""
    return CaseRow(
        cid,
        _n5_plain_case,
        lambda: noise(shape_xyz, dtype, seed),
        lambda: {"compression": compression},
        uri_suffix=uri_suffix,
    )


ROWS: list[CaseFn] = [
    _row("n5_uint16_gzip", (100, 70, 30), np.uint16, 21, {"type": "gzip"}),
    _row("n5_uint8_raw", (90, 60, 25), np.uint8, 22, {"type": "raw"}, "/attributes.json"),
    _row("n5_float32_blosc", (70, 50, 20), np.float32, 23, {"type": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}),
    _row("n5_int32_zstd", (60, 50, 20), np.int32, 24, {"type": "zstd", "level": 3}),
    n5_channels_uint8,
    n5_multiscales_cosem,
    n5_multiscales_bdv,
]
BAD: list[CaseFn] = [
    bad_n5_unknown_compression,
]
