"""The anywidget `Viewer`: an add-layer form, a dataset preview and fast slice views.

State that must survive a re-render (view state, layer settings, the preview, status
and errors) lives in synced traits; tiles travel as binary buffers of custom messages
and secrets only in the one `explore` message (see `protocol.py` for every message).
Nothing slow runs on the kernel's thread: exploration and tile reads run on the
package's I/O loop (`storage.io_loop()`), encoding on a small thread pool, and only the
replies are sent from the kernel's thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from ..errors import RemoteDatasetError, scrub
from ..model import Dataset, Layer, explore, explore_async
from ..storage import io_loop
from . import render
from .access import BrowserAccess
from .analysis import ANALYSIS_SETTINGS, AnalysisMixin, analysis_defaults, check_analysis_settings
from .protocol import (
    CATEGORIES,
    ENCODING_PNG_PLANES,
    MAX_TILE_SIZE,
    MAX_TILES_IN_FLIGHT,
    MAX_TILES_PER_MESSAGE,
    MSG_CANCEL,
    MSG_CLICK,
    MSG_DISCARD,
    MSG_EDIT,
    MSG_EXPLORE,
    MSG_EXPORT,
    MSG_IMPORT,
    MSG_RESULT,
    MSG_STATS,
    MSG_TILE,
    MSG_TILE_BATCH,
    MSG_TILES,
    PLANES,
    PROTOCOL_VERSION,
    TILE_BATCH_DELAY_S,
    TILE_BATCH_MAX,
    TILE_BATCH_MAX_BYTES,
    TILE_FORMATS,
    TILE_SIZE,
    VIEW_MODES,
)

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent.parent / "static"  # the bundle stays at wk_widget/static/

# Default colors of color layers, in order (js/src/colors.ts LAYER_COLORS).
LAYER_COLORS: tuple[tuple[int, int, int], ...] = (
    (255, 255, 255),
    (0, 255, 0),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 0),
    (255, 0, 0),
    (0, 0, 255),
)
SEGMENTATION_OPACITY = 0.4

_encoder: concurrent.futures.ThreadPoolExecutor | None = None
_encoder_lock = threading.Lock()


def _encode_pool() -> concurrent.futures.ThreadPoolExecutor:
    """Threads for the CPU part of tiles (imagecodecs and numpy release the GIL)."""
    global _encoder
    with _encoder_lock:
        if _encoder is None:
            workers = max(2, min(8, os.cpu_count() or 2))
            _encoder = concurrent.futures.ThreadPoolExecutor(
                workers, thread_name_prefix="wk_widget-tiles"
            )
        return _encoder


@dataclass(frozen=True)
class TileJob:
    """One validated tile request."""

    id: str
    layer: Layer
    plane: str
    mag: tuple[int, int, int]
    slice: int
    tile: tuple[int, int]
    size: int
    channel: int | None
    axes: dict[str, int]
    format: str
    region: render.TileRegion | None
    value_range: tuple[float, float] | None
    color: tuple[int, int, int] | None
    received_at: float = 0.0  # time.perf_counter() when the request arrived


async def _read_tile(job: TileJob) -> tuple[dict[str, Any], bytes]:
    """Read, render and encode one tile (runs on the I/O loop; encoding on a thread)."""
    region = job.region
    assert region is not None
    t0 = time.perf_counter()
    data = await job.layer.read_async(
        region.offset, region.size, mag=job.mag, channel=job.channel, **job.axes
    )
    loop = asyncio.get_running_loop()
    meta, payload = await loop.run_in_executor(_encode_pool(), _encode_tile, job, data)
    meta["ms"] = round((time.perf_counter() - t0) * 1000.0, 2)
    try:  # the meter's forecast: panning this whole plane at this zoom
        from ..estimate import plane_cost_async

        meta["pan"] = await plane_cost_async(job.layer, job.plane, job.mag, job.slice)
    except Exception as exc:  # a forecast must never cost the tile
        log.debug("wk_widget: no pan forecast: %s", exc)
    return meta, payload


def _encode_tile(job: TileJob, data: np.ndarray) -> tuple[dict[str, Any], bytes]:
    region = job.region
    assert region is not None
    block = render.select_channel(np.asarray(data), 0)
    img = render.plane_image(block, job.plane)
    if img.shape != (region.h, region.w):
        fixed = np.zeros((region.h, region.w), dtype=img.dtype)
        h, w = min(region.h, img.shape[0]), min(region.w, img.shape[1])
        fixed[:h, :w] = img[:h, :w]
        img = fixed
    meta: dict[str, Any] = {
        "type": MSG_TILE,
        "id": job.id,
        "ok": True,
        "layer": job.layer.name,
        "dtype": render.dtype_name(img.dtype),
        "w": int(region.w),
        "h": int(region.h),
        "u0": int(region.u0),
        "v0": int(region.v0),
    }
    if job.format == "raw":
        meta["encoding"], payload = render.encode_value_tile(img)
        return meta, payload
    rgba = render.render_layer_rgba(img, job.layer.category, job.value_range, job.color)
    meta["encoding"] = job.format
    return meta, render.encode_image(rgba, job.format)


def _jsonable(value: Any) -> Any:
    """Tuples -> lists, numpy scalars -> Python numbers, recursively."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def layer_info(layer: Layer) -> dict[str, Any]:
    """What the views need to know about a layer (the `dataset_info` trait's entries)."""
    bb = layer.bounding_box
    return _jsonable(
        {
            "name": layer.name,
            "category": layer.category,
            "element_class": layer.element_class,
            "data_format": layer.data_format,
            "bbox": {"top_left": list(bb.top_left), "size": list(bb.size)},
            "mags": [list(m.mag) for m in layer.mags],
            "num_channels": int(layer.num_channels),
            "largest_segment_id": layer.largest_segment_id,
            "additional_axes": [
                {"name": a.name, "bounds": list(a.bounds), "index": a.index}
                for a in layer.additional_axes
            ],
            "default_view": dict(layer.default_view_configuration or {}) or None,
            "segments": layer.segment_metadata,
        }
    )


def default_layer_settings(layer: Layer, color_index: int) -> dict[str, Any]:
    """Initial per-layer view settings, from the layer's defaultViewConfiguration."""
    view = layer.default_view_configuration or {}
    color = view.get("color")
    if not (isinstance(color, list | tuple) and len(color) == 3):
        color = LAYER_COLORS[color_index % len(LAYER_COLORS)]
    value_range = view.get("intensityRange")
    if not (isinstance(value_range, list | tuple) and len(value_range) == 2):
        value_range = [0, 255] if layer.element_class == "uint8" else None
    alpha = view.get("alpha")
    if isinstance(alpha, int | float) and not isinstance(alpha, bool):
        opacity = max(0.0, min(1.0, float(alpha) / 100.0))
    else:
        opacity = SEGMENTATION_OPACITY if layer.category == "segmentation" else 1.0
    return _jsonable(
        {
            "name": layer.name,
            "visible": not bool(view.get("isDisabled", False)),
            "opacity": opacity,
            "range": [float(value_range[0]), float(value_range[1])] if value_range else None,
            "color": [int(c) for c in color],
            "channel": 0,
            "axes": {a.name: int(a.bounds[0]) for a in layer.additional_axes},
            **analysis_defaults(layer),
        }
    )


def _initial_view(layers: Sequence[Layer]) -> tuple[list[float], float]:
    """Center of the layers' union box and a zoom showing it whole when it is small."""
    if not layers:
        return [0.0, 0.0, 0.0], 1.0
    lo = [min(layer.bounding_box.top_left[a] for layer in layers) for a in range(3)]
    hi = [
        max(layer.bounding_box.top_left[a] + layer.bounding_box.size[a] for layer in layers)
        for a in range(3)
    ]
    center = [float(math.floor((lo[a] + hi[a]) / 2)) for a in range(3)]
    extent = max(hi[0] - lo[0], hi[1] - lo[1], 1)
    zoom = 1.0 if extent >= 512 else max(extent / 512.0, 1.0 / 64)
    return center, zoom


class Viewer(AnalysisMixin, anywidget.AnyWidget):
    """WEBKNOSSOS-style viewer: add remote layers with the form or `add_layers`, then browse.

    Synced view state mirrors the UI (debounced in the browser): `position` (x, y, z in
    mag-1 voxels), `zoom` (mag-1 voxels per screen pixel), `plane`
    ("xy" | "xz" | "yz" | "ortho") and `layer_settings`.
    """

    _esm = _STATIC / "widget.js"

    # -- view state (both ways) -----------------------------------------------------
    position = traitlets.List(
        traitlets.Float(), default_value=[0.0, 0.0, 0.0], minlen=3, maxlen=3
    ).tag(sync=True)
    zoom = traitlets.Float(1.0).tag(sync=True)
    plane = traitlets.Enum(VIEW_MODES, default_value="ortho").tag(sync=True)
    layer_settings = traitlets.List(traitlets.Dict()).tag(sync=True)
    # CSS px of the views; 0 = fit the window (the resize handle under the views sets it)
    height = traitlets.Int(0).tag(sync=True)
    # -- state shown by the views and the form (Python -> browser) ---------------------
    dataset_info = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    preview = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    form_error = traitlets.Unicode("").tag(sync=True)
    protocol_version = traitlets.Int(PROTOCOL_VERSION, read_only=True).tag(sync=True)
    # "notebook" | "public" | "none": what the browser may make the kernel do (the form
    # is hidden in "none" mode; see access.py)
    browser_access = traitlets.Unicode("notebook", read_only=True).tag(sync=True)

    def __init__(
        self,
        dataset: Dataset | str | None = None,
        *,
        browser_access: str = "notebook",
        export_dir: str | Path = ".",
        **kwargs: Any,
    ) -> None:
        self._browser = BrowserAccess(browser_access, export_dir)
        super().__init__(**kwargs)
        self.set_trait("browser_access", browser_access)
        self._dataset: Dataset | None = None
        self._pending: Dataset | None = None  # explored, not imported yet (first dataset)
        self._staged: list[str] = []  # layers added but not imported into the views
        self._inflight: dict[str, concurrent.futures.Future[Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._exploring = False
        # finished tiles wait here for a moment so that tiles finishing together travel
        # in one message (fewer messages through the Jupyter server and the browser)
        self._outbox: list[tuple[dict[str, Any], bytes | None]] = []
        self._outbox_bytes = 0
        self._flush_handle: asyncio.TimerHandle | None = None
        self.on_msg(self._on_msg)
        if isinstance(dataset, str):
            self.add_layers(dataset)
        elif dataset is not None:
            self.dataset = dataset

    # -- validation ------------------------------------------------------------------
    @traitlets.validate("zoom")
    def _valid_zoom(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not math.isfinite(value) or value <= 0:
            raise traitlets.TraitError("zoom must be a positive number")
        return value

    @traitlets.validate("position")
    def _valid_position(self, proposal: Any) -> list[float]:
        value = [float(v) for v in proposal["value"]]
        if not all(math.isfinite(v) for v in value):
            raise traitlets.TraitError("position must be three finite numbers")
        return value

    # -- public API ----------------------------------------------------------------------
    @property
    def dataset(self) -> Dataset | None:
        """The Dataset the views show (None until one is added or imported)."""
        return self._dataset

    @dataset.setter
    def dataset(self, value: Dataset | None) -> None:
        if value is not None and not isinstance(value, Dataset):
            raise TypeError("Viewer.dataset must be a wk_widget Dataset or None")
        self._cancel_all()
        self._dataset = value
        self._pending = None
        self._staged = []
        self._sync(reset_view=True)

    def add_layers(self, uri: str, credentials: Any = None) -> list[Layer]:
        """Explore `uri` and show its layers (with the dataset's other layers, if any)."""
        target = self._target()
        if target is None:
            ds = explore(uri, credentials=credentials)
            self._dataset = ds
            self._sync(reset_view=True)
            return list(ds)
        layers = target.add_layers(uri, credentials=credentials)
        first = self._dataset is None
        if first:
            self._dataset, self._pending = target, None
        self._sync(reset_view=first)
        return layers

    def export(self, path: str | Path = "datasource-properties.json") -> Path:
        """Save the datasource-properties.json of what the preview shows."""
        target = self._target()
        if target is None:
            raise ValueError("nothing to export: add a layer first")
        return target.save(Path(path).expanduser())

    def refresh(self) -> None:
        """Show changes made to `viewer.dataset` from Python (renamed or removed layers, ...)."""
        if self._dataset is not None:
            self._staged = [n for n in self._staged if n in self._dataset.layers]
        self._sync()

    def update_layer(self, name: str, **settings: Any) -> None:
        """Change one layer's view settings: visible, opacity, range, color, channel, axes."""
        allowed = {"visible", "opacity", "range", "color", "channel", "axes"} | ANALYSIS_SETTINGS
        unknown = set(settings) - allowed
        if unknown:
            raise ValueError(f"unknown layer setting(s) {sorted(unknown)}; use {sorted(allowed)}")
        names = [s.get("name") for s in self.layer_settings]
        if name not in names:
            raise KeyError(f"no layer named {name!r} in the views; they show {names}")
        settings = check_analysis_settings(settings)
        self.layer_settings = [
            {**s, **_jsonable(settings)} if s.get("name") == name else s
            for s in self.layer_settings
        ]

    def close(self) -> None:
        """Close the widget; reads still running for its tiles are cancelled."""
        if not hasattr(self, "_inflight"):  # Widget.__del__ of a Viewer that refused its arguments
            return
        self._cancel_all()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._outbox = []
        super().close()

    @property
    def staged_layers(self) -> list[str]:
        """Layers added with the form but not imported into the views yet."""
        return list(self._staged)

    # -- state -> traits ------------------------------------------------------------------
    def _target(self) -> Dataset | None:
        """The dataset the form adds to and the preview shows."""
        return self._dataset if self._dataset is not None else self._pending

    def _shown_layers(self) -> list[Layer]:
        if self._dataset is None:
            return []
        return [layer for layer in self._dataset if layer.name not in self._staged]

    def _sync(self, reset_view: bool = False) -> None:
        """Push the dataset summary, layer settings and preview into the traits."""
        shown = self._shown_layers()
        ds = self._dataset
        with self.hold_sync():
            if ds is None:
                self.set_trait("dataset_info", None)
                self.layer_settings = []
            else:
                self.dataset_info = _jsonable(
                    {
                        "name": ds.name,
                        "voxel_size": [float(v) for v in ds.voxel_size],
                        "unit": ds.unit,
                        "layers": [layer_info(layer) for layer in shown],
                    }
                )
                old = {s.get("name"): s for s in self.layer_settings}
                settings: list[dict[str, Any]] = []
                color_index = 0
                for layer in shown:
                    if layer.name in old:
                        settings.append(old[layer.name])
                    else:
                        settings.append(default_layer_settings(layer, color_index))
                    if layer.category == "color":
                        color_index += 1
                self.layer_settings = settings
            if reset_view:
                center, zoom = _initial_view(shown)
                self.position = center
                self.zoom = zoom
            self._sync_preview()

    def _sync_preview(self) -> None:
        target = self._target()
        if target is None:
            self.set_trait("preview", None)
            return
        self.preview = _jsonable(
            {
                "datasource": target.to_datasource(),
                "staged": list(self._staged),
                "imported": target is self._dataset,
                "reports": [r.to_json() for r in getattr(target, "reports", [])][-10:],
            }
        )

    # -- messages ----------------------------------------------------------------------
    def _on_msg(self, _widget: Any, content: Any, buffers: Sequence[Any]) -> None:
        """Every custom message from the browser. Never raises: errors are reported."""
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        rid = str(content.get("id", ""))
        refused = self._browser.allows(str(kind))
        if refused is not None:
            content.pop("credentials", None)
            self._result(rid, str(kind), ok=False, error=refused)
            return
        try:
            if kind == MSG_TILES:
                self._handle_tiles(content)
            elif kind == MSG_CANCEL:
                self._handle_cancel(content)
            elif kind == MSG_EXPLORE:
                uri = str(content.get("uri") or "").strip()
                creds = content.pop("credentials", None)
                self._start_explore(rid, uri, creds)
                del creds
            elif kind == MSG_EDIT:
                self._handle_edit(rid, content)
            elif kind == MSG_IMPORT:
                self._handle_import(rid)
            elif kind == MSG_DISCARD:
                self._handle_discard(rid)
            elif kind == MSG_EXPORT:
                self._handle_export(rid, content)
            elif kind == MSG_CLICK:
                self._handle_click(content)
            elif kind == MSG_STATS:
                self._reply({"type": MSG_STATS, "id": rid, "meters": self._meters()})
            else:
                log.debug("wk_widget: ignoring message of type %r", kind)
        except Exception as exc:
            message = self._browser.message(exc)
            log.warning("wk_widget: error handling %r: %s", kind, scrub(f"{type(exc).__name__}: {exc}"))
            if kind not in (MSG_TILES, MSG_CANCEL):
                self._result(rid, str(kind), ok=False, error=message)

    def _reply(self, content: dict[str, Any], buffers: Sequence[bytes] | None = None) -> None:
        try:
            self.send(content, list(buffers) if buffers else None)
        except Exception as exc:  # a closed comm must not break anything
            log.debug("wk_widget: cannot send %s: %s", content.get("type"), exc)

    def _result(self, rid: str, request: str, ok: bool, **extra: Any) -> None:
        self._reply({"type": MSG_RESULT, "id": rid, "request": request, "ok": ok, **extra})

    @staticmethod
    def _kernel_loop() -> asyncio.AbstractEventLoop | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return None if loop is io_loop() else loop

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run `coro` on the kernel's event loop (or, without one, on the I/O loop)."""
        loop = self._kernel_loop()
        if loop is not None:
            task = loop.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            asyncio.run_coroutine_threadsafe(coro, io_loop())

    def _meters(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for ds in (self._dataset, self._pending):
            if ds is not None:
                for layer in ds:
                    out[layer.name] = dict(layer.meter.snapshot())
        return out

    # -- tiles -----------------------------------------------------------------------
    def _handle_tiles(self, content: Mapping[str, Any]) -> None:
        requests = content.get("requests")
        if not isinstance(requests, list):
            return
        loop = self._kernel_loop()
        for req in requests[:MAX_TILES_PER_MESSAGE]:
            if not isinstance(req, dict):
                continue
            rid = str(req.get("id", ""))
            layer_name = str(req.get("layer", ""))
            if rid in self._inflight:
                continue
            try:
                if len(self._inflight) >= MAX_TILES_IN_FLIGHT:
                    raise ValueError("too many tile requests in flight")
                job = self._tile_job(rid, req)
            except Exception as exc:
                self._send_tile_error(rid, layer_name, self._browser.message(exc))
                continue
            if job.region is None:
                self._queue_tile(
                    {
                        "type": MSG_TILE,
                        "id": rid,
                        "ok": True,
                        "layer": job.layer.name,
                        "encoding": ENCODING_PNG_PLANES,
                        "dtype": job.layer.element_class,
                        "w": 0,
                        "h": 0,
                        "u0": 0,
                        "v0": 0,
                        "meter": self._layer_meter(job.layer),
                    },
                    None,
                )
                continue
            fut = asyncio.run_coroutine_threadsafe(_read_tile(job), io_loop())
            self._inflight[rid] = fut
            fut.add_done_callback(self._make_tile_callback(job, loop))

    def _make_tile_callback(
        self, job: TileJob, loop: asyncio.AbstractEventLoop | None
    ) -> Callable[[concurrent.futures.Future[Any]], None]:
        def done(fut: concurrent.futures.Future[Any]) -> None:
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._tile_done, job, fut)
                    return
            self._tile_done(job, fut)

        return done

    def _tile_done(self, job: TileJob, fut: concurrent.futures.Future[Any]) -> None:
        if self._inflight.get(job.id) is fut:
            del self._inflight[job.id]
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            self._send_tile_error(job.id, job.layer.name, self._browser.message(exc))
            return
        meta, payload = fut.result()
        meta["meter"] = self._layer_meter(job.layer)
        meta["total_ms"] = round((time.perf_counter() - job.received_at) * 1000.0, 2)
        self._queue_tile(meta, payload)

    def _queue_tile(self, meta: dict[str, Any], payload: bytes | None) -> None:
        """Send a tile reply soon, batched with others finishing at about the same time."""
        self._outbox.append((meta, payload))
        self._outbox_bytes += len(payload) if payload else 0
        if len(self._outbox) >= TILE_BATCH_MAX or self._outbox_bytes >= TILE_BATCH_MAX_BYTES:
            self._flush_tiles()
            return
        if self._flush_handle is not None:
            return
        loop = self._kernel_loop()
        if loop is None:
            self._flush_tiles()
        else:
            self._flush_handle = loop.call_later(TILE_BATCH_DELAY_S, self._flush_tiles)

    def _flush_tiles(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        batch, self._outbox = self._outbox, []
        self._outbox_bytes = 0
        if not batch:
            return
        tiles: list[dict[str, Any]] = []
        buffers: list[bytes] = []
        for meta, payload in batch:
            if payload is not None:
                meta["buffer"] = len(buffers)
                buffers.append(payload)
            else:
                meta["buffer"] = -1
            tiles.append(meta)
        self._reply({"type": MSG_TILE_BATCH, "tiles": tiles}, buffers)

    @staticmethod
    def _layer_meter(layer: Layer) -> dict[str, int]:
        snap = layer.meter.snapshot()
        return {"requests": int(snap.get("requests", 0)), "bytes": int(snap.get("bytes", 0))}

    def _send_tile_error(self, rid: str, layer: str, error: str) -> None:
        self._queue_tile(
            {"type": MSG_TILE, "id": rid, "ok": False, "layer": layer, "error": error}, None
        )

    def _tile_job(self, rid: str, req: Mapping[str, Any]) -> TileJob:
        """Validate a tile request (raises ValueError with a readable message)."""
        if not rid:
            raise ValueError("tile request without id")
        ds = self._dataset if self._dataset is not None else self._pending
        name = str(req.get("layer", ""))
        layer = ds.layers.get(name) if ds is not None else None
        if layer is None:
            raise ValueError(f"no layer named {name!r}")
        plane = req.get("plane")
        if plane not in PLANES:
            raise ValueError(f"unknown plane {plane!r}")
        mag = _int_triple(req.get("mag"), "mag")
        if mag not in [m.mag for m in layer.mags]:
            raise ValueError(f"layer {name!r} has no mag {'-'.join(map(str, mag))}")
        tile = req.get("tile")
        if not (isinstance(tile, list | tuple) and len(tile) == 2):
            raise ValueError("tile must be [i, j]")
        ti, tj = int(tile[0]), int(tile[1])
        size = int(req.get("size", TILE_SIZE))
        if not 1 <= size <= MAX_TILE_SIZE:
            raise ValueError(f"tile size must be 1..{MAX_TILE_SIZE}")
        slice_index = int(req.get("slice", 0))
        channel_raw = req.get("channel")
        channel: int | None = None
        if layer.num_channels > 1:
            channel = int(channel_raw or 0)
            if not 0 <= channel < layer.num_channels:
                raise ValueError(f"channel {channel} out of range 0..{layer.num_channels - 1}")
        axes_raw = req.get("axes") or {}
        if not isinstance(axes_raw, Mapping):
            raise ValueError("axes must be an object")
        known = {a.name: a for a in layer.additional_axes}
        axes: dict[str, int] = {}
        for axis in layer.additional_axes:
            value = int(axes_raw.get(axis.name, axis.bounds[0]))
            if not axis.bounds[0] <= value < axis.bounds[1]:
                raise ValueError(
                    f"{axis.name}={value} out of range {axis.bounds[0]}..{axis.bounds[1] - 1}"
                )
            axes[axis.name] = value
        unknown = set(axes_raw) - set(known)
        if unknown:
            raise ValueError(f"layer {name!r} has no axis {sorted(unknown)[0]!r}")
        fmt = str(req.get("format", "raw"))
        if fmt not in TILE_FORMATS:
            raise ValueError(f"unknown tile format {fmt!r}")
        value_range: tuple[float, float] | None = None
        rng = req.get("range")
        if isinstance(rng, list | tuple) and len(rng) == 2:
            value_range = (float(rng[0]), float(rng[1]))
        color: tuple[int, int, int] | None = None
        col = req.get("color")
        if isinstance(col, list | tuple) and len(col) == 3:
            color = (int(col[0]), int(col[1]), int(col[2]))
        bb = layer.bounding_box
        region = render.tile_region(plane, mag, slice_index, (ti, tj), size, (bb.top_left, bb.size))
        return TileJob(
            id=rid,
            layer=layer,
            plane=plane,
            mag=mag,
            slice=slice_index,
            tile=(ti, tj),
            size=size,
            channel=channel,
            axes=axes,
            format=fmt,
            region=region,
            value_range=value_range,
            color=color,
            received_at=time.perf_counter(),
        )

    def _handle_cancel(self, content: Mapping[str, Any]) -> None:
        ids = content.get("ids")
        if not isinstance(ids, list):
            return
        for rid in ids:
            fut = self._inflight.pop(str(rid), None)
            if fut is not None:
                fut.cancel()

    def _cancel_all(self) -> None:
        for fut in list(self._inflight.values()):
            fut.cancel()
        self._inflight.clear()

    # -- the form ------------------------------------------------------------------------
    def _start_explore(self, rid: str, uri: str, credentials: Any) -> None:
        if self._exploring or self.busy:
            self._result(rid, MSG_EXPLORE, ok=False, error="an exploration is running already")
            return
        if not uri:
            self.form_error = (
                "Enter the URI of a dataset (https://, s3://, gs://, or a Neuroglancer link)."
            )
            self._result(rid, MSG_EXPLORE, ok=False, error=self.form_error)
            return
        try:
            creds = self._browser.credentials(credentials)
            self._browser.check_uri(uri)
        except RemoteDatasetError as exc:
            self.form_error = self._browser.message(exc, uri)
            self._result(rid, MSG_EXPLORE, ok=False, error=self.form_error)
            return
        finally:
            credentials = None
        self._exploring = True
        with self.hold_sync():
            self.busy = True
            self.form_error = ""
            self.status = f"Exploring {scrub(uri)} …"
        target = self._target()
        coro: Coroutine[Any, Any, Any]
        access = self._browser.access
        if target is None:
            coro = explore_async(uri, credentials=creds, access=access)
        else:
            coro = target.add_layers_async(uri, credentials=creds, access=access)
        del creds
        self._spawn(self._explore(rid, uri, target, coro))

    async def _explore(
        self, rid: str, uri: str, target: Dataset | None, coro: Coroutine[Any, Any, Any]
    ) -> None:
        shown_uri = scrub(uri)
        start = time.monotonic()
        try:
            fut = asyncio.run_coroutine_threadsafe(coro, io_loop())
            wrapped = asyncio.wrap_future(fut)
            while True:
                done, _ = await asyncio.wait({wrapped}, timeout=0.5)
                if done:
                    break
                self.status = f"Exploring {shown_uri} … {time.monotonic() - start:.1f} s"
            result = wrapped.result()
        except RemoteDatasetError as exc:
            message = self._browser.message(exc, uri)
            with self.hold_sync():
                self.form_error = message
                self.status = ""
                self.busy = False
            self._exploring = False
            self._result(rid, MSG_EXPLORE, ok=False, error=message)
            return
        except BaseException as exc:
            message = (
                self._browser.message(exc, uri)
                if self._browser.mode == "public"
                else scrub(f"{shown_uri}: {type(exc).__name__}: {exc}")
            )
            with self.hold_sync():
                self.form_error = message
                self.status = ""
                self.busy = False
            self._exploring = False
            self._result(rid, MSG_EXPLORE, ok=False, error=message)
            if not isinstance(exc, Exception):
                raise
            return
        if target is None:
            if self._target() is None:
                self._pending = result
                added = [layer.name for layer in result]
            else:  # a dataset arrived meanwhile (e.g. add_layers from Python)
                added = []
        else:
            added = [layer.name for layer in result]
        self._staged.extend(n for n in added if n not in self._staged)
        elapsed = time.monotonic() - start
        with self.hold_sync():
            self.status = (
                f"Found {len(added)} layer{'s' if len(added) != 1 else ''} in {shown_uri} "
                f"({elapsed:.1f} s): {', '.join(added)}. Check the preview, then Import."
            )
            self.busy = False
            self._sync()
        self._exploring = False
        self._result(rid, MSG_EXPLORE, ok=True, layers=added)

    def _handle_edit(self, rid: str, content: Mapping[str, Any]) -> None:
        target = self._target()
        if target is None:
            raise ValueError("nothing to edit: add a layer first")
        errors: list[str] = []
        if "name" in content and content["name"] is not None:
            target.name = str(content["name"])
        if content.get("voxel_size") is not None:
            try:
                target.voxel_size = [float(v) for v in content["voxel_size"]]
            except (TypeError, ValueError) as exc:
                errors.append(str(exc))
        if content.get("unit"):
            try:
                target.unit = str(content["unit"])
            except ValueError as exc:
                errors.append(str(exc))
        layers = content.get("layers") or []
        renames: dict[str, str] = {}
        for entry in layers if isinstance(layers, list) else []:
            if not isinstance(entry, Mapping):
                continue
            name = str(entry.get("name", ""))
            layer = target.layers.get(name)
            if layer is None:
                errors.append(f"no layer named {name!r}")
                continue
            category = entry.get("category")
            if category is not None:
                if category not in CATEGORIES:
                    errors.append(f"category must be color or segmentation, not {category!r}")
                else:
                    layer.category = category
            new_name = entry.get("new_name")
            if new_name is not None and str(new_name).strip() != name:
                try:
                    target.rename_layer(name, str(new_name))
                    renames[name] = str(new_name).strip()
                except (KeyError, ValueError) as exc:
                    errors.append(str(exc).strip("'\""))
        if renames:
            self._staged = [renames.get(n, n) for n in self._staged]
            settings = []
            for s in self.layer_settings:
                s = dict(s)
                if s.get("name") in renames:
                    s["name"] = renames[s["name"]]
                settings.append(s)
            self.layer_settings = settings
        self._sync()
        if errors:
            self._result(rid, MSG_EDIT, ok=False, error="; ".join(errors))
        else:
            self._result(rid, MSG_EDIT, ok=True)

    def _handle_import(self, rid: str) -> None:
        target = self._target()
        if target is None:
            raise ValueError("nothing to import: add a layer first")
        first = self._dataset is None
        if first:
            self._dataset, self._pending = target, None
        imported = list(self._staged)
        self._staged = []
        with self.hold_sync():
            self.status = f"Imported {len(imported)} layer{'s' if len(imported) != 1 else ''}: {', '.join(imported)}"
            self._sync(reset_view=first)
        self._result(rid, MSG_IMPORT, ok=True, layers=imported)

    def _handle_discard(self, rid: str) -> None:
        dropped = list(self._staged)
        if self._dataset is None:
            self._pending = None
        else:
            for name in dropped:
                if name in self._dataset.layers:
                    self._dataset.remove_layer(name)
        self._staged = []
        with self.hold_sync():
            self.status = f"Discarded {', '.join(dropped)}" if dropped else ""
            self.form_error = ""
            self._sync()
        self._result(rid, MSG_DISCARD, ok=True, layers=dropped)

    def _handle_export(self, rid: str, content: Mapping[str, Any]) -> None:
        try:
            target = self._target()
            if target is None:
                raise ValueError("nothing to export: add a layer first")
            # A plain file name into export_dir, written atomically (never `~`, `..`, dotfiles).
            saved = target.save(self._browser.export_path(content.get("path")))
        except (OSError, ValueError) as exc:
            message = scrub(exc.strerror or str(exc)) if isinstance(exc, OSError) else scrub(str(exc))
            self.status = f"Export failed: {message}"
            self._result(rid, MSG_EXPORT, ok=False, error=message)
            return
        path = str(saved.resolve())
        self.status = f"Saved {path}"
        self._result(rid, MSG_EXPORT, ok=True, path=path)

    # -- testing aids ----------------------------------------------------------------------
    async def _idle(self, timeout: float = 30.0) -> None:
        """Wait until no exploration task and no tile request is running (for tests)."""
        deadline = time.monotonic() + timeout
        while self._tasks or self._inflight or self._exploring or self._outbox:
            if time.monotonic() > deadline:
                raise TimeoutError("viewer did not become idle")
            await asyncio.sleep(0.005)
        await asyncio.sleep(0)


def _int_triple(value: Any, what: str) -> tuple[int, int, int]:
    if not (isinstance(value, list | tuple) and len(value) == 3):
        raise ValueError(f"{what} must be [x, y, z]")
    out = (int(value[0]), int(value[1]), int(value[2]))
    if min(out) < 1:
        raise ValueError(f"{what} components must be >= 1")
    return out
