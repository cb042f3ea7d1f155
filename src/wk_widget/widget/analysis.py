"""The Viewer as an analysis tool: segment selection, clicks seen by Python, local
annotations, screenshots, links and the settings written back as defaultViewConfiguration.

A mixin of `Viewer` (viewer.py keeps the tiles, the form and the view state); the pure
parts live in `segments`, `annotations`, `nml`, `colormaps` and `screenshot`.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import logging
import math
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import traitlets

from ..dataset import Dataset, Layer
from ..errors import scrub
from ..storage import io_loop
from . import annotations as ann
from . import colormaps, nml, render
from .links import view_url
from .protocol import PLANES
from .screenshot import render_views
from .segments import SEGMENT_MODES, normalize_ids, normalize_selection

log = logging.getLogger(__name__)

ClickCallback = Callable[[dict[str, Any]], Any]

# Layer settings added by this module (besides visible, opacity, range, color, channel, axes).
ANALYSIS_SETTINGS = frozenset({"colormap", "invert", "gamma", "segments_shown", "hidden_segments"})
MAX_GAMMA = 10.0
SNAPSHOT_SIZE = (800, 600)  # the static image left in the notebook's output
SNAPSHOT_TIMEOUT_S = 10.0  # a slow source must not hold up displaying the widget


def analysis_defaults(layer: Layer) -> dict[str, Any]:
    """Initial analysis settings of a layer (OME `omero.inverted` arrives as isInverted)."""
    view = layer.default_view_configuration or {}
    gamma = view.get("gammaCorrectionValue")
    return {
        "colormap": colormaps.DEFAULT_COLORMAP,
        "invert": view.get("isInverted") is True,
        "gamma": float(gamma) if isinstance(gamma, int | float) and not isinstance(gamma, bool) and 0 < gamma <= MAX_GAMMA else 1.0,
        "segments_shown": "all",
        "hidden_segments": [],
    }


def check_analysis_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the analysis keys of a layer settings dict (raises ValueError)."""
    out = dict(settings)
    if "colormap" in out and out["colormap"] not in colormaps.COLORMAPS:
        raise ValueError(f"colormap must be one of {', '.join(colormaps.COLORMAPS)}, not {out['colormap']!r}")
    if "invert" in out:
        out["invert"] = bool(out["invert"])
    if "gamma" in out:
        g = out["gamma"]
        if isinstance(g, bool) or not isinstance(g, int | float) or not (0 < float(g) <= MAX_GAMMA):
            raise ValueError(f"gamma must be a number in (0, {MAX_GAMMA}], not {g!r}")
        out["gamma"] = float(g)
    if "segments_shown" in out and out["segments_shown"] not in SEGMENT_MODES:
        raise ValueError(f"segments_shown must be one of {', '.join(SEGMENT_MODES)}, not {out['segments_shown']!r}")
    if "hidden_segments" in out:
        out["hidden_segments"] = normalize_ids(out["hidden_segments"], "hidden_segments")
    return out


def view_configuration(settings: Mapping[str, Any], category: str) -> dict[str, Any]:
    """A layer's view settings -> WEBKNOSSOS defaultViewConfiguration keys."""
    out: dict[str, Any] = {}
    if "opacity" in settings:
        out["alpha"] = round(max(0.0, min(1.0, float(settings["opacity"]))) * 100, 2)
    if "visible" in settings:
        out["isDisabled"] = not bool(settings["visible"])
    if category == "color":
        if isinstance(settings.get("color"), list | tuple):
            out["color"] = [int(c) for c in settings["color"]]
        rng = settings.get("range")
        if isinstance(rng, list | tuple) and len(rng) == 2:
            out["intensityRange"] = [float(rng[0]), float(rng[1])]
        out["isInverted"] = bool(settings.get("invert", False))
        out["gammaCorrectionValue"] = float(settings.get("gamma", 1.0) or 1.0)
    return out


class AnalysisMixin(traitlets.HasTraits):
    """Segments, clicks, annotations, screenshots and links of the `Viewer`."""

    selected_segments = traitlets.Dict().tag(sync=True)
    annotations = traitlets.List(traitlets.Dict()).tag(sync=True)

    if TYPE_CHECKING:
        position: list[float]
        zoom: float
        plane: str
        height: int
        layer_settings: list[dict[str, Any]]

        @property
        def dataset(self) -> Dataset | None: ...
        def _shown_layers(self) -> list[Layer]: ...
        def _spawn(self, coro: Any) -> None: ...

    @traitlets.validate("selected_segments")
    def _valid_selected(self, proposal: Any) -> dict[str, list[int]]:
        try:
            return normalize_selection(proposal["value"])
        except ValueError as exc:
            raise traitlets.TraitError(str(exc)) from None

    @traitlets.validate("annotations")
    def _valid_annotations(self, proposal: Any) -> list[dict[str, Any]]:
        try:
            return ann.normalize_all(proposal["value"])
        except ValueError as exc:
            raise traitlets.TraitError(str(exc)) from None

    # -- clicks ----------------------------------------------------------------------------
    def on_click(self, callback: ClickCallback, remove: bool = False) -> None:
        """Call `callback(event)` on every click in a view: event["position"] (x, y, z in
        mag-1 voxels), event["view"] ("xy" | "xz" | "yz"), event["values"] ({layer: value}
        of every visible layer there: segment id or intensity) and event["modifiers"]."""
        callbacks = self.__dict__.setdefault("_click_callbacks", [])
        if remove:
            if callback in callbacks:
                callbacks.remove(callback)
        elif callback not in callbacks:
            callbacks.append(callback)

    def _handle_click(self, content: Mapping[str, Any]) -> None:
        pos = content.get("position")
        if not (isinstance(pos, list) and len(pos) == 3):
            raise ValueError("click position must be [x, y, z]")
        position = [float(v) for v in pos]
        if not all(math.isfinite(v) for v in position):
            raise ValueError("click position must be finite")
        view = content.get("view")
        if view not in PLANES:
            raise ValueError(f"unknown view {view!r}")
        mods = content.get("modifiers")
        modifiers = [str(m) for m in mods if m in ("shift", "ctrl", "meta", "alt")] if isinstance(mods, list) else []
        callbacks = list(self.__dict__.get("_click_callbacks", []))
        if not callbacks:
            return
        voxel = tuple(math.floor(v) for v in position)
        event = {"position": voxel, "view": view, "values": {}, "modifiers": modifiers}
        self._spawn(self._click(event, callbacks))

    async def _click(self, event: dict[str, Any], callbacks: list[ClickCallback]) -> None:
        fut = asyncio.run_coroutine_threadsafe(self._values_at(event["position"]), io_loop())
        try:
            event["values"] = await asyncio.wrap_future(fut)
        except Exception as exc:  # the event still arrives, without values
            log.warning("wk_widget: reading the clicked values failed: %s", scrub(str(exc)))
        for cb in callbacks:
            try:
                cb(event)
            except Exception:
                traceback.print_exc()

    async def _values_at(self, voxel: Sequence[int]) -> dict[str, Any]:
        """The value of every visible layer at a mag-1 voxel (read at its finest mag)."""
        settings = {s.get("name"): s for s in self.layer_settings}
        layers = [layer for layer in self._shown_layers() if settings.get(layer.name, {}).get("visible", True)]

        async def one(layer: Layer) -> Any:
            bb = layer.bounding_box
            if not all(bb.top_left[a] <= voxel[a] < bb.top_left[a] + bb.size[a] for a in range(3)):
                return None
            mag = layer.mags[0].mag
            s = settings.get(layer.name, {})
            offset = [(voxel[a] // mag[a]) * mag[a] for a in range(3)]
            channel = int(s.get("channel") or 0) if layer.num_channels > 1 else None
            axes_raw = s.get("axes") or {}
            axes = {a.name: int(axes_raw.get(a.name, a.bounds[0])) for a in layer.additional_axes}
            data = await layer.read_async(offset, list(mag), mag=mag, channel=channel, **axes)
            value = render.select_channel(np.asarray(data), 0).reshape(-1)[0]
            return value.item()

        values = await asyncio.gather(*(one(layer) for layer in layers))
        return {layer.name: v for layer, v in zip(layers, values, strict=True)}

    # -- annotations ------------------------------------------------------------------------
    def save_annotations(self, path: str | Path) -> Path:
        """Write the annotations to a local JSON file (atomically); returns its path."""
        return ann.save(self.annotations, path)

    def load_annotations(self, path: str | Path) -> list[dict[str, Any]]:
        """Replace the annotations with those of a JSON file written by `save_annotations`."""
        self.annotations = ann.load(path)
        return copy.deepcopy(self.annotations)

    def export_annotations(self, path: str | Path) -> Path:
        """Write the annotations as a WEBKNOSSOS NML file (points and lines as trees,
        boxes as user bounding boxes)."""
        ds = self.dataset
        return nml.save_nml(
            path,
            self.annotations,
            dataset_name=ds.name if ds is not None else "wk_widget",
            voxel_size=tuple(ds.voxel_size) if ds is not None else (1.0, 1.0, 1.0),
            unit=ds.unit if ds is not None else "nanometer",
            position=self.position,
        )

    # -- pictures and links -----------------------------------------------------------------
    def screenshot(
        self, width: int | None = None, height: int | None = None, *, timeout: float = 120.0
    ) -> np.ndarray:
        """The current views as a uint8 RGBA array (height, width, 4), rendered in Python
        from the same data and settings as the browser (no browser needed); the views are
        laid out as in the widget (XY | YZ over XZ in "ortho")."""
        return render_views(
            self.dataset,
            self._shown_layers(),
            self.layer_settings,
            mode=self.plane,
            position=self.position,
            zoom=self.zoom,
            selected=self.selected_segments,
            annotations=self.annotations,
            width=int(width or SNAPSHOT_SIZE[0]),
            height=int(height or (self.height if self.height >= 120 else SNAPSHOT_SIZE[1])),
            timeout=timeout,
        )

    def to_neuroglancer_url(self, base: str | None = None) -> str:
        """A Neuroglancer link of the current view: position, zoom, layout, layer settings,
        selected segments and the annotations (as a local annotation layer)."""
        ds = self.dataset
        if ds is None:
            raise ValueError("nothing to link: add a layer first")
        return view_url(
            ds,
            self._shown_layers(),
            self.layer_settings,
            position=self.position,
            zoom=self.zoom,
            mode=self.plane,
            selected=self.selected_segments,
            annotations=self.annotations,
            base=base,
        )

    def to_datasource(self) -> dict[str, Any]:
        """`dataset.to_datasource()` with the current layer settings as each layer's
        defaultViewConfiguration."""
        ds = self.dataset
        if ds is None:
            raise ValueError("nothing to export: add a layer first")
        doc = ds.to_datasource()
        settings = {s.get("name"): s for s in self.layer_settings}
        for entry in doc.get("dataLayers", []):
            s = settings.get(entry.get("name"))
            if s is None:
                continue
            config = dict(entry.get("defaultViewConfiguration") or {})
            config.update(view_configuration(s, str(entry.get("category"))))
            entry["defaultViewConfiguration"] = config
        return doc

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget plus a PNG of its views: front ends without the widget (GitHub,
        nbviewer, a notebook opened without its kernel) show the picture."""
        bundle = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        # anywidget returns (data, metadata); ipywidgets a dict
        data, meta = bundle if isinstance(bundle, tuple) else (bundle, None)
        if isinstance(data, dict) and self.dataset is not None:
            try:
                rgba = self.screenshot(*SNAPSHOT_SIZE, timeout=SNAPSHOT_TIMEOUT_S)
                png = base64.b64encode(render.encode_image(rgba, "png")).decode("ascii")
                data = {**data, "image/png": png}
            except Exception as exc:  # the widget itself must still show
                log.warning("wk_widget: no static image of the views: %s", scrub(str(exc)))
        return (data, meta) if isinstance(bundle, tuple) else data
