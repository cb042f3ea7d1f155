"""What a dataset's layers look like outside: WEBKNOSSOS datasource-properties.json layer
entries and Neuroglancer link layers (pure; `Dataset` assembles the whole documents)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .formats.base import BoundingBox, LayerSpec, MagSpec
from .formats.datasource_axes import export_axis_index, export_axis_order, n5_rank
from .neuroglancer import NeuroglancerLayerOut
from .storage import storage_for

Vec3 = tuple[int, int, int]


def datasource_rank(spec: LayerSpec) -> int:
    """The arrays' rank (N5 axisOrder counts from it; see formats.datasource_axes)."""
    meta = spec.mags[0].array_meta
    ndim = getattr(meta, "ndim", None)
    if isinstance(ndim, int):
        return ndim
    return n5_rank(spec.mags[0].axis_order, [a.index for a in spec.additional_axes])


def layer_json(
    spec: LayerSpec, name: str, category: str, bb: BoundingBox, mags: Sequence[tuple[Vec3, str, MagSpec]]
) -> dict[str, Any]:
    """The datasource entry of a layer (`mags`: its effective mag, path and spec per level)."""
    data_format = spec.data_format
    entries: list[dict[str, Any]] = []
    rank = datasource_rank(spec)
    for mag, path, mag_spec in mags:
        entry: dict[str, Any] = {"mag": list(mag), "path": path}
        axis_order = export_axis_order(data_format, mag_spec.axis_order, rank)
        if axis_order is not None:
            entry["axisOrder"] = axis_order
        if mag_spec.channel_index is not None:
            entry["channelIndex"] = mag_spec.channel_index
        entries.append(entry)
    out: dict[str, Any] = {
        "name": name,
        "category": category,
        "dataFormat": data_format,
        "elementClass": spec.element_class,
        "boundingBox": bb.to_json(),
        "numChannels": spec.num_channels,
        "mags": entries,
    }
    if spec.additional_axes:
        out["additionalAxes"] = [
            {**a.to_json(), "index": export_axis_index(data_format, a.index, rank)} for a in spec.additional_axes
        ]
    if spec.default_view_configuration:
        out["defaultViewConfiguration"] = dict(spec.default_view_configuration)
    if spec.coordinate_transformations:
        out["coordinateTransformations"] = list(spec.coordinate_transformations)
    if category == "segmentation":
        lsid = spec.largest_segment_id
        out["largestSegmentId"] = lsid if (lsid is None or lsid >= 1) else None
    return out


def neuroglancer_layer(spec: LayerSpec, name: str, category: str, path: str, n_mags: int) -> NeuroglancerLayerOut:
    """A layer of a Neuroglancer link (`path`: the finest mag's; a multiscale source gets
    its root, so Neuroglancer opens every level)."""
    finest = spec.mags[0]
    root: str | None = None
    if spec.data_format == "neuroglancerPrecomputed":
        storage = storage_for(finest.path.parent(), spec.credentials, spec.access)
        path = storage.display(finest.path.parent().fs_path)
    elif spec.format_name.startswith(("ngff", "n5-multiscales")) and n_mags > 1:
        parent = finest.path.parent()
        storage = storage_for(parent, spec.credentials, spec.access)
        root = storage.display(parent.fs_path)
    return NeuroglancerLayerOut(
        name=name,
        category=category,
        data_format=spec.data_format,
        path=path,
        multiscale_root=root,
        channel_index=finest.channel_index,
        axis_order=dict(finest.axis_order),
        view_configuration=spec.default_view_configuration,
    )
