"""Annotations of the viewer: points, lines and axis-aligned boxes in mag-1 voxels.

Kept in the notebook (the synced `Viewer.annotations` trait) and in local JSON files,
never written to the remote source. Pure validation here; the NML export lives in
`nml.py`, the Neuroglancer annotation layer below.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_text

ANNOTATION_TYPES: dict[str, int] = {"point": 1, "line": 2, "box": 2}  # type -> number of points
DEFAULT_COLOR = "#ffcc00"
FILE_FORMAT = "wk_widget.annotations"
FILE_VERSION = 1
MAX_ANNOTATIONS = 100_000
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def _coordinate(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: coordinates must be numbers, got {value!r}")
    f = float(value)
    if not math.isfinite(f):
        raise ValueError(f"{where}: coordinates must be finite, got {value!r}")
    return int(f) if f == int(f) else f


def normalize(item: Any, index: int = 0) -> dict[str, Any]:
    """One annotation -> its canonical dict (raises ValueError naming what is wrong)."""
    where = f"annotation {index}"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: must be a dict, got {type(item).__name__}")
    kind = item.get("type")
    if kind not in ANNOTATION_TYPES:
        raise ValueError(f"{where}: type must be one of {sorted(ANNOTATION_TYPES)}, got {kind!r}")
    points = item.get("points")
    want = ANNOTATION_TYPES[kind]
    if not isinstance(points, Sequence) or isinstance(points, str) or len(points) != want:
        raise ValueError(f"{where}: a {kind} has {want} point{'s' if want > 1 else ''} [x, y, z]")
    clean: list[list[float]] = []
    for p in points:
        if not isinstance(p, Sequence) or isinstance(p, str) or len(p) != 3:
            raise ValueError(f"{where}: each point is [x, y, z], got {p!r}")
        clean.append([_coordinate(c, where) for c in p])
    color = item.get("color") or DEFAULT_COLOR
    if not isinstance(color, str) or not _HEX.match(color):
        raise ValueError(f"{where}: color must be '#rrggbb', got {color!r}")
    ident = item.get("id")
    ident = str(ident) if isinstance(ident, str | int) and str(ident) else new_id()
    name = item.get("name")
    name = str(name) if name is not None else f"{kind} {ident[:6]}"
    return {"id": ident, "type": kind, "points": clean, "name": name, "color": color.lower()}


def normalize_all(items: Any) -> list[dict[str, Any]]:
    """A list of annotations -> canonical dicts with unique ids."""
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise ValueError("annotations must be a list of dicts")
    if len(items) > MAX_ANNOTATIONS:
        raise ValueError(f"at most {MAX_ANNOTATIONS} annotations")
    out = [normalize(item, k) for k, item in enumerate(items)]
    seen: set[str] = set()
    for a in out:
        if a["id"] in seen:
            a["id"] = new_id()
        seen.add(a["id"])
    return out


def to_document(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"format": FILE_FORMAT, "version": FILE_VERSION, "annotations": normalize_all(items)}


def from_document(doc: Any, source: str) -> list[dict[str, Any]]:
    """The annotations of a saved document (or a bare list), validated."""
    if isinstance(doc, Mapping):
        if doc.get("format") not in (None, FILE_FORMAT):
            raise ValueError(f"{source}: not a wk_widget annotation file")
        doc = doc.get("annotations")
    try:
        return normalize_all(doc)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None


def save(items: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    return atomic_write_text(Path(path).expanduser(), json.dumps(to_document(items), indent=1) + "\n")


def load(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path).expanduser()
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p}: not JSON ({exc.msg} at line {exc.lineno})") from None
    return from_document(doc, str(p))


def box_bounds(points: Sequence[Sequence[float]]) -> tuple[list[float], list[float]]:
    """(min corner, max corner) of a box given by two opposite corners."""
    a, b = points
    return [min(a[k], b[k]) for k in range(3)], [max(a[k], b[k]) for k in range(3)]


def neuroglancer_layer(items: Sequence[Mapping[str, Any]], name: str = "annotations") -> dict[str, Any]:
    """A Neuroglancer local annotation layer with the annotations (coordinates in the
    global dimensions, i.e. mag-1 voxels)."""
    out: list[dict[str, Any]] = []
    for a in normalize_all(items):
        entry: dict[str, Any] = {"id": a["id"], "description": a["name"], "props": [a["color"]]}
        pts = a["points"]
        if a["type"] == "point":
            entry.update(type="point", point=pts[0])
        elif a["type"] == "line":
            entry.update(type="line", pointA=pts[0], pointB=pts[1])
        else:
            lo, hi = box_bounds(pts)
            entry.update(type="axis_aligned_bounding_box", pointA=lo, pointB=hi)
        out.append(entry)
    return {
        "type": "annotation",
        "source": {"url": "local://annotations"},
        "annotationProperties": [{"id": "color", "type": "rgb", "default": DEFAULT_COLOR}],
        "annotations": out,
        "shader": "void main() {\n  setColor(prop_color());\n}\n",
        "name": name,
    }
