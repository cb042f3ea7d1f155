"""Tiles for the views: validate a request, read it on the I/O loop, encode it on a thread
pool and send finished tiles back in batches (one message for tiles finishing together).

`TileServer` belongs to one `Viewer`; it knows the viewer only through `TileHost` (the
dataset to read from, how to reply, how to word an error for the browser).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..dataset import Dataset, Layer
from ..engine import CHUNK_CACHE, ChunkCache
from ..estimate import plane_cost_async
from ..levels import PlaneRead, read_level
from ..storage import RequestMeter, io_loop
from . import render
from .protocol import (
    ENCODING_PNG_PLANES,
    MAX_TILE_SIZE,
    MAX_TILES_IN_FLIGHT,
    MAX_TILES_PER_MESSAGE,
    MSG_TILE,
    MSG_TILE_BATCH,
    PLANE_AXES,
    PLANES,
    TILE_BATCH_DELAY_S,
    TILE_BATCH_MAX,
    TILE_BATCH_MAX_BYTES,
    TILE_FORMATS,
    TILE_SIZE,
)

log = logging.getLogger(__name__)

# The planes of chunks the views showed (per chunk: the 2-D slab a tile needed), shared by
# the viewers of the process. A 64^3 chunk is 64x its slab: views revisited at the same
# slice are drawn from here long after their chunks left the shared chunk cache. Its
# budget follows `wk.set_cache_budget` (an eighth of it, at most TILE_SLABS_BYTES).
TILE_SLABS_BYTES = 128 << 20
TILE_SLABS = ChunkCache(TILE_SLABS_BYTES)


def _slabs() -> ChunkCache:
    budget = min(TILE_SLABS_BYTES, CHUNK_CACHE.budget_bytes // 8)
    if TILE_SLABS.budget_bytes != budget:
        TILE_SLABS.budget_bytes = budget
    return TILE_SLABS


class TileHost(Protocol):
    """What the tile server needs from its viewer."""

    def _target(self) -> Dataset | None: ...
    def _reply(self, content: dict[str, Any], buffers: Sequence[bytes] | None = None) -> None: ...
    def _kernel_loop(self) -> asyncio.AbstractEventLoop | None: ...
    def _error_message(self, exc: BaseException) -> str: ...


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
    meters: tuple[RequestMeter, ...] = ()
    speculative: bool = False  # prefetch: keeps only slabs, not whole chunks, in the caches


async def _read_tile_data(job: TileJob) -> np.ndarray:
    """The tile's box, (c, x, y, z) at its mag, straight through `levels.read_level`."""
    region = job.region
    assert region is not None
    layer = job.layer
    level = layer.get_mag(job.mag)
    start = [int(region.offset[i]) // job.mag[i] for i in range(3)]
    stop = [start[i] + int(region.size[i]) // job.mag[i] for i in range(3)]
    channels = (job.channel, job.channel + 1) if job.channel is not None else (0, layer.num_channels)
    extra = [
        (job.axes[a.name], job.axes[a.name] + 1) if a.name in job.axes else (a.bounds[0], a.bounds[0] + 1)
        for a in layer.additional_axes
    ]
    plane = PlaneRead(_slabs(), "xyz"[PLANE_AXES[job.plane][2]], job.speculative)
    box = [*extra, channels, *zip(start, stop, strict=True)]
    out = await read_level(layer._level_view(level), box, job.meters, plane)
    return out.reshape(out.shape[len(extra) :])


async def _read_tile(job: TileJob) -> tuple[dict[str, Any], bytes]:
    """Read, render and encode one tile (runs on the I/O loop; encoding on a thread)."""
    t0 = time.perf_counter()
    data = await _read_tile_data(job)
    loop = asyncio.get_running_loop()
    meta, payload = await loop.run_in_executor(_encode_pool(), _encode_tile, job, data)
    meta["ms"] = round((time.perf_counter() - t0) * 1000.0, 2)
    try:  # the meter's forecast: panning this whole plane at this zoom
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
        ids = job.layer.category == "segmentation"
        meta["encoding"], payload = render.encode_value_tile(img, ids=ids)
        return meta, payload
    rgba = render.render_layer_rgba(img, job.layer.category, job.value_range, job.color)
    meta["encoding"] = job.format
    return meta, render.encode_image(rgba, job.format)


class TileServer:
    """The tile requests of one viewer: in flight, waiting to be sent, cancelled."""

    def __init__(self, host: TileHost) -> None:
        self._host = host
        self.inflight: dict[str, concurrent.futures.Future[Any]] = {}
        # finished tiles wait here for a moment so that tiles finishing together travel
        # in one message (fewer messages through the Jupyter server and the browser)
        self.outbox: list[tuple[dict[str, Any], bytes | None]] = []
        self.outbox_bytes = 0
        self._flush_handle: asyncio.TimerHandle | None = None

    def close(self) -> None:
        self.cancel_all()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self.outbox = []

    @staticmethod
    def meters(datasets: Sequence[Dataset | None]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for ds in datasets:
            if ds is not None:
                for layer in ds:
                    out[layer.name] = dict(layer.meter.snapshot())
        return out

    def handle_tiles(self, content: Mapping[str, Any]) -> None:
        requests = content.get("requests")
        if not isinstance(requests, list):
            return
        loop = self._host._kernel_loop()
        for req in requests[:MAX_TILES_PER_MESSAGE]:
            if not isinstance(req, dict):
                continue
            rid = str(req.get("id", ""))
            layer_name = str(req.get("layer", ""))
            if rid in self.inflight:
                continue
            try:
                if len(self.inflight) >= MAX_TILES_IN_FLIGHT:
                    raise ValueError("too many tile requests in flight")
                job = self._tile_job(rid, req)
            except Exception as exc:
                self._send_tile_error(rid, layer_name, self._host._error_message(exc))
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
            self.inflight[rid] = fut
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
        if self.inflight.get(job.id) is fut:
            del self.inflight[job.id]
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            self._send_tile_error(job.id, job.layer.name, self._host._error_message(exc))
            return
        meta, payload = fut.result()
        meta["meter"] = self._layer_meter(job.layer)
        meta["total_ms"] = round((time.perf_counter() - job.received_at) * 1000.0, 2)
        self._queue_tile(meta, payload)

    def _queue_tile(self, meta: dict[str, Any], payload: bytes | None) -> None:
        """Send a tile reply soon, batched with others finishing at about the same time."""
        self.outbox.append((meta, payload))
        self.outbox_bytes += len(payload) if payload else 0
        if len(self.outbox) >= TILE_BATCH_MAX or self.outbox_bytes >= TILE_BATCH_MAX_BYTES:
            self.flush()
            return
        if self._flush_handle is not None:
            return
        loop = self._host._kernel_loop()
        if loop is None:
            self.flush()
        else:
            self._flush_handle = loop.call_later(TILE_BATCH_DELAY_S, self.flush)

    def flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        batch, self.outbox = self.outbox, []
        self.outbox_bytes = 0
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
        self._host._reply({"type": MSG_TILE_BATCH, "tiles": tiles}, buffers)

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
        ds = self._host._target()
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
            meters=(layer.meter, layer._dataset.meter),  # as Layer.read counts
            speculative=req.get("prefetch") is True,
        )

    def handle_cancel(self, content: Mapping[str, Any]) -> None:
        ids = content.get("ids")
        if not isinstance(ids, list):
            return
        for rid in ids:
            fut = self.inflight.pop(str(rid), None)
            if fut is not None:
                fut.cancel()

    def cancel_all(self) -> None:
        for fut in list(self.inflight.values()):
            fut.cancel()
        self.inflight.clear()


def _int_triple(value: Any, what: str) -> tuple[int, int, int]:
    if not (isinstance(value, list | tuple) and len(value) == 3):
        raise ValueError(f"{what} must be [x, y, z]")
    out = (int(value[0]), int(value[1]), int(value[2]))
    if min(out) < 1:
        raise ValueError(f"{what} components must be >= 1")
    return out
