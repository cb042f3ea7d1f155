"""The bundled sample dataset, and a tiny local static file server for notebooks.

``sample_path()`` is a small OME-NGFF 0.4 dataset shipped inside the package (written
by ``scripts/make-sample-data``): a synthetic 192 x 160 x 64 uint8 "membrane" volume
of 11.24 x 11.24 x 28 nm voxels with three scales and a ``labels/cells`` uint32
segmentation. ``serve_sample()`` serves it over HTTP on 127.0.0.1, so that the whole
remote-dataset path (exploration, HTTP range reads, the viewer) can be tried offline::

    import wk_widget as wk
    from wk_widget.sample import serve_sample

    server = serve_sample()          # idempotent: the same server on every call
    ds = wk.explore(server.url)      # http://127.0.0.1:PORT/cells.ome.zarr
    wk.Viewer(ds)

``serve_directory(path)`` does the same for any local folder. The server runs an
aiohttp application on a background thread (its own event loop), answers ``GET`` and
``HEAD`` with ``Range`` support (``web.FileResponse``), lists no directories, never
accepts writes, and binds 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import os
import threading
import urllib.parse
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["SAMPLE_NAME", "SampleServer", "sample_path", "serve_directory", "serve_sample"]

SAMPLE_NAME = "cells.ome.zarr"
HOST = "127.0.0.1"
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Range, Content-Length, ETag, Accept-Ranges",
}


def sample_path() -> Path:
    """The bundled sample dataset's folder (an OME-Zarr group) inside the package."""
    path = Path(__file__).resolve().parent / "sample_data" / SAMPLE_NAME
    if not (path / ".zattrs").is_file():
        raise FileNotFoundError(
            f"the sample dataset is missing at {path}; regenerate it with scripts/make-sample-data"
        )
    return path


# --------------------------------------------------------------------------- event loop


class _LoopThread:
    """One daemon thread running an asyncio loop that hosts every server of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                threading.Thread(target=run, name="wk-widget-sample-server", daemon=True).start()
                ready.wait()
                self._loop = loop
            return self._loop

    def run(self, coro: Any, timeout: float = 30.0) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop())
        return future.result(timeout)


_LOOP = _LoopThread()


# --------------------------------------------------------------------------- server


def _make_app(root: Path, name: str) -> Any:
    from aiohttp import web

    quoted = urllib.parse.quote(name)

    async def serve(request: web.Request) -> web.StreamResponse:
        tail = request.match_info.get("tail", "")
        parts = [p for p in tail.split("/") if p]
        if any(p in (".", "..") or "\\" in p or "\x00" in p for p in parts):
            raise web.HTTPNotFound(headers=_CORS)
        path = root.joinpath(*parts)
        if not path.is_file():
            raise web.HTTPNotFound(headers=_CORS)  # no directory listings
        return web.FileResponse(path, headers=_CORS)

    async def root_page(request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotFound(text=f"the dataset is at /{quoted}\n", headers=_CORS)

    app = web.Application()
    # add_get also answers HEAD (add_route("GET") would make HEAD a 405).
    app.router.add_get(f"/{quoted}", serve)
    app.router.add_get(f"/{quoted}/{{tail:.*}}", serve)
    app.router.add_get("/", root_page)
    return app


class SampleServer:
    """A local read-only HTTP server for one folder, reachable at ``url``.

    Stays up until ``stop()`` or the end of the process. Also a context manager.
    """

    def __init__(self, path: Path, name: str, port: int = 0) -> None:
        self.path = Path(path).resolve()
        self.name = name
        self._requested_port = port
        self.port = 0
        self._runner: Any = None

    # -- lifecycle ---------------------------------------------------------------------
    def _start(self) -> SampleServer:
        from aiohttp import web

        async def start() -> tuple[Any, int]:
            runner = web.AppRunner(_make_app(self.path, self.name), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, HOST, self._requested_port, reuse_address=True)
            try:
                await site.start()
            except BaseException:
                await runner.cleanup()
                raise
            return runner, int(runner.addresses[0][1])

        self._runner, self.port = _LOOP.run(start())
        return self

    @property
    def running(self) -> bool:
        return self._runner is not None

    def stop(self) -> None:
        """Stop serving (idempotent). A later ``serve_*`` call starts a new server."""
        runner, self._runner = self._runner, None
        if runner is not None:
            _LOOP.run(runner.cleanup())
        with _REGISTRY_LOCK:
            for key, server in list(_REGISTRY.items()):
                if server is self:
                    del _REGISTRY[key]

    def __enter__(self) -> SampleServer:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """The served folder's URL, ``http://127.0.0.1:PORT/NAME`` (no trailing slash)."""
        return f"{self.base_url}/{urllib.parse.quote(self.name)}"

    def url_for(self, relative: str) -> str:
        """URL of a file or subfolder below the served folder."""
        return f"{self.url}/{urllib.parse.quote(relative.strip('/'))}"

    def __repr__(self) -> str:
        state = self.url if self.running else "stopped"
        return f"SampleServer({str(self.path)!r}, {state})"


_REGISTRY: dict[tuple[Path, str], SampleServer] = {}
_REGISTRY_LOCK = threading.Lock()


def serve_directory(path: str | os.PathLike[str], name: str | None = None, port: int = 0) -> SampleServer:
    """Serve a local folder read-only over HTTP on 127.0.0.1; returns the running server.

    The folder appears as ``http://127.0.0.1:PORT/NAME`` (``NAME`` defaults to the
    folder's name) and nothing outside it is reachable. ``port=0`` picks a free port.
    Idempotent per process: asking again for the same folder and name returns the
    server that is already running (unless a different, explicit port is asked for).
    """
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {folder}")
    served_name = (name if name is not None else folder.name).strip("/")
    if not served_name or "/" in served_name or served_name in (".", ".."):
        raise ValueError(f"invalid name for the served folder: {served_name!r}")
    key = (folder, served_name)
    with _REGISTRY_LOCK:
        existing = _REGISTRY.get(key)
        if existing is not None and existing.running and port in (0, existing.port):
            return existing
        server = SampleServer(folder, served_name, port)._start()
        _REGISTRY[key] = server
        return server


def serve_sample(port: int = 0) -> SampleServer:
    """Serve the bundled sample dataset (see :func:`sample_path`); ``.url`` is its URL.

    Idempotent per process: every call returns the same running server.
    """
    return serve_directory(sample_path(), SAMPLE_NAME, port)
