"""`viewer.screenshot()`: the current views rendered in Python from the same data and settings.

Needs no browser: the geometry (js/src/tilemath.ts: screen pixel -> mag-1 voxel, which mag
a zoom shows) and the colours (`colormaps`, `segments`) are twins of the browser's. Reads
run on the package's I/O loop, so this works while a cell runs.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..dataset import Dataset, Layer
from ..storage import io_loop
from . import colormaps, render
from .annotations import box_bounds, normalize_all
from .protocol import PLANE_AXES
from .segments import render_segments

MAG_BIAS = 1.25  # js/src/tilemath.ts chooseMag


@dataclass(frozen=True)
class ViewSpec:
    plane: str
    width: int
    height: int
    position: tuple[float, float, float]
    zoom: float
    voxel_size: tuple[float, float, float]

    def pixels_per_voxel(self, axis: int) -> float:
        return self.voxel_size[axis] / (self.zoom * min(self.voxel_size))

    def pixel_voxels(self) -> tuple[np.ndarray, np.ndarray]:
        """Mag-1 voxel coordinates (u along columns, v along rows) of the pixel centres."""
        u, v, _ = PLANE_AXES[self.plane]
        cols = self.position[u] + (np.arange(self.width) + 0.5 - self.width / 2) / self.pixels_per_voxel(u)
        rows = self.position[v] + (np.arange(self.height) + 0.5 - self.height / 2) / self.pixels_per_voxel(v)
        return cols, rows


def choose_mag(mags: Sequence[Sequence[int]], plane: str, zoom: float, voxel_size: Sequence[float]) -> int:
    """Index of the mag a view shows at this zoom (js/src/tilemath.ts chooseMag)."""
    u, v, _ = PLANE_AXES[plane]
    limit = zoom * min(voxel_size) * MAG_BIAS
    best, best_volume = -1, -1
    for idx, m in enumerate(mags):
        extent = min(voxel_size[u] * m[u], voxel_size[v] * m[v])
        volume = m[u] * m[v]
        if extent <= limit and volume > best_volume:
            best, best_volume = idx, volume
    if best < 0:
        best = min(range(len(mags)), key=lambda i: mags[i][u] * mags[i][v])
    return best


async def _layer_plane(
    layer: Layer, settings: Mapping[str, Any], view: ViewSpec
) -> tuple[np.ndarray, np.ndarray] | None:
    """The layer's values at every pixel of the view (nearest voxel) and where it has data
    (its bounding box), or None when the view misses the box."""
    mags = [m.mag for m in layer.mags]
    mi = choose_mag(mags, view.plane, view.zoom, view.voxel_size)
    mag = mags[mi]
    u, v, w = PLANE_AXES[view.plane]
    cols, rows = view.pixel_voxels()
    bb = layer.bounding_box
    lo = [bb.top_left[a] // mag[a] for a in range(3)]
    hi = [-((-(bb.top_left[a] + bb.size[a])) // mag[a]) for a in range(3)]
    cu = np.floor(cols / mag[u]).astype(np.int64)
    cv = np.floor(rows / mag[v]).astype(np.int64)
    slice_index = math.floor(view.position[w] / mag[w])
    if not lo[w] <= slice_index < hi[w]:
        return None
    inside_u = (cu >= lo[u]) & (cu < hi[u])
    inside_v = (cv >= lo[v]) & (cv < hi[v])
    if not inside_u.any() or not inside_v.any():
        return None
    u0, u1 = int(cu[inside_u].min()), int(cu[inside_u].max()) + 1
    v0, v1 = int(cv[inside_v].min()), int(cv[inside_v].max()) + 1
    start = [0, 0, 0]
    stop = [0, 0, 0]
    start[u], stop[u] = u0, u1
    start[v], stop[v] = v0, v1
    start[w], stop[w] = slice_index, slice_index + 1
    offset = tuple(start[a] * mag[a] for a in range(3))
    size = tuple((stop[a] - start[a]) * mag[a] for a in range(3))
    channel = int(settings.get("channel") or 0) if layer.num_channels > 1 else None
    axes_raw = settings.get("axes") or {}
    axes = {a.name: int(axes_raw.get(a.name, a.bounds[0])) for a in layer.additional_axes}
    data = await layer.read_async(offset, size, mag=mag, channel=channel, **axes)
    img = render.plane_image(render.select_channel(np.asarray(data), 0), view.plane)  # (v, u)
    out = np.zeros((view.height, view.width), dtype=img.dtype)
    iu = np.clip(cu - u0, 0, img.shape[1] - 1)
    iv = np.clip(cv - v0, 0, img.shape[0] - 1)
    out[:, :] = img[np.ix_(iv, iu)]
    mask = inside_v[:, None] & inside_u[None, :]
    out[~mask] = 0
    return out, mask


def _layer_rgba(layer: Layer, s: Mapping[str, Any], values: np.ndarray, selected: Sequence[int]) -> np.ndarray:
    if layer.category == "segmentation":
        return render_segments(
            values, float(s.get("opacity", 1.0)), selected, str(s.get("segments_shown") or "all"),
            list(s.get("hidden_segments") or []), layer_segment_colors(layer),
        )
    rng = s.get("range") or render.default_range(layer.element_class)
    color = s.get("color") or (255, 255, 255)
    cmap = str(s.get("colormap") or colormaps.DEFAULT_COLORMAP)
    invert = bool(s.get("invert", False))
    gamma = float(s.get("gamma", 1.0) or 1.0)
    if colormaps.is_plain(cmap, invert, gamma):
        return render.render_color_rgba(values, rng, color)
    return colormaps.apply(values, rng, cmap, color, invert, gamma)


def layer_segment_colors(layer: Layer) -> dict[str, Any] | None:
    return layer.segment_metadata


def _draw_annotations(rgba: np.ndarray, view: ViewSpec, items: Sequence[Mapping[str, Any]]) -> None:
    u, v, w = PLANE_AXES[view.plane]
    pu, pv = view.pixels_per_voxel(u), view.pixels_per_voxel(v)
    here = math.floor(view.position[w])

    def screen(p: Sequence[float]) -> tuple[float, float]:
        return (view.width / 2 + (p[u] - view.position[u]) * pu,
                view.height / 2 + (p[v] - view.position[v]) * pv)

    def dot(x: float, y: float, color: tuple[int, int, int], r: int = 3) -> None:
        xi, yi = round(x), round(y)
        rgba[max(0, yi - r): max(0, yi + r + 1), max(0, xi - r): max(0, xi + r + 1), :3] = color

    def seg(a: tuple[float, float], b: tuple[float, float], color: tuple[int, int, int]) -> None:
        n = int(max(abs(b[0] - a[0]), abs(b[1] - a[1]))) + 1
        for t in np.linspace(0.0, 1.0, min(n, 8192)):
            x, y = int(a[0] + (b[0] - a[0]) * t), int(a[1] + (b[1] - a[1]) * t)
            if 0 <= x < view.width and 0 <= y < view.height:
                rgba[y, x, :3] = color

    for a in normalize_all(items):
        n = int(a["color"][1:], 16)
        color = ((n >> 16) & 255, (n >> 8) & 255, n & 255)
        pts = a["points"]
        if a["type"] == "point":
            if abs(math.floor(pts[0][w]) - here) <= 1:
                dot(*screen([c + 0.5 for c in pts[0]]), color)
        elif a["type"] == "line":
            if min(pts[0][w], pts[1][w]) - 1 <= here <= max(pts[0][w], pts[1][w]) + 1:
                seg(screen(pts[0]), screen(pts[1]), color)
        else:
            lo, hi = box_bounds(pts)
            if lo[w] <= here <= hi[w]:
                (x0, y0), (x1, y1) = screen(lo), screen(hi)
                for a_, b_ in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
                    seg(a_, b_, color)


async def render_view_async(
    ds: Dataset,
    layers: Sequence[Layer],
    settings: Mapping[str, Mapping[str, Any]],
    view: ViewSpec,
    selected: Mapping[str, Sequence[int]],
    annotations: Sequence[Mapping[str, Any]] = (),
) -> np.ndarray:
    """One view as RGBA (height, width, 4)."""
    shown = [layer for layer in layers if settings.get(layer.name, {}).get("visible", True)]
    planes = await asyncio.gather(*(_layer_plane(layer, settings.get(layer.name, {}), view) for layer in shown))
    # colour layers add up first; segmentation is drawn over them (as in the browser)
    order = sorted(range(len(shown)), key=lambda k: shown[k].category == "segmentation")
    parts: list[tuple[np.ndarray, str, float]] = []
    for k in order:
        layer, plane = shown[k], planes[k]
        if plane is None:
            continue
        values, mask = plane
        s = settings.get(layer.name, {})
        rgba = _layer_rgba(layer, s, values, selected.get(layer.name, []))
        rgba[~mask] = 0  # nothing is drawn outside the layer's box
        opacity = 1.0 if layer.category == "segmentation" else float(s.get("opacity", 1.0))
        parts.append((rgba, layer.category, opacity))
    if parts:
        out = render.composite(parts)
    else:
        out = np.zeros((view.height, view.width, 4), dtype=np.uint8)
        out[..., 3] = 255
    if annotations:
        _draw_annotations(out, view, annotations)
    return out


def render_views(
    ds: Dataset | None,
    layers: Sequence[Layer],
    layer_settings: Sequence[Mapping[str, Any]],
    *,
    mode: str,
    position: Sequence[float],
    zoom: float,
    selected: Mapping[str, Sequence[int]],
    annotations: Sequence[Mapping[str, Any]] = (),
    width: int = 800,
    height: int = 600,
    timeout: float = 120.0,
) -> np.ndarray:
    """The views of `mode` ("xy" | "xz" | "yz" | "ortho": XY, YZ / XZ and an empty cell,
    as the widget lays them out) as one RGBA image (height, width, 4)."""
    if width < 2 or height < 2:
        raise ValueError("screenshot size must be at least 2 x 2 pixels")
    canvas = np.zeros((height, width, 4), dtype=np.uint8)
    canvas[..., 3] = 255
    if ds is None or not layers:
        return canvas
    settings = {str(s.get("name")): s for s in layer_settings}
    voxel = tuple(float(v) for v in ds.voxel_size)
    pos = (float(position[0]), float(position[1]), float(position[2]))
    if mode == "ortho":
        hw, hh = width // 2, height // 2
        cells = [("xy", 0, 0), ("yz", hw, 0), ("xz", 0, hh)]
        sizes = (hw, hh)
    else:
        cells = [(mode, 0, 0)]
        sizes = (width, height)
    views = [ViewSpec(p, sizes[0], sizes[1], pos, float(zoom), voxel) for p, _, _ in cells]  # type: ignore[arg-type]

    async def all_views() -> list[np.ndarray]:
        return list(await asyncio.gather(*(
            render_view_async(ds, layers, settings, view, selected, annotations) for view in views
        )))

    fut = asyncio.run_coroutine_threadsafe(all_views(), io_loop())
    try:
        images = fut.result(timeout)
    except BaseException:
        fut.cancel()  # a timeout or an interrupt stops the reads too
        raise
    for (_, x, y), img in zip(cells, images, strict=True):
        canvas[y: y + img.shape[0], x: x + img.shape[1]] = img
    return canvas
