"""Reading a Neuroglancer state into layers we can explore (`parse_neuroglancer_url`)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidURIError, scrub
from .dimensions import _number, _voxel_size_from_dimensions
from .link import _STATE_MARKER, _json_kind, _load_state, _short
from .sources import (
    _ANNOTATION_TYPES,
    _MESH_TYPES,
    _resolve_source,
    _Resolved,
    _source_entries,
    _Unusable,
)


@dataclass
class NeuroglancerLayer:
    """One image or segmentation layer of a Neuroglancer link that we can explore.

    `source` is the data location as Neuroglancer means it, without format prefix or
    pipe suffix (`https://host/path`, `s3://bucket/key`, `gs://bucket/key`; for an
    S3-compatible server path-style `s3://HOST:PORT/bucket/key`). `uri` is the string
    to give `parse_uri` (format prefix included; a dotted S3 bucket is spelled
    virtual-hosted so that it is not mistaken for an endpoint).
    """

    name: str
    type: str | None  # "image" | "segmentation"; None: the link leaves it to auto-detection
    category: str | None  # "color" | "segmentation"; None with type None
    source: str
    # "zarr" | "zarr2" | "zarr3" | "n5" | "precomputed"; None: auto-detect ("webknossos" for a
    # bare link to a datasource-properties.json, as parse_uri says)
    format_hint: str | None
    uri: str
    view_configuration: dict[str, Any] = field(
        default_factory=dict
    )  # WEBKNOSSOS defaultViewConfiguration
    visible: bool = True
    voxel_size: tuple[float, float, float] | None = None  # from the source transform, if any
    unit: str | None = None
    channel_index: int | None = None
    dimension_names: tuple[str, ...] | None = None  # source transform outputDimensions, in order
    notes: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # the layer's JSON


@dataclass
class SkippedLayer:
    """A layer of the link that is not imported, and why."""

    name: str
    reason: str


@dataclass
class NeuroglancerState:
    """What a Neuroglancer link holds that matters to us."""

    layers: list[NeuroglancerLayer]
    skipped: list[SkippedLayer]
    voxel_size: tuple[float, float, float] | None  # global `dimensions` x, y, z
    unit: str | None  # WEBKNOSSOS long name, e.g. "nanometer"
    position: list[float] | None  # in units of `dimensions` (mag-1 voxels when they match)
    layout: str | None
    raw: dict[str, Any]


_NAMED_COLORS = {
    "white": (255, 255, 255), "black": (0, 0, 0), "red": (255, 0, 0), "green": (0, 128, 0),
    "lime": (0, 255, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0), "cyan": (0, 255, 255),
    "aqua": (0, 255, 255), "magenta": (255, 0, 255), "fuchsia": (255, 0, 255),
    "orange": (255, 165, 0), "gray": (128, 128, 128), "grey": (128, 128, 128),
}  # fmt: skip
_SHADER_COLOR_DEFAULT = re.compile(
    r'#uicontrol\s+vec3\s+color\s+color\s*\(\s*default\s*=\s*"([^"]*)"', re.IGNORECASE
)


def _parse_color(value: Any) -> list[int] | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in _NAMED_COLORS:
        return list(_NAMED_COLORS[text])
    match = re.fullmatch(r"#([0-9a-f]{6}|[0-9a-f]{3})", text)
    if match is None:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return [int(digits[i : i + 2], 16) for i in (0, 2, 4)]


def _pair(value: Any) -> tuple[float | int, float | int] | None:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    if _number(value[0]) is None or _number(value[1]) is None:
        return None
    return value[0], value[1]


def _percent(fraction: float) -> float | int:
    value = round(min(max(fraction, 0.0), 1.0) * 100, 6)
    return int(value) if value == int(value) else value


def _view_configuration(spec: dict[str, Any], category: str | None) -> tuple[dict[str, Any], bool]:
    config: dict[str, Any] = {}
    visible = spec.get("visible") is not False and spec.get("archived") is not True
    if not visible:
        config["isDisabled"] = True
    opacity = _number(spec.get("opacity"))
    if opacity is None and category == "segmentation":
        opacity = _number(spec.get("selectedAlpha"))
    if opacity is not None:
        config["alpha"] = _percent(opacity)
    if category == "segmentation":
        return config, visible
    controls = spec.get("shaderControls")
    controls = controls if isinstance(controls, dict) else {}
    inverted = False
    normalized = controls.get("normalized")
    if isinstance(normalized, dict):
        value_range = _pair(normalized.get("range"))
        if value_range is not None:
            low, high = value_range
            if low > high:
                low, high = high, low
                inverted = True
            config["intensityRange"] = [low, high]
        window = _pair(normalized.get("window"))
        if window is not None:
            config["min"], config["max"] = min(window), max(window)
    if controls.get("invert") is True:
        inverted = not inverted
    if inverted:
        config["isInverted"] = True
    color = _parse_color(controls.get("color"))
    if color is None:
        shader = spec.get("shader")
        if isinstance(shader, str):
            match = _SHADER_COLOR_DEFAULT.search(shader)
            if match is not None:
                color = _parse_color(match.group(1))
    if color is not None:
        config["color"] = color
    return config, visible


def _channel_index(spec: dict[str, Any], out_dims: dict[str, Any] | None) -> int | None:
    local_dims = spec.get("localDimensions")
    if isinstance(local_dims, dict):
        local_names = list(local_dims)
    elif out_dims is not None:
        local_names = [n for n in out_dims if isinstance(n, str) and n.endswith("'")]
    else:
        local_names = []
    position = spec.get("localPosition")
    if "c'" in local_names and isinstance(position, list) and len(position) == len(local_names):
        value = _number(position[local_names.index("c'")])
        if value is not None and 0 <= value < 2**31:
            return math.floor(value)
    controls = spec.get("shaderControls")
    if isinstance(controls, dict) and isinstance(controls.get("normalized"), dict):
        channel = controls["normalized"].get("channel")
        if (
            isinstance(channel, list)
            and len(channel) == 1
            and isinstance(channel[0], int)
            and not isinstance(channel[0], bool)
            and 0 <= channel[0] < 2**31
        ):
            return channel[0]
    return None


def _layer_name(spec: Any, index: int, key: str | None) -> str:
    if key is not None and key:
        return key
    if isinstance(spec, dict):
        name = spec.get("name")
        if isinstance(name, str) and name:
            return name
        if isinstance(name, int | float) and not isinstance(name, bool):
            return str(name)
    return f"layer {index + 1}"


def _read_layer(spec: Any, name: str) -> NeuroglancerLayer | SkippedLayer:
    if not isinstance(spec, dict):
        return SkippedLayer(name, f"the layer is {_json_kind(spec)}, not a JSON object")
    layer_type = spec.get("type")
    if layer_type is not None and not isinstance(layer_type, str):
        return SkippedLayer(name, "the layer type is not a string")
    category: str | None
    if layer_type == "image":
        category = "color"
    elif layer_type == "segmentation":
        category = "segmentation"
    elif layer_type in (None, "", "new", "auto"):
        layer_type, category = None, None
    elif layer_type in _ANNOTATION_TYPES:
        return SkippedLayer(name, "annotation layers are not volume data")
    elif layer_type in _MESH_TYPES:
        return SkippedLayer(name, "mesh layers are not volume data")
    elif layer_type == "segmentation_with_graph":
        return SkippedLayer(name, "segmentation_with_graph (graphene) layers are not supported")
    else:
        return SkippedLayer(name, scrub(f"layer type {layer_type!r} is not supported"))

    entries = [
        (url, entry) for url, entry in _source_entries(spec.get("source")) if url and url.strip()
    ]
    if not entries:
        return SkippedLayer(name, "no source")
    chosen: tuple[_Resolved, dict[str, Any] | None] | None = None
    first_problem: _Unusable | None = None
    notes: list[str] = []
    for position, (url, entry) in enumerate(entries):
        try:
            resolved = _resolve_source(url)
        except _Unusable as problem:
            if position == 0:
                if problem.provider:  # e.g. graphene://: that is what this layer is
                    return SkippedLayer(name, scrub(problem.reason))
                first_problem = problem
            notes.append(f"source {url!r} not used: {problem.reason}")
            continue
        if chosen is None:
            chosen = (resolved, entry)
        else:
            notes.append(f"further source {url!r} not used")
    if chosen is None:
        assert first_problem is not None
        return SkippedLayer(name, scrub(first_problem.reason))
    resolved, entry = chosen
    out_dims: dict[str, Any] | None = None
    if entry is not None:
        transform = entry.get("transform")
        if isinstance(transform, dict) and isinstance(transform.get("outputDimensions"), dict):
            out_dims = transform["outputDimensions"]
    voxel = _voxel_size_from_dimensions(out_dims)
    view_configuration, visible = _view_configuration(spec, category)
    return NeuroglancerLayer(
        name=name,
        type=layer_type,
        category=category,
        source=resolved.source,
        format_hint=resolved.format_hint,
        uri=resolved.uri,
        view_configuration=view_configuration,
        visible=visible,
        voxel_size=voxel[0] if voxel else None,
        unit=voxel[1] if voxel else None,
        channel_index=_channel_index(spec, out_dims),
        dimension_names=tuple(str(n) for n in out_dims) if out_dims else None,
        notes=[scrub(n) for n in resolved.notes + notes],
        raw=spec,
    )


def _numbers(value: Any) -> list[float] | None:
    if not isinstance(value, list) or not value:
        return None
    numbers = [_number(v) for v in value]
    return [v for v in numbers if v is not None] if None not in numbers else None


def _legacy_navigation(
    state: dict[str, Any],
) -> tuple[tuple[tuple[float, float, float], str] | None, list[float] | None]:
    navigation = state.get("navigation")
    pose = navigation.get("pose") if isinstance(navigation, dict) else None
    pose_position = pose.get("position") if isinstance(pose, dict) else None
    if not isinstance(pose_position, dict):
        return None, None
    voxel = None
    sizes = _numbers(pose_position.get("voxelSize"))
    if sizes is not None and len(sizes) == 3:
        voxel = _voxel_size_from_dimensions(
            {a: [v, "nm"] for a, v in zip("xyz", sizes, strict=True)}
        )
    return voxel, _numbers(pose_position.get("voxelCoordinates"))


def parse_neuroglancer_url(text: str) -> NeuroglancerState:
    """Read a Neuroglancer link (anything with a `#!` state) into importable layers.

    Raises `InvalidURIError` (naming the shortened, scrubbed link and the cause) when
    there is no state, a malformed percent-escape, malformed JSON, a state that is not
    an object, or `layers` that is neither a list nor an object. A malformed single
    layer is skipped with a reason instead; no other exception type escapes.
    """
    if not isinstance(text, str):
        raise InvalidURIError(str(type(text).__name__), "a Neuroglancer link must be a string")
    text = text.strip()
    link = _short(text)
    marker = _STATE_MARKER.search(text)
    if marker is None:
        raise InvalidURIError(link, "not a Neuroglancer link: no '#!' state")
    state = _load_state(text[marker.end() :], link)

    layers_json = state.get("layers", [])
    entries: list[tuple[str, Any]]
    if isinstance(layers_json, list):
        entries = [(_layer_name(spec, i, None), spec) for i, spec in enumerate(layers_json)]
    elif isinstance(layers_json, dict):  # the older form: {name: layer}
        entries = [
            (_layer_name(spec, i, key), spec) for i, (key, spec) in enumerate(layers_json.items())
        ]
    elif layers_json is None:
        entries = []
    else:
        raise InvalidURIError(
            link, f"'layers' of the Neuroglancer state is {_json_kind(layers_json)}, not a list"
        )

    layers: list[NeuroglancerLayer] = []
    skipped: list[SkippedLayer] = []
    for name, spec in entries:
        try:
            result = _read_layer(spec, name)
        except Exception as exc:  # a safety net: one strange layer must not sink the link
            result = SkippedLayer(
                name, scrub(f"unexpected layer structure ({type(exc).__name__}: {exc})")
            )
        if isinstance(result, SkippedLayer):
            skipped.append(result)
        else:
            layers.append(result)

    voxel = _voxel_size_from_dimensions(state.get("dimensions"))
    position = _numbers(state.get("position"))
    if "dimensions" not in state:
        # Links from before 2020: navigation.pose.position {voxelSize (nm), voxelCoordinates}.
        legacy = _legacy_navigation(state)
        voxel = voxel or legacy[0]
        position = position or legacy[1]
    layout_json = state.get("layout")
    layout: str | None = None
    if isinstance(layout_json, str):
        layout = layout_json
    elif isinstance(layout_json, dict) and isinstance(layout_json.get("type"), str):
        layout = layout_json["type"]
    return NeuroglancerState(
        layers=layers,
        skipped=skipped,
        voxel_size=voxel[0] if voxel else None,
        unit=voxel[1] if voxel else None,
        position=position,
        layout=layout,
        raw=state,
    )
