"""Colour maps of color layers: contrast window, invert, gamma, then grey / tint / a perceptual map.

Twin of js/src/colormaps.ts (same anchors, same arithmetic, same rounding): the browser
colours raw tiles with it and `viewer.screenshot()` renders with it in Python, so both
give the same pixels for the same settings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .protocol import COLORMAPS

__all__ = ["COLORMAPS", "DEFAULT_COLORMAP", "apply", "is_plain", "map_rgb", "normalized"]
DEFAULT_COLORMAP = "tint"

# 9 evenly spaced samples of matplotlib's maps (viridisLite's viridis(9) / magma(9)),
# interpolated linearly in between.
_ANCHORS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "viridis": (
        (0x44, 0x01, 0x54), (0x47, 0x2D, 0x7B), (0x3B, 0x52, 0x8B), (0x2C, 0x72, 0x8E),
        (0x21, 0x91, 0x8C), (0x28, 0xAE, 0x80), (0x5E, 0xC9, 0x62), (0xAD, 0xDC, 0x30),
        (0xFD, 0xE7, 0x25),
    ),
    "magma": (
        (0x00, 0x00, 0x04), (0x1D, 0x11, 0x47), (0x51, 0x12, 0x7C), (0x83, 0x26, 0x81),
        (0xB7, 0x37, 0x79), (0xE7, 0x52, 0x63), (0xFC, 0x89, 0x61), (0xFE, 0xC4, 0x88),
        (0xFC, 0xFD, 0xBF),
    ),
}


def is_plain(colormap: str, invert: bool, gamma: float) -> bool:
    """True when the settings are the classic "windowed intensity times the layer colour"."""
    return colormap == DEFAULT_COLORMAP and not invert and gamma == 1.0


def normalized(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Values -> 0..1 (float64) over the window [lo, hi], clipped; NaN -> 0."""
    v = values.astype(np.float64, copy=False)
    if hi == lo:
        return np.where(v >= hi, 1.0, 0.0)
    t = (v - lo) / (hi - lo)
    return np.clip(np.nan_to_num(t, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)


def map_rgb(t: np.ndarray, colormap: str, color: Sequence[int]) -> np.ndarray:
    """0..1 values -> uint8 RGB (..., 3)."""
    out = np.empty((*t.shape, 3), dtype=np.uint8)
    if colormap in _ANCHORS:
        anchors = np.asarray(_ANCHORS[colormap], dtype=np.float64)
        pos = t * (len(anchors) - 1)
        k = np.minimum(np.floor(pos).astype(np.int64), len(anchors) - 2)
        f = pos - k
        for c in range(3):
            a, b = anchors[k, c], anchors[k + 1, c]
            out[..., c] = np.floor(a + (b - a) * f + 0.5).astype(np.uint8)
        return out
    rgb = (255, 255, 255) if colormap == "grey" else tuple(int(c) for c in color)
    for c in range(3):
        out[..., c] = np.floor(t * rgb[c] + 0.5).astype(np.uint8)
    return out


def apply(
    values: np.ndarray,
    value_range: Sequence[float],
    colormap: str = DEFAULT_COLORMAP,
    color: Sequence[int] = (255, 255, 255),
    invert: bool = False,
    gamma: float = 1.0,
) -> np.ndarray:
    """A color layer's plane -> opaque RGBA (h, w, 4) with the full colour-map pipeline."""
    if colormap not in COLORMAPS:
        raise ValueError(f"unknown colour map {colormap!r}; use one of {', '.join(COLORMAPS)}")
    t = normalized(values, float(value_range[0]), float(value_range[1]))
    if invert:
        t = 1.0 - t
    if gamma != 1.0:
        t = np.power(t, float(gamma))
    out = np.empty((*values.shape, 4), dtype=np.uint8)
    out[..., :3] = map_rgb(t, colormap, color)
    out[..., 3] = 255
    return out
