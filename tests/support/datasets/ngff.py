"""OME-NGFF 0.4 and 0.5 images written by ome-zarr (multiscales, omero, labels, time axes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .core import (
    ZYX,
    BadRow,
    CaseFn,
    CaseRow,
    DatasetCase,
    ExpectedLayer,
    Vec3,
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


def _ngff_case(
    ctx: _Ctx,
    cid: str,
    image: np.ndarray,
    *,
    relpath: str,
    voxel_size: tuple[float, float, float],
    unit: str,
    layers: Sequence[tuple[str, dict[str, Any]]] = (),
    more_layers: Callable[[_Ctx, str, Path], list[ExpectedLayer]] | None = None,
    uri_suffix: str = "",
    notes: str = "",
    **write: Any,
) -> DatasetCase:
    """An image written by ome-zarr with ``_ome_write(**write)`` (name, axes, scale, units,
    chunks, levels, version, omero): one layer per ``layers`` entry (name, options of
    ``layer``; default: one layer named like the image), then ``more_layers(ctx, cid, path)``
    (which may also rewrite the metadata)."""
    path = ctx.folder(relpath)
    written = _ome_write(path, image, **write)
    name, axes, levels, version = write["name"], write["axes"], write["levels"], write.get("version", "0.4")
    size = dict(zip(axes, image.shape, strict=True))
    common: dict[str, Any] = dict(
        data_format="zarr" if version == "0.4" else "zarr3",
        axes=tuple(axes),
        levels=written,
        mags=MAGS_221[:levels],
        mag_paths=[f"s{i}" for i in range(levels)],
        bounding_box=xyz_bbox((size["x"], size["y"], size.get("z", 1))),
    )
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=relpath,
        uri_suffix=uri_suffix,
        format=f"ngff-{version}",
        name=name,
        voxel_size=voxel_size,
        unit=unit,
        notes=notes,
        layers=[
            *(layer(ctx, cid, lname, **common, **options) for lname, options in (layers or [(name, {})])),
            *(more_layers(ctx, cid, path) if more_layers else []),
        ],
    )


def _ngff_row(cid: str, image: Callable[[], np.ndarray], **options: Any) -> CaseRow:
    """An ome-zarr image of ``image()``; options of ``_ngff_case``."""
    return CaseRow(cid, _ngff_case, image, lambda: options)


def _labels_cells(ctx: _Ctx, cid: str, path: Path) -> list[ExpectedLayer]:
    """A labels image "cells" by ome-zarr beside ngff04_multiscale_uint16's image."""
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
            scale=MULTISCALE_SCALE,
            axes_units=UM3,
            storage_options={"chunks": (16, 64, 64)},
        )
    label_paths = [f"labels/cells/s{i}" for i in range(3)]
    label_levels = [labels, *(_read_zarr(path / p) for p in label_paths[1:])]
    return [
        layer(
            ctx,
            cid,
            "cells",
            data_format="zarr",
            axes=ZYX,
            levels=label_levels,
            mags=MAGS_221[:3],
            mag_paths=label_paths,
            bounding_box=xyz_bbox((130, 150, 40)),
            category="segmentation",
            alt_names=["labels-cells"],
        )
    ]


def _translations(ctx: _Ctx, cid: str, path: Path) -> list[ExpectedLayer]:
    """Rewrite the metadata through ome-zarr's own API with translations (z, y, x) in
    micrometer: s0 at (10, 5, 2.5) um = (5, 10, 5) voxels in (x, y, z)."""
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
    return []


def _view(color: list[int], window: list[int], disabled: bool) -> dict[str, Any]:
    """The defaultViewConfiguration WEBKNOSSOS derives from an omero channel."""
    return {"color": color, "intensityRange": window, "isDisabled": disabled}


MULTISCALE_SCALE = {"z": 2.0, "y": 0.5, "x": 0.5}
TRANSLATION_AFFINE = [[1, 0, 0, 5.0], [0, 1, 0, 10.0], [0, 0, 1, 5.0], [0, 0, 0, 1]]

#: id, image (in ``axes`` order), then how ome-zarr writes it and what an explorer must find.
ROWS: list[CaseFn] = [
    _ngff_row(
        "ngff04_multiscale_uint16", lambda: noise((40, 150, 130), np.uint16, seed=1),
        relpath="ngff04/image_a.ome.zarr", name="sample_a", axes="zyx", scale=MULTISCALE_SCALE, units=UM3,
        chunks=(16, 64, 64), levels=3, voxel_size=(0.5, 0.5, 2.0), unit="micrometer",
        omero={"channels": [_omero_channel("nuclei", "FF8000", 100, 40000, True, 65535)]},
        layers=[("nuclei", {"default_view_configuration": _view([255, 128, 0], [100, 40000], False)})],
        more_layers=_labels_cells,
        notes="ome-zarr floors level shapes (s2 is 37 x 32 in y, x) and writes the exact "
        "shape ratio as the level's scale (2.027.., 2.03125), so mags must be rounded. "
        "Every dataset has a translation: zero for s0 (no offset), half-voxel shifts below. "
        "WEBKNOSSOS names the label layer 'labels-cells'.",
    ),
    _ngff_row(
        "ngff04_two_channels_uint8", lambda: noise((2, 24, 100, 90), np.uint8, seed=2),
        relpath="ngff04/channels_c2.ome.zarr", name="two_channels", axes="czyx",
        scale={"c": 1.0, "z": 40.0, "y": 10.0, "x": 10.0}, units=NM3, chunks=(1, 8, 32, 32), levels=2,
        voxel_size=(10.0, 10.0, 40.0), unit="nanometer", uri_suffix="/.zattrs",
        omero={"channels": [
            _omero_channel("DAPI", "0000FF", 0, 200, True, 255),
            _omero_channel("GFP/1", "00FF00", 10, 250, False, 255),
        ]},
        layers=[
            ("DAPI", {"channel_index": 0, "default_view_configuration": _view([0, 0, 255], [0, 200], False)}),
            ("GFP1", {"channel_index": 1, "default_view_configuration": _view([0, 255, 0], [10, 250], True)}),
        ],
        notes="layer names from omero labels with special characters removed ('GFP/1' -> 'GFP1')",
    ),
    _ngff_row(
        "ngff04_timelapse_float32", lambda: noise((3, 1, 12, 40, 50), np.float32, seed=3),
        relpath="ngff04/tczyx.ome.zarr", name="timelapse", axes="tczyx",
        scale={"t": 1.0, "c": 1.0, "z": 4.0, "y": 2.0, "x": 2.0}, units={"t": "second", **UM3},
        chunks=(1, 1, 8, 16, 16), levels=2, voxel_size=(2.0, 2.0, 4.0), unit="micrometer",
        layers=[("timelapse", {"channel_index": 0, "additional_axes": [{"name": "t", "bounds": [0, 3], "index": 0}]})],
    ),
    _ngff_row(
        "ngff04_translation_uint8", lambda: noise((20, 64, 80), np.uint8, seed=4),
        relpath="ngff04/with_offset.ome.zarr", name="translated", axes="zyx", scale={"z": 2.0, "y": 0.5, "x": 0.5},
        units=UM3, chunks=(8, 32, 32), levels=2, voxel_size=(0.5, 0.5, 2.0), unit="micrometer",
        layers=[("translated", {"coordinate_transformations": [{"type": "affine", "matrix": TRANSLATION_AFFINE}]})],
        more_layers=_translations,
        notes="s0 translation (z, y, x) = (10, 5, 2.5) micrometer = (x, y, z) (5, 10, 5) "
        "mag-1 voxels. Like WEBKNOSSOS, the bounding box keeps topLeft 0 and the layer gets "
        "coordinateTransformations [{type: affine, matrix: [[1,0,0,5],[0,1,0,10],[0,0,1,5],"
        "[0,0,0,1]]}] (translation in voxels = s0 translation / s0 scale).",
    ),
    _ngff_row(
        "ngff04_2d_uint16", lambda: noise((70, 90), np.uint16, seed=5),
        relpath="ngff04/flat.ome.zarr", name="flat2d", axes="yx", scale={"y": 0.25, "x": 0.25},
        units={"y": "micrometer", "x": "micrometer"}, chunks=(32, 32), levels=2,
        voxel_size=(0.25, 0.25, 1.0), unit="micrometer",
        notes="no z axis: depth 1; the z voxel size is 1 (in the dataset unit), as in WEBKNOSSOS",
    ),
    _ngff_row(
        "ngff05_multiscale_uint8", lambda: noise((30, 70, 90), np.uint8, seed=6),
        relpath="ngff05/image_v05.ome.zarr", name="v05_image", axes="zyx", scale={"z": 40.0, "y": 8.0, "x": 8.0},
        units=NM3, chunks=(16, 32, 32), levels=2, version="0.5", voxel_size=(8.0, 8.0, 40.0), unit="nanometer",
        uri_suffix="/zarr.json",
        omero={"channels": [_omero_channel("membrane", "FFFFFF", 5, 250, True, 255)]},
        layers=[("membrane", {"default_view_configuration": _view([255, 255, 255], [5, 250], False)})],
    ),
]  # fmt: skip


def _small_ome_image(name: str, seed: int, levels: int, spoil: Callable[[Path], None]) -> Callable[[Path], None]:
    """A small valid ome-zarr 0.4 image (10, 40, 40) of ``noise``, then ``spoil(path)``."""

    def write(path: Path) -> None:
        _ome_write(
            path, noise((10, 40, 40), np.uint8, seed), name=name, axes="zyx", scale={"z": 1.0, "y": 1.0, "x": 1.0},
            units=NM3, chunks=(8, 16, 16), levels=levels,
        )  # fmt: skip
        spoil(path)

    return write


def _scale_3x(path: Path) -> None:
    def edit(attrs: dict[str, Any]) -> None:
        attrs["multiscales"][0]["datasets"][1]["coordinateTransformations"][0]["scale"] = [1.0, 3.0, 3.0]

    _edit_json(path / ".zattrs", edit)


def _cut_zattrs(path: Path) -> None:
    text = (path / ".zattrs").read_text()
    (path / ".zattrs").write_text(text[: len(text) // 2])


BAD: list[CaseFn] = [
    BadRow(
        "bad_ngff04_scale_3x", "ome-zarr", "ngff-0.4", _small_ome_image("scale3x", 51, 2, _scale_3x),
        ["power of two", "powers of two", "power-of-two"], "s1 scale edited to 3x in y and x", folder_suffix=".ome.zarr",
    ),
    BadRow(
        "bad_ngff04_malformed_zattrs", "ome-zarr", "ngff-0.4", _small_ome_image("malformed", 54, 1, _cut_zattrs),
        ["json"], ".zattrs cut in half (malformed JSON); .zgroup and s0 are fine", folder_suffix=".ome.zarr",
    ),
]  # fmt: skip
