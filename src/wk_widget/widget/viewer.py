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
import logging
import math
import time
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..dataset import Dataset, Layer, explore, explore_async
from ..errors import RemoteDatasetError, scrub
from ..storage import io_loop
from . import staging
from .access import BrowserAccess
from .analysis import ANALYSIS_SETTINGS, AnalysisMixin, check_analysis_settings
from .commands import COMMANDS, QUIET
from .protocol import (
    CATEGORIES,
    MSG_EDIT,
    MSG_EXPORT,
    MSG_RESULT,
    PROTOCOL_VERSION,
    VIEW_MODES,
)
from .state import default_layer_settings, initial_view, jsonable, layer_info
from .tiles import TileServer

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent.parent / "static"  # the bundle stays at wk_widget/static/

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
        self._staging = staging.State()  # layers added by the form, not imported yet
        self._tiles = TileServer(self)
        self._tasks: set[asyncio.Task[Any]] = set()
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
        self._tiles.cancel_all()
        self._dataset = value
        self._pending = None
        self._staging, _ = staging.apply(self._staging, staging.Reset())
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
            keep = staging.Keep(frozenset(self._dataset.layers))
            self._staging, _ = staging.apply(self._staging, keep)
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
            {**s, **jsonable(settings)} if s.get("name") == name else s
            for s in self.layer_settings
        ]

    def close(self) -> None:
        """Close the widget; reads still running for its tiles are cancelled."""
        if not hasattr(self, "_tiles"):  # Widget.__del__ of a Viewer that refused its arguments
            return
        self._tiles.close()
        super().close()

    @property
    def staged_layers(self) -> list[str]:
        """Layers added with the form but not imported into the views yet."""
        return list(self._staging.staged)

    @property
    def _staged(self) -> tuple[str, ...]:
        return self._staging.staged

    @property
    def _exploring(self) -> bool:
        return self._staging.phase == "exploring"

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
                self.dataset_info = jsonable(
                    {
                        "name": ds.name,
                        "voxel_size": [float(v) for v in ds.voxel_size],
                        "unit": ds.unit,
                        "layers": [layer_info(layer) for layer in shown],
                    }
                )
                old = {s.get("name"): s for s in self.layer_settings}
                settings: list[Any] = []  # traits hold plain dicts (state.LayerSettings)
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
                center, zoom = initial_view(shown)
                self.position = center
                self.zoom = zoom
            self._sync_preview()

    def _sync_preview(self) -> None:
        target = self._target()
        if target is None:
            self.set_trait("preview", None)
            return
        self.preview = jsonable(
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
        handler = COMMANDS.get(str(kind))
        if handler is None:
            log.debug("wk_widget: ignoring message of type %r", kind)
            return
        try:
            handler(self, rid, content)
        except Exception as exc:
            message = self._browser.message(exc)
            log.warning("wk_widget: error handling %r: %s", kind, scrub(f"{type(exc).__name__}: {exc}"))
            if kind not in QUIET:
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

    @property
    def _inflight(self) -> dict[str, concurrent.futures.Future[Any]]:
        """Tile reads running now, by request id."""
        return self._tiles.inflight

    def _error_message(self, exc: BaseException) -> str:
        """An error as the browser may see it (see access.py)."""
        return self._browser.message(exc)

    # -- the form (transitions in staging.py; here the effects) -------------------------
    def _stage(self, rid: str, event: staging.Event) -> list[staging.Effect]:
        """Apply a staging event and perform its effects (trait changes in one sync)."""
        self._staging, effects = staging.apply(self._staging, event)
        with self.hold_sync():
            for eff in effects:
                if isinstance(eff, staging.SetTraits):
                    for name, value in eff.values.items():
                        setattr(self, name, value)
                elif isinstance(eff, staging.Promote):
                    self._dataset, self._pending = self._target(), None
                elif isinstance(eff, staging.Drop):
                    if self._dataset is None:
                        self._pending = None
                    else:
                        for name in eff.names:
                            if name in self._dataset.layers:
                                self._dataset.remove_layer(name)
                elif isinstance(eff, staging.Sync):
                    self._sync(reset_view=eff.reset_view)
        for eff in effects:
            if isinstance(eff, staging.Reply):
                self._result(rid, eff.request, ok=eff.ok, **eff.extra)
        return effects

    def _start_explore(self, rid: str, uri: str, credentials: Any) -> None:
        creds: Any = None
        refused: str | None = None
        if uri and not (self._exploring or self.busy):
            try:
                creds = self._browser.credentials(credentials)
                self._browser.check_uri(uri)
            except RemoteDatasetError as exc:
                refused = self._browser.message(exc, uri)
            finally:
                credentials = None
        effects = self._stage(rid, staging.Explore(uri, scrub(uri), busy=self.busy, refused=refused))
        if not any(isinstance(e, staging.StartExplore) for e in effects):
            return
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
            self._stage(rid, staging.ExploreFailed(self._browser.message(exc, uri)))
            return
        except BaseException as exc:
            message = (
                self._browser.message(exc, uri)
                if self._browser.mode == "public"
                else scrub(f"{shown_uri}: {type(exc).__name__}: {exc}")
            )
            self._stage(rid, staging.ExploreFailed(message))
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
        status = staging.found_status(added, shown_uri, time.monotonic() - start)
        self._stage(rid, staging.Explored(tuple(added), status))

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
            self._staging, _ = staging.apply(self._staging, staging.Renamed(renames))
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
        if self._target() is None:
            raise ValueError("nothing to import: add a layer first")
        self._stage(rid, staging.Import(first=self._dataset is None))

    def _handle_discard(self, rid: str) -> None:
        self._stage(rid, staging.Discard())

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
        while self._tasks or self._inflight or self._exploring or self._tiles.outbox:
            if time.monotonic() > deadline:
                raise TimeoutError("viewer did not become idle")
            await asyncio.sleep(0.005)
        await asyncio.sleep(0)
