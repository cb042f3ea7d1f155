"""N5 arrays written by tensorstore: plain, with channels, COSEM and BigDataViewer multiscales."""

from __future__ import annotations

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
    layer,
    noise,
    one_layer_case,
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
    return one_layer_case(
        ctx,
        cid,
        writer="tensorstore",
        relpath=rel,
        fmt="n5",
        name=cid,
        voxel_size=(1.0, 1.0, 1.0),
        unit="nanometer",
        uri_suffix=uri_suffix,
        notes="plain N5 array: no resolution, so 1 nanometer like plain zarr arrays",
        data_format="n5",
        axes=("x", "y", "z"),
        levels=[vol_xyz],
        mags=[(1, 1, 1)],
        mag_paths=[""],
        bounding_box=xyz_bbox(vol_xyz.shape),
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


def _n5_multiscale_case(
    ctx: _Ctx,
    cid: str,
    vol_xyz: np.ndarray,
    *,
    relpath: str,
    fmt: str,
    name: str,
    voxel_size: tuple[float, float, float],
    unit: str,
    level_attrs: Callable[[Vec3], dict[str, Any]],
    group_attrs: dict[str, Any],
    notes: str = "",
) -> DatasetCase:
    """s0..s2 (mags MAGS_3, data downsampled here by striding) written by tensorstore, each
    with ``level_attrs(mag)`` added; the group's attributes.json is ``group_attrs``."""
    levels = [downsample(vol_xyz, mag) for mag in MAGS_3]
    for i, (mag, data) in enumerate(zip(MAGS_3, levels, strict=True)):
        path = ctx.folder(f"{relpath}/s{i}")
        _ts_n5_write(path, data, (32, 32, 16), {"type": "gzip"})
        _edit_json(path / "attributes.json", lambda attrs, mag=mag: {**attrs, **level_attrs(mag)})
    _write_json(ctx.folder(relpath) / "attributes.json", {"n5": "2.5.1", **group_attrs})
    return one_layer_case(
        ctx,
        cid,
        writer="tensorstore",
        relpath=relpath,
        fmt=fmt,
        name=name,
        voxel_size=voxel_size,
        unit=unit,
        notes=notes,
        data_format="n5",
        axes=("x", "y", "z"),
        levels=levels,
        mags=MAGS_3,
        mag_paths=["s0", "s1", "s2"],
        bounding_box=xyz_bbox(vol_xyz.shape),
    )


MAGS_3: list[Vec3] = [(1, 1, 1), (2, 2, 1), (4, 4, 2)]
COSEM_VOXEL_ZYX = (8.0, 4.0, 4.0)  # nm


def _cosem_transform(mag: Vec3) -> dict[str, Any]:
    """COSEM's per-dataset `transform` (axes listed z, y, x) of a level of ``mag`` (x, y, z)."""
    z, y, x = COSEM_VOXEL_ZYX
    return {"axes": ["z", "y", "x"], "scale": [z * mag[2], y * mag[1], x * mag[0]], "translate": [0.0, 0.0, 0.0], "units": ["nm", "nm", "nm"]}


def _multiscale_row(cid: str, shape_xyz: Vec3, dtype: Any, seed: int, **options: Any) -> CaseRow:
    """An N5 multiscale group of ``noise(shape_xyz, dtype, seed)``; options of ``_n5_multiscale_case``."""
    return CaseRow(cid, _n5_multiscale_case, lambda: noise(shape_xyz, dtype, seed), lambda: options)


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
    _multiscale_row(
        "n5_multiscales_cosem", (100, 80, 30), np.uint8, 25,
        relpath="n5/cosem_multiscale", fmt="n5-multiscales-cosem", name="cosem_multiscale",
        voxel_size=(4.0, 4.0, 8.0), unit="nanometer",
        notes="arrays by tensorstore; group attributes.json written here in the COSEM layout "
        "(axes listed z, y, x = reverse of N5 `dimensions`); level data downsampled here",
        level_attrs=lambda mag: {"transform": _cosem_transform(mag)},
        group_attrs={"multiscales": [{
            "name": "cosem_multiscale",
            "datasets": [{"path": f"s{i}", "transform": _cosem_transform(m)} for i, m in enumerate(MAGS_3)],
        }]},
    ),
    _multiscale_row(
        "n5_multiscales_bdv", (90, 70, 24), np.uint16, 26,
        relpath="n5/bdv_multiscale", fmt="n5-multiscales-bdv", name="bdv_multiscale",
        voxel_size=(0.25, 0.25, 1.0), unit="micrometer",
        notes="no unit given: micrometer (N5 default). resolution/downsamplingFactors are "
        "x, y, z; each sN also has its own downsamplingFactors attribute",
        level_attrs=lambda mag: {"downsamplingFactors": list(mag)},
        group_attrs={"multiScale": True, "resolution": [0.25, 0.25, 1.0], "downsamplingFactors": [list(m) for m in MAGS_3]},
    ),
]
def _unknown_compression(path: Path) -> None:
    _ts_n5_write(path, noise((40, 30, 10), np.uint8, 56), (16, 16, 8), {"type": "gzip"})
    _edit_json(path / "attributes.json", lambda a: a.update(compression={"type": "wk_test_unknown_compression"}))


BAD: list[CaseFn] = [
    BadRow(
        "bad_n5_unknown_compression", "tensorstore", "n5", _unknown_compression,
        ["compression", "wk_test_unknown_compression"], "attributes.json compression type edited",
    ),
]  # fmt: skip
