"""OME-NGFF 0.4 and 0.5 images written by ome-zarr (multiscales, omero, labels, time axes)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .core import (
    ZYX,
    CaseFn,
    DatasetCase,
    Vec3,
    _bad,
    _Ctx,
    _edit_json,
    _quiet_warnings,
    layer,
    noise,
    segments,
    xyz_bbox,
)

UM3 = {"z": "micrometer", "y": "micrometer", "x": "micrometer"}
NM3 = {"z": "nanometer", "y": "nanometer", "x": "nanometer"}
MAGS_221: list[Vec3] = [(1, 1, 1), (2, 2, 1), (4, 4, 1), (8, 8, 1)]


def _read_zarr(path: Path) -> np.ndarray:
    import zarr

    return np.asarray(zarr.open_array(path, mode="r")[...])


def _ome_write(
    path: Path,
    image: np.ndarray,
    *,
    name: str,
    axes: str,
    scale: dict[str, float],
    units: dict[str, str],
    chunks: Sequence[int],
    levels: int,
    version: str = "0.4",
    **metadata: Any,
) -> list[np.ndarray]:
    """Write with ome-zarr (y/x halved per level), return every level as read back.

    Level 0 is exactly ``image``; the others are ome-zarr's own downsampling, read
    back with zarr-python.
    """
    import zarr
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image

    fmt = FormatV04() if version == "0.4" else FormatV05()
    group = zarr.open_group(path, mode="w", zarr_format=2 if version == "0.4" else 3)
    with _quiet_warnings():
        write_image(
            image,
            group,
            scale_factors=[2**i for i in range(1, levels)],
            name=name,
            fmt=fmt,
            axes=axes,
            scale=scale,
            axes_units=units,
            storage_options={"chunks": tuple(chunks)},
            **metadata,
        )
    return [image, *(_read_zarr(path / f"s{i}") for i in range(1, levels))]


def _omero_channel(
    label: str, color: str, start: float, end: float, active: bool, vmax: float
) -> dict[str, Any]:
    window = {"start": start, "end": end, "min": 0, "max": vmax}
    return {"label": label, "color": color, "window": window, "active": active}


def ngff04_multiscale_uint16(ctx: _Ctx) -> DatasetCase:
    """3D uint16 (z, y, x), 3 levels by ome-zarr's scaler, omero, and a labels image."""
    cid, rel = "ngff04_multiscale_uint16", "ngff04/image_a.ome.zarr"
    path = ctx.folder(rel)
    image = noise((40, 150, 130), np.uint16, seed=1)
    scale = {"z": 2.0, "y": 0.5, "x": 0.5}
    omero = {"channels": [_omero_channel("nuclei", "FF8000", 100, 40000, True, 65535)]}
    levels = _ome_write(
        path,
        image,
        name="sample_a",
        axes="zyx",
        scale=scale,
        units=UM3,
        chunks=(16, 64, 64),
        levels=3,
        omero=omero,
    )

    import zarr
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_labels

    labels = segments((130, 150, 40), np.uint32).transpose(2, 1, 0)  # x, y, z -> z, y, x
    with _quiet_warnings():
        write_labels(
            labels,
            zarr.open_group(path, mode="r+"),
            name="cells",
            scaler=None,
            scale_factors=[2, 4],
            fmt=FormatV04(),
            axes="zyx",
            scale=scale,
            axes_units=UM3,
            storage_options={"chunks": (16, 64, 64)},
        )
    label_paths = [f"labels/cells/s{i}" for i in range(3)]
    label_levels = [labels, *(_read_zarr(path / p) for p in label_paths[1:])]
    bbox = xyz_bbox((130, 150, 40))
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=rel,
        format="ngff-0.4",
        name="sample_a",
        voxel_size=(0.5, 0.5, 2.0),
        unit="micrometer",
        notes="ome-zarr floors level shapes (s2 is 37 x 32 in y, x) and writes the exact "
        "shape ratio as the level's scale (2.027.., 2.03125), so mags must be rounded. "
        "Every dataset has a translation: zero for s0 (no offset), half-voxel shifts below. "
        "WEBKNOSSOS names the label layer 'labels-cells'.",
        layers=[
            layer(
                ctx,
                cid,
                "nuclei",
                data_format="zarr",
                axes=ZYX,
                levels=levels,
                mags=MAGS_221[:3],
                mag_paths=["s0", "s1", "s2"],
                bounding_box=bbox,
                default_view_configuration={
                    "color": [255, 128, 0],
                    "intensityRange": [100, 40000],
                    "isDisabled": False,
                },
            ),
            layer(
                ctx,
                cid,
                "cells",
                data_format="zarr",
                axes=ZYX,
                levels=label_levels,
                mags=MAGS_221[:3],
                mag_paths=label_paths,
                bounding_box=bbox,
                category="segmentation",
                alt_names=["labels-cells"],
            ),
        ],
    )


def ngff04_two_channels_uint8(ctx: _Ctx) -> DatasetCase:
    """(c, z, y, x) with 2 channels: one color layer per channel, names from omero."""
    cid, rel = "ngff04_two_channels_uint8", "ngff04/channels_c2.ome.zarr"
    image = noise((2, 24, 100, 90), np.uint8, seed=2)
    omero = {
        "channels": [
            _omero_channel("DAPI", "0000FF", 0, 200, True, 255),
            _omero_channel("GFP/1", "00FF00", 10, 250, False, 255),
        ]
    }
    levels = _ome_write(
        ctx.folder(rel),
        image,
        name="two_channels",
        axes="czyx",
        scale={"c": 1.0, "z": 40.0, "y": 10.0, "x": 10.0},
        units=NM3,
        chunks=(1, 8, 32, 32),
        levels=2,
        omero=omero,
    )
    common: dict[str, Any] = dict(
        data_format="zarr",
        axes=("c", *ZYX),
        levels=levels,
        mags=MAGS_221[:2],
        mag_paths=["s0", "s1"],
        bounding_box=xyz_bbox((90, 100, 24)),
    )
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=rel,
        uri_suffix="/.zattrs",
        format="ngff-0.4",
        name="two_channels",
        voxel_size=(10.0, 10.0, 40.0),
        unit="nanometer",
        notes="layer names from omero labels with special characters removed ('GFP/1' -> 'GFP1')",
        layers=[
            layer(
                ctx,
                cid,
                "DAPI",
                channel_index=0,
                **common,
                default_view_configuration={
                    "color": [0, 0, 255],
                    "intensityRange": [0, 200],
                    "isDisabled": False,
                },
            ),
            layer(
                ctx,
                cid,
                "GFP1",
                channel_index=1,
                **common,
                default_view_configuration={
                    "color": [0, 255, 0],
                    "intensityRange": [10, 250],
                    "isDisabled": True,
                },
            ),
        ],
    )


def ngff04_timelapse_float32(ctx: _Ctx) -> DatasetCase:
    """5D (t, c, z, y, x) float32 with t = 3: additional axis t."""
    cid, rel = "ngff04_timelapse_float32", "ngff04/tczyx.ome.zarr"
    image = noise((3, 1, 12, 40, 50), np.float32, seed=3)
    levels = _ome_write(
        ctx.folder(rel),
        image,
        name="timelapse",
        axes="tczyx",
        scale={"t": 1.0, "c": 1.0, "z": 4.0, "y": 2.0, "x": 2.0},
        units={"t": "second", **UM3},
        chunks=(1, 1, 8, 16, 16),
        levels=2,
    )
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=rel,
        format="ngff-0.4",
        name="timelapse",
        voxel_size=(2.0, 2.0, 4.0),
        unit="micrometer",
        layers=[
            layer(
                ctx,
                cid,
                "timelapse",
                data_format="zarr",
                axes=("t", "c", *ZYX),
                levels=levels,
                mags=MAGS_221[:2],
                mag_paths=["s0", "s1"],
                bounding_box=xyz_bbox((50, 40, 12)),
                channel_index=0,
                additional_axes=[{"name": "t", "bounds": [0, 3], "index": 0}],
            ),
        ],
    )


def ngff04_translation_uint8(ctx: _Ctx) -> DatasetCase:
    """Dataset translations in physical units -> an affine coordinateTransformation."""
    cid, rel = "ngff04_translation_uint8", "ngff04/with_offset.ome.zarr"
    path = ctx.folder(rel)
    image = noise((20, 64, 80), np.uint8, seed=4)
    levels = _ome_write(
        path,
        image,
        name="translated",
        axes="zyx",
        scale={"z": 2.0, "y": 0.5, "x": 0.5},
        units=UM3,
        chunks=(8, 32, 32),
        levels=2,
    )
    # Rewrite the metadata through ome-zarr's own API with translations (z, y, x) in
    # micrometer: s0 at (10, 5, 2.5) um = (5, 10, 5) voxels in (x, y, z).
    import zarr
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_multiscales_metadata

    group = zarr.open_group(path, mode="r+")
    attrs: dict[str, Any] = dict(group.attrs.asdict())
    axes = attrs["multiscales"][0]["axes"]
    datasets = [
        {
            "path": "s0",
            "coordinateTransformations": [
                {"type": "scale", "scale": [2.0, 0.5, 0.5]},
                {"type": "translation", "translation": [10.0, 5.0, 2.5]},
            ],
        },
        {
            "path": "s1",
            "coordinateTransformations": [
                {"type": "scale", "scale": [2.0, 1.0, 1.0]},
                {"type": "translation", "translation": [10.0, 5.25, 2.75]},
            ],
        },
    ]
    write_multiscales_metadata(group, datasets, fmt=FormatV04(), axes=axes, name="translated")
    affine = [[1, 0, 0, 5.0], [0, 1, 0, 10.0], [0, 0, 1, 5.0], [0, 0, 0, 1]]
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=rel,
        format="ngff-0.4",
        name="translated",
        voxel_size=(0.5, 0.5, 2.0),
        unit="micrometer",
        notes="s0 translation (z, y, x) = (10, 5, 2.5) micrometer = (x, y, z) (5, 10, 5) "
        "mag-1 voxels. Like WEBKNOSSOS, the bounding box keeps topLeft 0 and the layer gets "
        "coordinateTransformations [{type: affine, matrix: [[1,0,0,5],[0,1,0,10],[0,0,1,5],"
        "[0,0,0,1]]}] (translation in voxels = s0 translation / s0 scale).",
        layers=[
            layer(
                ctx,
                cid,
                "translated",
                data_format="zarr",
                axes=ZYX,
                levels=levels,
                mags=MAGS_221[:2],
                mag_paths=["s0", "s1"],
                bounding_box=xyz_bbox((80, 64, 20)),
                coordinate_transformations=[{"type": "affine", "matrix": affine}],
            ),
        ],
    )


def ngff04_2d_uint16(ctx: _Ctx) -> DatasetCase:
    """2D (y, x) image: depth 1, voxel z size 1."""
    cid, rel = "ngff04_2d_uint16", "ngff04/flat.ome.zarr"
    image = noise((70, 90), np.uint16, seed=5)
    levels = _ome_write(
        ctx.folder(rel),
        image,
        name="flat2d",
        axes="yx",
        scale={"y": 0.25, "x": 0.25},
        units={"y": "micrometer", "x": "micrometer"},
        chunks=(32, 32),
        levels=2,
    )
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=rel,
        format="ngff-0.4",
        name="flat2d",
        voxel_size=(0.25, 0.25, 1.0),
        unit="micrometer",
        notes="no z axis: depth 1; the z voxel size is 1 (in the dataset unit), as in WEBKNOSSOS",
        layers=[
            layer(
                ctx,
                cid,
                "flat2d",
                data_format="zarr",
                axes=("y", "x"),
                levels=levels,
                mags=MAGS_221[:2],
                mag_paths=["s0", "s1"],
                bounding_box=xyz_bbox((90, 70, 1)),
            ),
        ],
    )


def ngff05_multiscale_uint8(ctx: _Ctx) -> DatasetCase:
    """OME-Zarr 0.5 (zarr v3) 3D image, 2 levels, omero under attributes.ome."""
    cid, rel = "ngff05_multiscale_uint8", "ngff05/image_v05.ome.zarr"
    image = noise((30, 70, 90), np.uint8, seed=6)
    omero = {"channels": [_omero_channel("membrane", "FFFFFF", 5, 250, True, 255)]}
    levels = _ome_write(
        ctx.folder(rel),
        image,
        name="v05_image",
        axes="zyx",
        scale={"z": 40.0, "y": 8.0, "x": 8.0},
        units=NM3,
        chunks=(16, 32, 32),
        levels=2,
        version="0.5",
        omero=omero,
    )
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=rel,
        uri_suffix="/zarr.json",
        format="ngff-0.5",
        name="v05_image",
        voxel_size=(8.0, 8.0, 40.0),
        unit="nanometer",
        layers=[
            layer(
                ctx,
                cid,
                "membrane",
                data_format="zarr3",
                axes=ZYX,
                levels=levels,
                mags=MAGS_221[:2],
                mag_paths=["s0", "s1"],
                bounding_box=xyz_bbox((90, 70, 30)),
                default_view_configuration={
                    "color": [255, 255, 255],
                    "intensityRange": [5, 250],
                    "isDisabled": False,
                },
            ),
        ],
    )


def bad_ngff04_scale_3x(ctx: _Ctx) -> DatasetCase:
    rel = "bad/ngff04_scale_3x.ome.zarr"
    path = ctx.folder(rel)
    _ome_write(
        path,
        noise((10, 40, 40), np.uint8, 51),
        name="scale3x",
        axes="zyx",
        scale={"z": 1.0, "y": 1.0, "x": 1.0},
        units=NM3,
        chunks=(8, 16, 16),
        levels=2,
    )

    def edit(attrs: dict[str, Any]) -> None:
        attrs["multiscales"][0]["datasets"][1]["coordinateTransformations"][0]["scale"] = [
            1.0,
            3.0,
            3.0,
        ]

    _edit_json(path / ".zattrs", edit)
    return _bad(
        "bad_ngff04_scale_3x",
        "ome-zarr",
        rel,
        "ngff-0.4",
        ["power of two", "powers of two", "power-of-two"],
        "s1 scale edited to 3x in y and x",
    )


def bad_ngff04_malformed_zattrs(ctx: _Ctx) -> DatasetCase:
    rel = "bad/ngff04_malformed_zattrs.ome.zarr"
    path = ctx.folder(rel)
    _ome_write(
        path,
        noise((10, 40, 40), np.uint8, 54),
        name="malformed",
        axes="zyx",
        scale={"z": 1.0, "y": 1.0, "x": 1.0},
        units=NM3,
        chunks=(8, 16, 16),
        levels=1,
    )
    text = (path / ".zattrs").read_text()
    (path / ".zattrs").write_text(text[: len(text) // 2])
    return _bad(
        "bad_ngff04_malformed_zattrs",
        "ome-zarr",
        rel,
        "ngff-0.4",
        ["json"],
        ".zattrs cut in half (malformed JSON); .zgroup and s0 are fine",
    )


ROWS: list[CaseFn] = [
    ngff04_multiscale_uint16,
    ngff04_two_channels_uint8,
    ngff04_timelapse_float32,
    ngff04_translation_uint8,
    ngff04_2d_uint16,
    ngff05_multiscale_uint8,
]
BAD: list[CaseFn] = [
    bad_ngff04_scale_3x,
    bad_ngff04_malformed_zattrs,
]
