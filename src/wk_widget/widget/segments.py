"""Segment selection and segment colours of segmentation layers.

Twin of js/src/segments.ts: which ids are drawn (all, only the selected ones, all but the
hidden ones), how a selected id stands out (opaque and lighter), with the colours an OME
`image-label` gives (`formats.ngff.image_label_segments`). `render.segment_color` gives every other id its hashed colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .protocol import SEGMENT_MODES
from .render import segment_color

__all__ = ["SEGMENT_MODES", "normalize_ids", "normalize_selection", "render_segments"]
MAX_SELECTED = 10_000
_U64 = 0xFFFFFFFFFFFFFFFF


def _segment_id(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{where}: segment ids are integers, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int | np.integer):
        raise ValueError(f"{where}: segment ids are integers, got {value!r}")
    out = int(value)
    if not -(2**63) <= out <= _U64:
        raise ValueError(f"{where}: segment id {out} does not fit 64 bits")
    return out


def normalize_ids(values: Any, where: str = "segment ids") -> list[int]:
    """A list of segment ids -> unique ints in their order (0, the background, dropped)."""
    if not isinstance(values, Sequence) or isinstance(values, str | bytes):
        raise ValueError(f"{where}: must be a list of ids")
    if len(values) > MAX_SELECTED:
        raise ValueError(f"{where}: at most {MAX_SELECTED} ids")
    out: list[int] = []
    for v in values:
        i = _segment_id(v, where)
        if i != 0 and i not in out:
            out.append(i)
    return out


def normalize_selection(value: Any) -> dict[str, list[int]]:
    """`selected_segments` -> {layer name: [ids]} (layers without ids are dropped)."""
    if not isinstance(value, Mapping):
        raise ValueError("selected_segments must be a dict: layer name -> list of ids")
    out: dict[str, list[int]] = {}
    for name, ids in value.items():
        clean = normalize_ids(ids, f"selected_segments[{name!r}]")
        if clean:
            out[str(name)] = clean
    return out


def render_segments(
    ids: np.ndarray,
    opacity: float = 1.0,
    selected: Sequence[int] = (),
    mode: str = "all",
    hidden: Sequence[int] = (),
    colors: Mapping[str, Mapping[str, Any]] | None = None,
) -> np.ndarray:
    """Segment ids (h, w) -> RGBA with per-pixel alpha, as the browser draws them."""
    alpha = round(max(0.0, min(1.0, float(opacity))) * 255)
    chosen = {int(s) & _U64 for s in selected}
    hide = {int(s) & _U64 for s in hidden}
    flat = ids.reshape(-1)
    uniq, inverse = np.unique(flat, return_inverse=True)
    palette = np.zeros((len(uniq), 4), dtype=np.uint8)
    for n, raw in enumerate(uniq.tolist()):
        sid = int(raw) & _U64
        if sid == 0:
            continue
        if mode == "selected" and sid not in chosen:
            continue
        if mode == "all_but_hidden" and sid in hide:
            continue
        custom = (colors or {}).get(str(sid), {}).get("color") if colors else None
        r, g, b = custom if custom else segment_color(sid)
        if sid in chosen:
            palette[n] = ((r + 255) // 2, (g + 255) // 2, (b + 255) // 2, 255)
        else:
            palette[n] = (r, g, b, alpha)
    return palette[inverse].reshape(*ids.shape, 4)
