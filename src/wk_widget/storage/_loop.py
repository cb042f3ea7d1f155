"""One background event loop per process for all I/O; sync wrappers block on it.

Like zarr-python 3 and fsspec: the async core runs on a dedicated daemon thread so that
synchronous callers (scripts, notebook cells, dask tasks) can wait on it, including
callers that run inside another event loop (Jupyter's).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_pid: int | None = None


def io_loop() -> asyncio.AbstractEventLoop:
    """The process's I/O loop, started on first use (and again after a fork)."""
    global _loop, _thread, _pid
    with _lock:
        if _loop is None or _pid != os.getpid() or not (_thread and _thread.is_alive()):
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="wk_widget-io", daemon=True)
            thread.start()
            _loop, _thread, _pid = loop, thread, os.getpid()
        return _loop


def in_io_thread() -> bool:
    return _thread is not None and threading.current_thread() is _thread


def run_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run `coro` on the I/O loop and wait for its result from any other thread."""
    if in_io_thread():
        coro.close()
        raise RuntimeError("run_sync called from the wk_widget I/O thread; await instead")
    future = asyncio.run_coroutine_threadsafe(coro, io_loop())
    try:
        return future.result(timeout)
    except BaseException:
        future.cancel()
        raise


async def gather_or_cancel(*aws: Any) -> list[Any]:
    """Like asyncio.gather, but the first failure cancels the others (a failed read stops
    its sibling fetches instead of letting them retry on, each holding a connection slot)."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
