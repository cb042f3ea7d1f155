"""What a dataset's layers look like outside: WEBKNOSSOS datasource-properties.json layer
entries and Neuroglancer link layers (pure; `Dataset` assembles the whole documents)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .formats import axis_order as axis_order_rule
from .formats import neuroglancer_opens_volume
from .formats._shared.axis_order import implied_rank
from .formats.base import BoundingBox, LayerSpec, MagSpec
from .neuroglancer import NeuroglancerLayerOut
from .storage import storage_for

Vec3 = tuple[int, int, int]


def datasource_rank(spec: LayerSpec) -> int:
    """The arrays' rank (N5 axisOrder counts from it; see formats/_shared/axis_order.py)."""
    meta = spec.mags[0].array_meta
    ndim = getattr(meta, "ndim", None)
    if isinstance(ndim, int):
        return ndim
    return implied_rank(spec.mags[0].axis_order, [a.index for a in spec.additional_axes])


def layer_json(
    spec: LayerSpec, name: str, category: str, bb: BoundingBox, mags: Sequence[tuple[Vec3, str, MagSpec]]
) -> dict[str, Any]:
    """The datasource entry of a layer (`mags`: its effective mag, path and spec per level)."""
    data_format = spec.data_format
    rule = axis_order_rule(data_format)
    entries: list[dict[str, Any]] = []
    rank = datasource_rank(spec)
    for mag, path, mag_spec in mags:
        entry: dict[str, Any] = {"mag": list(mag), "path": path}
        axis_order = rule.to_datasource(mag_spec.axis_order, rank)
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
            {**a.to_json(), "index": rule.axis_index_to_datasource(a.index, rank)} for a in spec.additional_axes
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
    if neuroglancer_opens_volume(spec.data_format):
        storage = storage_for(finest.path.parent(), spec.credentials, spec.access)
        path = storage.display(finest.path.parent().fs_path)
    elif spec.multiscale_group and n_mags > 1:
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
