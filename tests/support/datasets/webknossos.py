"""A WEBKNOSSOS dataset (datasource-properties.json, zarr3 shards) written by webknossos-libs."""

from __future__ import annotations

import numpy as np

from .core import (
    CaseFn,
    DatasetCase,
    _Ctx,
    _quiet_warnings,
    downsample,
    layer,
    noise,
    segments,
    xyz_bbox,
)


def webknossos_zarr3(ctx: _Ctx) -> DatasetCase:
    """A WEBKNOSSOS zarr3 dataset with datasource-properties.json, written by webknossos."""
    with _quiet_warnings():
        import webknossos as wk

    cid, rel = "webknossos_zarr3", "webknossos/sample_wk"
    size = (100, 90, 30)
    color = noise(size, np.uint8, 41)
    seg = segments(size, np.uint32, block=(16, 16, 8))
    largest = int(seg.max())
    chunk, shard = (32, 32, 32), (64, 64, 32)
    with _quiet_warnings():
        ds = wk.Dataset(ctx.folder(rel), voxel_size=(11.24, 11.24, 28.0), name="wk_sample")
        bbox = wk.BoundingBox((0, 0, 0), size)
        c = ds.add_layer(
            "color",
            wk.COLOR_CATEGORY,
            dtype_per_channel="uint8",
            data_format="zarr3",
            bounding_box=bbox,
        )
        c.add_mag(1, chunk_shape=chunk, shard_shape=shard).write(color, absolute_offset=(0, 0, 0))
        c.add_mag("2-2-1", chunk_shape=chunk, shard_shape=shard).write(
            downsample(color, (2, 2, 1)), absolute_offset=(0, 0, 0)
        )
        s = ds.add_layer(
            "segmentation",
            wk.SEGMENTATION_CATEGORY,
            dtype_per_channel="uint32",
            data_format="zarr3",
            bounding_box=bbox,
            largest_segment_id=largest,
        )
        s.add_mag(1, chunk_shape=chunk, shard_shape=shard).write(seg, absolute_offset=(0, 0, 0))
    return DatasetCase(
        id=cid,
        writer="webknossos",
        relpath=rel,
        uri_suffix="/datasource-properties.json",
        format="webknossos",
        name="wk_sample",
        voxel_size=(11.24, 11.24, 28.0),
        unit="nanometer",
        notes="mag paths in the file are './color/1' (relative to the dataset); arrays are "
        "(c, x, y, z) and padded to whole shards (2-2-1 array is 64 x 64 x 32 for a 50 x 45 x "
        "30 level); each layer group is also an OME-Zarr 0.5 image",
        layers=[
            layer(
                ctx,
                cid,
                "color",
                data_format="zarr3",
                axes=("c", "x", "y", "z"),
                levels=[color[None], downsample(color, (2, 2, 1))[None]],
                mags=[(1, 1, 1), (2, 2, 1)],
                mag_paths=["color/1", "color/2-2-1"],
                bounding_box=xyz_bbox(size),
            ),
            layer(
                ctx,
                cid,
                "segmentation",
                data_format="zarr3",
                axes=("c", "x", "y", "z"),
                levels=[seg[None]],
                mags=[(1, 1, 1)],
                mag_paths=["segmentation/1"],
                bounding_box=xyz_bbox(size),
                category="segmentation",
                largest_segment_id=largest,
            ),
        ],
    )


ROWS: list[CaseFn] = [
    webknossos_zarr3,
]
BAD: list[CaseFn] = []
