"""The payloads of the synced traits and messages, typed: `TypedDict`s twinned field for
field with the interfaces in js/src/protocol.ts (tests/unit/widget/test_protocol_twin.py
compares the keys both ways), and the functions that build the trait payloads.
"""


import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np

from ..dataset import Layer
from .analysis import analysis_defaults


class AdditionalAxis(TypedDict):
    name: str
    bounds: list[int]
    index: int


class BBox(TypedDict):
    top_left: list[int]
    size: list[int]


class LayerInfo(TypedDict):
    """One entry of the `dataset_info` trait's layers."""

    name: str
    category: str
    element_class: str
    data_format: str
    bbox: BBox
    mags: list[list[int]]
    num_channels: int
    largest_segment_id: int | None
    additional_axes: list[AdditionalAxis]
    default_view: dict[str, Any] | None
    segments: NotRequired[dict[str, Any] | None]


class DatasetInfo(TypedDict):
    """The `dataset_info` trait."""

    name: str
    voxel_size: list[float]
    unit: str
    layers: list[LayerInfo]


class LayerSettings(TypedDict):
    """One entry of the `layer_settings` trait (view settings of a layer, both ways)."""

    name: str
    visible: bool
    opacity: float
    range: list[float] | None
    color: list[int]
    channel: int
    axes: dict[str, int]
    colormap: NotRequired[str]
    invert: NotRequired[bool]
    gamma: NotRequired[float]
    segments_shown: NotRequired[str]
    hidden_segments: NotRequired[list[int]]


class Preview(TypedDict):
    """The `preview` trait: what the form's preview shows."""

    datasource: dict[str, Any]
    staged: list[str]
    imported: bool
    reports: NotRequired[list[dict[str, Any]]]


class TileRequest(TypedDict):
    """One entry of a `tiles` message's requests."""

    id: str
    layer: str
    plane: str
    mag: list[int]
    slice: int
    tile: list[int]
    size: int
    channel: int
    axes: dict[str, int]
    format: str
    range: NotRequired[list[float]]
    color: NotRequired[list[int]]
    prefetch: NotRequired[bool]  # speculative: the kernel keeps only slabs, not whole chunks


class Meter(TypedDict):
    requests: int
    bytes: int


class TileReplyOk(TypedDict):
    type: Literal["tile"]
    id: str
    ok: Literal[True]
    layer: str
    encoding: str
    dtype: str
    w: int
    h: int
    u0: int
    v0: int
    ms: NotRequired[float]
    total_ms: NotRequired[float]
    meter: NotRequired[Meter]
    pan: NotRequired[dict[str, float]]


class TileReplyError(TypedDict):
    type: Literal["tile"]
    id: str
    ok: Literal[False]
    layer: str
    error: str


class ResultMessage(TypedDict):
    """The reply to a form request (explore, edit, import, discard, export)."""

    type: Literal["result"]
    id: str
    request: str
    ok: bool
    error: NotRequired[str]
    path: NotRequired[str]
    layers: NotRequired[list[str]]


class StatsMessage(TypedDict):
    type: Literal["stats"]
    id: str
    meters: dict[str, Meter]


class ClickMessage(TypedDict):
    type: Literal["click"]
    position: list[float]
    view: str
    modifiers: list[str]


# Default colors of color layers, in order (js/src/colors.ts LAYER_COLORS).
LAYER_COLORS: tuple[tuple[int, int, int], ...] = (
    (255, 255, 255),
    (0, 255, 0),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 0),
    (255, 0, 0),
    (0, 0, 255),
)
SEGMENTATION_OPACITY = 0.4

def jsonable(value: Any) -> Any:
    """Tuples -> lists, numpy scalars -> Python numbers, recursively."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def layer_info(layer: Layer) -> LayerInfo:
    """What the views need to know about a layer (the `dataset_info` trait's entries)."""
    bb = layer.bounding_box
    return jsonable(
        {
            "name": layer.name,
            "category": layer.category,
            "element_class": layer.element_class,
            "data_format": layer.data_format,
            "bbox": {"top_left": list(bb.top_left), "size": list(bb.size)},
            "mags": [list(m.mag) for m in layer.mags],
            "num_channels": int(layer.num_channels),
            "largest_segment_id": layer.largest_segment_id,
            "additional_axes": [
                {"name": a.name, "bounds": list(a.bounds), "index": a.index}
                for a in layer.additional_axes
            ],
            "default_view": dict(layer.default_view_configuration or {}) or None,
            "segments": layer.segment_metadata,
        }
    )


def default_layer_settings(layer: Layer, color_index: int) -> LayerSettings:
    """Initial per-layer view settings, from the layer's defaultViewConfiguration."""
    view = layer.default_view_configuration or {}
    color = view.get("color")
    if not (isinstance(color, list | tuple) and len(color) == 3):
        color = LAYER_COLORS[color_index % len(LAYER_COLORS)]
    value_range = view.get("intensityRange")
    if not (isinstance(value_range, list | tuple) and len(value_range) == 2):
        value_range = [0, 255] if layer.element_class == "uint8" else None
    alpha = view.get("alpha")
    if isinstance(alpha, int | float) and not isinstance(alpha, bool):
        opacity = max(0.0, min(1.0, float(alpha) / 100.0))
    else:
        opacity = SEGMENTATION_OPACITY if layer.category == "segmentation" else 1.0
    return jsonable(
        {
            "name": layer.name,
            "visible": not bool(view.get("isDisabled", False)),
            "opacity": opacity,
            "range": [float(value_range[0]), float(value_range[1])] if value_range else None,
            "color": [int(c) for c in color],
            "channel": 0,
            "axes": {a.name: int(a.bounds[0]) for a in layer.additional_axes},
            **analysis_defaults(layer),
        }
    )


def initial_view(layers: Sequence[Layer]) -> tuple[list[float], float]:
    """Center of the layers' union box and a zoom showing it whole when it is small."""
    if not layers:
        return [0.0, 0.0, 0.0], 1.0
    lo = [min(layer.bounding_box.top_left[a] for layer in layers) for a in range(3)]
    hi = [
        max(layer.bounding_box.top_left[a] + layer.bounding_box.size[a] for layer in layers)
        for a in range(3)
    ]
    center = [float(math.floor((lo[a] + hi[a]) / 2)) for a in range(3)]
    extent = max(hi[0] - lo[0], hi[1] - lo[1], 1)
    zoom = 1.0 if extent >= 512 else max(extent / 512.0, 1.0 / 64)
    return center, zoom
