"""OME metadata beside the image: omero channel colours/windows and image-label segment colours."""

from __future__ import annotations

import re
from typing import Any


def _hex_color(text: Any) -> list[int] | None:
    if not isinstance(text, str):
        return None
    h = text.strip().lstrip("#")
    if len(h) == 8:
        h = h[:6]
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    if not re.fullmatch(r"[0-9a-fA-F]{6}", h):
        return None
    return [int(h[i : i + 2], 16) for i in (0, 2, 4)]


def view_configuration_from_omero(channel: Any) -> dict[str, Any] | None:
    """WEBKNOSSOS defaultViewConfiguration of one omero channel (None if it says nothing)."""
    if not isinstance(channel, dict):
        return None
    config: dict[str, Any] = {}
    color = _hex_color(channel.get("color"))
    if color is not None:
        config["color"] = color
    window = channel.get("window")
    if isinstance(window, dict):
        start, end = window.get("start"), window.get("end")
        if isinstance(start, int | float) and isinstance(end, int | float):
            config["intensityRange"] = [start, end]
        for key in ("min", "max"):
            if isinstance(window.get(key), int | float):
                config[key] = window[key]
    if isinstance(channel.get("inverted"), bool):
        config["isInverted"] = channel["inverted"]
    if isinstance(channel.get("active"), bool):
        config["isDisabled"] = not channel["active"]
    return config or None


def _label_value(entry: Any) -> int | None:
    value = entry.get("label-value") if isinstance(entry, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**64 else None


def image_label_segments(image_label: Any) -> dict[str, dict[str, Any]] | None:
    """OME-NGFF `image-label` -> {str(id): {"color": [r, g, b], "properties": {...}}}.

    Only well-formed entries are kept; None when the metadata gives nothing usable.
    """
    if not isinstance(image_label, dict):
        return None
    out: dict[str, dict[str, Any]] = {}
    colors = image_label.get("colors")
    for entry in colors if isinstance(colors, list) else []:
        sid = _label_value(entry)
        rgba = entry.get("rgba") if sid is not None else None
        if (
            isinstance(rgba, list)
            and len(rgba) in (3, 4)
            and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in rgba)
        ):
            out.setdefault(str(sid), {})["color"] = [int(c) for c in rgba[:3]]
    props = image_label.get("properties")
    for entry in props if isinstance(props, list) else []:
        sid = _label_value(entry)
        if sid is None:
            continue
        extra = {str(k): v for k, v in entry.items() if k != "label-value" and isinstance(v, str | int | float | bool)}
        if extra:
            out.setdefault(str(sid), {})["properties"] = extra
    return out or None


def _declared_largest_segment_id(*docs: Any) -> int | None:
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        for key in ("largestSegmentId", "largest_segment_id"):
            value = doc.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                return value
    return None
