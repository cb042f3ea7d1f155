"""Annotations -> a WEBKNOSSOS NML skeleton file.

Points become one-node trees, lines two-node trees with an edge, boxes user bounding
boxes; every tree and box keeps the annotation's name and colour. WEBKNOSSOS and
webknossos-libs (`webknossos.Annotation.load`) open the file.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from .._atomic import atomic_write_text
from .annotations import box_bounds, normalize_all


def _num(v: float) -> str:
    return str(int(v)) if float(v) == int(v) else repr(float(v))


def _rgba(hex_color: str) -> dict[str, str]:
    n = int(hex_color[1:], 16)
    r, g, b = (n >> 16) & 255, (n >> 8) & 255, n & 255
    return {"color.r": _num(round(r / 255, 4)), "color.g": _num(round(g / 255, 4)),
            "color.b": _num(round(b / 255, 4)), "color.a": "1"}


def _tag(name: str, attrs: Mapping[str, str], close: bool = True) -> str:
    text = " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items())
    return f"<{name} {text}{' /' if close else ''}>"


def to_nml(
    items: Sequence[Mapping[str, Any]],
    *,
    dataset_name: str,
    voxel_size: Sequence[float],
    unit: str = "nanometer",
    position: Sequence[float] | None = None,
) -> str:
    """The NML document of `items` (validated with `annotations.normalize_all`)."""
    anns = normalize_all(items)
    now = int(time.time() * 1000)
    params = [
        _tag("experiment", {"name": dataset_name}),
        _tag("scale", {"x": _num(voxel_size[0]), "y": _num(voxel_size[1]),
                       "z": _num(voxel_size[2]), "unit": unit}),
        _tag("offset", {"x": "0", "y": "0", "z": "0"}),
        _tag("time", {"ms": str(now)}),
    ]
    if position is not None:
        params.append(_tag("editPosition", {a: _num(math.floor(p)) for a, p in zip("xyz", position, strict=True)}))
    trees: list[str] = []
    node_id = 0
    tree_id = 0
    box_id = 0
    for a in anns:
        if a["type"] == "box":
            box_id += 1
            lo, hi = box_bounds(a["points"])
            top = [math.floor(v) for v in lo]
            size = [max(0, math.ceil(hi[k]) - top[k]) for k in range(3)]
            params.append(_tag("userBoundingBox", {
                "id": str(box_id), "name": a["name"], "isVisible": "true", **_rgba(a["color"]),
                "topLeftX": str(top[0]), "topLeftY": str(top[1]), "topLeftZ": str(top[2]),
                "width": str(size[0]), "height": str(size[1]), "depth": str(size[2]),
            }))
            continue
        tree_id += 1
        nodes: list[str] = []
        ids: list[int] = []
        for p in a["points"]:
            node_id += 1
            ids.append(node_id)
            nodes.append("        " + _tag("node", {
                "id": str(node_id), "radius": "1", "x": _num(p[0]), "y": _num(p[1]), "z": _num(p[2]),
                "rotX": "0", "rotY": "0", "rotZ": "0", "inVp": "0", "inMag": "0",
                "bitDepth": "8", "time": str(now),
            }))
        edges = [
            "        " + _tag("edge", {"source": str(s), "target": str(t)})
            for s, t in itertools.pairwise(ids)
        ]
        trees.append("\n".join([
            "  " + _tag("thing", {"id": str(tree_id), **_rgba(a["color"]), "name": a["name"], "groupId": ""}, close=False),
            "    <nodes>", *nodes, "    </nodes>",
            "    <edges>", *edges, "    </edges>",
            "  </thing>",
        ]))
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<things>",
        "  " + _tag("meta", {"name": "writer", "content": "wk_widget"}),
        "  <parameters>",
        *("    " + p for p in params),
        "  </parameters>",
        *trees,
        "  <branchpoints />",
        "  <comments />",
        "  <groups />",
        "</things>",
        "",
    ])


def save_nml(path: str | Path, items: Sequence[Mapping[str, Any]], **kwargs: Any) -> Path:
    return atomic_write_text(Path(path).expanduser(), to_nml(items, **kwargs))
