"""Building a Neuroglancer link from layers (`build_neuroglancer_url`)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from ..errors import InvalidURIError
from ..formats import axis_order as axis_order_rule
from ..formats import neuroglancer_opens_volume, neuroglancer_prefixes, parse_uri
from ..units import normalize_unit
from .dimensions import _number, _to_meters
from .link import _URL_SAFE
from .read import _pair

DEFAULT_NEUROGLANCER_BASE = "https://neuroglancer-demo.appspot.com/"


@dataclass
class NeuroglancerLayerOut:
    """One layer to put into a Neuroglancer link.

    `path`: the mag-1 array URI, or for a format Neuroglancer opens as a whole volume
    (`formats.neuroglancer_opens_volume`: precomputed) the dataset root (the folder with
    `info`). `multiscale_root`, when given, is used instead (an OME-NGFF multiscale group
    or an N5 multiscale group; Neuroglancer opens those with all their levels).
    `axis_order` is the mag's reader axis order (name -> array dimension; Neuroglancer
    counts dimensions as the datasource does, which the format's axis-order rule converts
    to: N5 from the end); when given, the source gets a transform naming its dimensions
    (x, y, z; `c` and any other axis become local dimensions, `c'`, `t'`, ...).
    `channel_index` picks one channel (via the local `c'` position, or for a whole volume
    with fixed axes the shader's channel).
    `view_configuration` is a WEBKNOSSOS defaultViewConfiguration (color, alpha,
    intensityRange, min, max, isDisabled, isInverted).
    """

    name: str
    category: str  # "color" | "segmentation"
    data_format: str  # "zarr" | "zarr3" | "n5" | "neuroglancerPrecomputed"
    path: str
    multiscale_root: str | None = None
    channel_index: int | None = None
    axis_order: Mapping[str, int] | None = None
    view_configuration: Mapping[str, Any] | None = None


_DIMENSION_NAME = re.compile(r"^[a-zA-Z][a-zA-Z_0-9]*$")


def _neuroglancer_location(uri: str) -> str:
    """A mag/dataset URI of ours as a Neuroglancer kvstore URL."""
    parsed = parse_uri(uri)
    if parsed.scheme == "file":
        raise InvalidURIError(
            uri,
            "Neuroglancer cannot read local files; serve the data over HTTP(S) or from a bucket",
        )
    if parsed.scheme in ("http", "https"):
        return parsed.url
    if parsed.scheme == "gs":
        return f"gs://{parsed.authority}{parsed.path}"
    if parsed.scheme == "s3":
        if parsed.endpoint_url:
            # A custom endpoint: Neuroglancer's s3:// is AWS only, so read it as plain HTTP(S).
            endpoint = urlsplit(parsed.endpoint_url)
            return f"{endpoint.scheme}://{endpoint.netloc}/{parsed.authority}{parsed.path}"
        # Neuroglancer reads s3://BUCKET/KEY from https://BUCKET.s3.amazonaws.com/KEY.
        return f"s3://{parsed.authority}{parsed.path}"
    raise InvalidURIError(uri, f"{parsed.scheme}:// cannot be opened by Neuroglancer")


def _dimension_name(name: str) -> str:
    clean = re.sub(r"[^a-zA-Z_0-9]", "_", name)
    return clean if _DIMENSION_NAME.match(clean) else f"d_{clean}"


def _source_transform(
    axis_order: Mapping[str, int], data_format: str, meters: Sequence[float], name: str
) -> tuple[dict[str, Any], list[str]]:
    """outputDimensions naming the array's dimensions (in the order Neuroglancer counts
    them, the datasource's), and the local dimension names."""
    rank = len(axis_order)
    if sorted(axis_order.values()) != list(range(rank)) or not {"x", "y", "z"} <= set(axis_order):
        raise ValueError(
            f"layer {name!r}: axis_order must give x, y, z and map names to 0..rank-1, got {dict(axis_order)}"
        )
    rule = axis_order_rule(data_format)
    by_dimension: dict[int, str] = {}
    for axis, index in axis_order.items():
        by_dimension[rule.axis_index_to_datasource(index, rank)] = axis
    output: dict[str, Any] = {}
    local: list[str] = []
    for dimension in range(rank):
        axis = by_dimension[dimension]
        if axis in ("x", "y", "z"):
            output[axis] = [meters["xyz".index(axis)], "m"]
        else:
            local_name = _dimension_name(axis) + "'"
            if local_name in output:
                local_name = f"{_dimension_name(axis)}_{dimension}'"
            output[local_name] = [1, ""]
            local.append(local_name)
    return output, local


def _rgb_hex(color: Any) -> str | None:
    if not isinstance(color, list | tuple) or len(color) != 3:
        return None
    values = [_number(c) for c in color]
    if any(v is None for v in values):
        return None
    return "#" + "".join(f"{min(max(round(v), 0), 255):02x}" for v in values if v is not None)


def _image_display(
    config: Mapping[str, Any], channel: int | None
) -> tuple[str | None, dict[str, Any], float]:
    """(shader or None for the default one, shaderControls, opacity) of an image layer."""
    normalized: dict[str, Any] = {}
    value_range = _pair(config.get("intensityRange"))
    if value_range is not None:
        normalized["range"] = [min(value_range), max(value_range)]
    low, high = _number(config.get("min")), _number(config.get("max"))
    if low is not None and high is not None:
        normalized["window"] = [config["min"], config["max"]]
    if channel is not None:
        normalized["channel"] = [channel]
    controls: dict[str, Any] = {}
    if normalized:
        controls["normalized"] = normalized
    color = _rgb_hex(config.get("color"))
    inverted = config.get("isInverted") is True
    shader: str | None = None
    if color is not None or inverted:
        lines = []
        if color is not None:
            lines.append(f'#uicontrol vec3 color color(default="{color}")')
            controls["color"] = color
        lines.append("#uicontrol invlerp normalized")
        if inverted:
            lines.append("#uicontrol bool invert checkbox(default=true)")
            controls["invert"] = True
        lines += ["void main() {", "  float v = normalized();"]
        if inverted:
            lines.append("  if (invert) { v = 1.0 - v; }")
        lines.append("  emitRGB(color * v);" if color is not None else "  emitGrayscale(v);")
        lines.append("}")
        shader = "\n".join(lines) + "\n"
    alpha = _number(config.get("alpha"))
    opacity = 1.0 if alpha is None else min(max(alpha, 0.0), 100.0) / 100
    return shader, controls, opacity


def _layer_json(layer: NeuroglancerLayerOut, meters: Sequence[float], name: str) -> dict[str, Any]:
    if layer.category not in ("color", "segmentation"):
        raise ValueError(
            f"layer {name!r}: category must be 'color' or 'segmentation', got {layer.category!r}"
        )
    prefixes = neuroglancer_prefixes()
    prefix = prefixes.get(layer.data_format)
    if prefix is None:
        raise ValueError(
            f"layer {name!r}: data_format must be one of {sorted(prefixes)}, got {layer.data_format!r}"
        )
    if layer.channel_index is not None and (
        not isinstance(layer.channel_index, int)
        or isinstance(layer.channel_index, bool)
        or layer.channel_index < 0
    ):
        raise ValueError(
            f"layer {name!r}: channel_index must be an int >= 0, got {layer.channel_index!r}"
        )
    # A whole volume (precomputed) has Neuroglancer's fixed axes: no transform, and the
    # channel is the shader's.
    volume = neuroglancer_opens_volume(layer.data_format)
    if layer.channel_index is not None and layer.axis_order is None and not volume:
        raise ValueError(
            f"layer {name!r}: channel_index needs axis_order (which array dimension is c)"
        )
    location = _neuroglancer_location(layer.multiscale_root or layer.path)
    url = f"{prefix}://{location}"
    source: Any = url
    result: dict[str, Any] = {"type": "image" if layer.category == "color" else "segmentation"}
    local: list[str] = []
    if layer.axis_order is not None and not volume:
        output, local = _source_transform(layer.axis_order, layer.data_format, meters, name)
        source = {"url": url, "transform": {"outputDimensions": output}}
    result["source"] = source
    if local:
        result["localDimensions"] = {n: [1, ""] for n in local}
        result["localPosition"] = [
            (layer.channel_index or 0) + 0.5 if n == "c'" else 0.5 for n in local
        ]
    config = layer.view_configuration or {}
    if layer.category == "color":
        shader_channel = layer.channel_index if volume else None
        shader, controls, opacity = _image_display(config, shader_channel)
        result["opacity"] = opacity
        if shader is not None:
            result["shader"] = shader
        if controls:
            result["shaderControls"] = controls
    else:
        alpha = _number(config.get("alpha"))
        if alpha is not None:
            result["selectedAlpha"] = min(max(alpha, 0.0), 100.0) / 100
    if config.get("isDisabled") is True:
        result["visible"] = False
    result["name"] = name
    return result


def _unique_names(layers: Sequence[NeuroglancerLayerOut]) -> list[str]:
    seen: set[str] = set()
    names = []
    for layer in layers:
        base = str(layer.name) or "layer"
        name, counter = base, 1
        while name in seen:
            counter += 1
            name = f"{base}_{counter}"
        seen.add(name)
        names.append(name)
    return names


def build_neuroglancer_url(
    layers: Sequence[NeuroglancerLayerOut],
    voxel_size: tuple[float, float, float],
    unit: str,
    base: str = DEFAULT_NEUROGLANCER_BASE,
    position: Sequence[float] | None = None,
    *,
    layout: str = "4panel",
) -> str:
    """A Neuroglancer link showing `layers`: `base#!<percent-encoded state JSON>`.

    `voxel_size` (mag 1) in `unit` gives the global `dimensions` in meters; `position`
    (x, y, z in mag-1 voxels) centers the view. Raises `ValueError` for arguments that
    cannot be expressed (unknown unit, non-positive voxel size, unknown category or
    data format) and `InvalidURIError` for a path Neuroglancer cannot open (file://).
    """
    unit_name = normalize_unit(unit)
    if unit_name is None:
        raise ValueError(f"unknown length unit {unit!r}")
    sizes = [_number(v) for v in voxel_size]
    if len(sizes) != 3 or any(v is None or v <= 0 for v in sizes):
        raise ValueError(f"voxel_size must be three positive finite numbers, got {voxel_size!r}")
    meters = [_to_meters(v, unit_name) for v in sizes if v is not None]
    if not all(math.isfinite(m) and m > 0 for m in meters):
        raise ValueError(f"voxel_size {voxel_size!r} {unit_name} is out of range")
    state: dict[str, Any] = {
        "dimensions": {axis: [m, "m"] for axis, m in zip("xyz", meters, strict=True)}
    }
    if position is not None:
        center = [_number(v) for v in position]
        if len(center) != 3 or any(v is None for v in center):
            raise ValueError(f"position must be three finite numbers, got {position!r}")
        state["position"] = center
    names = _unique_names(layers)
    state["layers"] = [
        _layer_json(layer, meters, name) for layer, name in zip(layers, names, strict=True)
    ]
    state["layout"] = layout
    text = json.dumps(state, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return base.split("#", 1)[0] + "#!" + quote(text, safe=_URL_SAFE)
