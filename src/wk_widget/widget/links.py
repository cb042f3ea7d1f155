"""The viewer's current view as a Neuroglancer link (`Viewer.to_neuroglancer_url`).

`Dataset.to_neuroglancer_url` gives the layers' sources; this adds what is on screen:
position, zoom, layout, each layer's contrast / colour map / opacity / visibility, the
selected segments and the annotations as a local annotation layer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote

from ..dataset import Dataset, Layer
from . import colormaps
from .annotations import neuroglancer_layer

_URL_SAFE = "~@$&()*!+=:;,.?/'"  # neuroglancer.py's, so links look alike
LAYOUTS = {"ortho": "4panel", "xy": "xy", "xz": "xz", "yz": "yz"}


def _glsl_vec3(rgb: Sequence[float]) -> str:
    return "vec3(" + ", ".join(f"{c / 255:.4f}" for c in rgb) + ")"


def color_shader(colormap: str) -> str:
    """A Neuroglancer image shader: window (invlerp), invert, gamma, then the colour map."""
    lines = [
        "#uicontrol invlerp normalized",
        "#uicontrol vec3 color color(default=\"#ffffff\")",
        "#uicontrol bool invert checkbox(default=false)",
        "#uicontrol float gamma slider(min=0.1, max=5.0, default=1.0)",
    ]
    anchors = colormaps._ANCHORS.get(colormap)
    if anchors:
        n = len(anchors)
        lines.append(f"const vec3 CMAP[{n}] = vec3[{n}](" + ", ".join(_glsl_vec3(a) for a in anchors) + ");")
        body = (f"  float p = v * {n - 1}.0; int k = int(min(floor(p), {n - 2}.0));\n"
                "  emitRGB(mix(CMAP[k], CMAP[k + 1], p - float(k)));")
    elif colormap == "grey":
        body = "  emitGrayscale(v);"
    else:
        body = "  emitRGB(color * v);"
    lines += [
        "void main() {",
        "  float v = clamp(normalized(), 0.0, 1.0);",
        "  if (invert) { v = 1.0 - v; }",
        "  v = pow(v, gamma);",
        body,
        "}",
    ]
    return "\n".join(lines) + "\n"


def _split(url: str) -> tuple[str, dict[str, Any]]:
    base, _, fragment = url.partition("#!")
    return base, json.loads(unquote(fragment))


def view_url(
    ds: Dataset,
    layers: Sequence[Layer],
    layer_settings: Sequence[Mapping[str, Any]],
    *,
    position: Sequence[float],
    zoom: float,
    mode: str,
    selected: Mapping[str, Sequence[int]],
    annotations: Sequence[Mapping[str, Any]],
    base: str | None = None,
) -> str:
    base_url, state = _split(ds.to_neuroglancer_url(base))
    shown = {layer.name for layer in layers}
    settings = {str(s.get("name")): s for s in layer_settings}
    out_layers: list[dict[str, Any]] = []
    for entry in state.get("layers", []):
        name = entry.get("name")
        if name not in shown:
            continue
        s = settings.get(name, {})
        entry["visible"] = bool(s.get("visible", True))
        if entry.get("type") == "image":
            rng = s.get("range")
            controls = dict(entry.get("shaderControls") or {})
            normalized = dict(controls.get("normalized") or {})
            if isinstance(rng, list | tuple) and len(rng) == 2:
                normalized["range"] = [float(rng[0]), float(rng[1])]
            color = s.get("color") or [255, 255, 255]
            controls.update(
                normalized=normalized,
                color="#" + "".join(f"{int(c):02x}" for c in color),
                invert=bool(s.get("invert", False)),
                gamma=float(s.get("gamma", 1.0) or 1.0),
            )
            entry["shader"] = color_shader(str(s.get("colormap") or colormaps.DEFAULT_COLORMAP))
            entry["shaderControls"] = controls
            entry["opacity"] = float(s.get("opacity", 1.0))
        elif entry.get("type") == "segmentation":
            entry["segments"] = [str(i) for i in selected.get(name, [])]
            entry["selectedAlpha"] = float(s.get("opacity", 0.4))
            if s.get("segments_shown") == "selected":
                entry["notSelectedAlpha"] = 0.0
        out_layers.append(entry)
    if annotations:
        out_layers.append(neuroglancer_layer(annotations))
    state["layers"] = out_layers
    state["position"] = [float(v) for v in position]
    state["crossSectionScale"] = float(zoom)
    state["layout"] = LAYOUTS.get(mode, "4panel")
    text = json.dumps(state, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return base_url + "#!" + quote(text, safe=_URL_SAFE)
