"""The command table: every custom message type the browser may send -> its handler.

A handler is `(viewer, rid, content)`; the viewer checks the browser's access first and
turns a raised exception into a `result` error (except for the tile messages in `QUIET`,
whose errors travel per tile).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ..dataset import Dataset
from .protocol import (
    MSG_CANCEL,
    MSG_CLICK,
    MSG_DISCARD,
    MSG_EDIT,
    MSG_EXPLORE,
    MSG_EXPORT,
    MSG_IMPORT,
    MSG_STATS,
    MSG_TILES,
)
from .tiles import TileServer


class CommandHost(Protocol):
    """The parts of the `Viewer` the commands drive."""

    _tiles: TileServer
    _dataset: Dataset | None
    _pending: Dataset | None

    def _start_explore(self, rid: str, uri: str, credentials: Any) -> None: ...
    def _handle_edit(self, rid: str, content: Mapping[str, Any]) -> None: ...
    def _handle_import(self, rid: str) -> None: ...
    def _handle_discard(self, rid: str) -> None: ...
    def _handle_export(self, rid: str, content: Mapping[str, Any]) -> None: ...
    def _handle_click(self, content: Mapping[str, Any]) -> None: ...
    def _reply(self, content: dict[str, Any], buffers: Sequence[bytes] | None = None) -> None: ...


Handler = Callable[[CommandHost, str, dict[str, Any]], None]


def _explore(v: CommandHost, rid: str, content: dict[str, Any]) -> None:
    uri = str(content.get("uri") or "").strip()
    creds = content.pop("credentials", None)  # the secret lives in this frame only
    v._start_explore(rid, uri, creds)
    del creds


def _stats(v: CommandHost, rid: str, content: dict[str, Any]) -> None:
    v._reply({"type": MSG_STATS, "id": rid, "meters": TileServer.meters((v._dataset, v._pending))})


COMMANDS: dict[str, Handler] = {
    MSG_TILES: lambda v, rid, c: v._tiles.handle_tiles(c),
    MSG_CANCEL: lambda v, rid, c: v._tiles.handle_cancel(c),
    MSG_EXPLORE: _explore,
    MSG_EDIT: lambda v, rid, c: v._handle_edit(rid, c),
    MSG_IMPORT: lambda v, rid, c: v._handle_import(rid),
    MSG_DISCARD: lambda v, rid, c: v._handle_discard(rid),
    MSG_EXPORT: lambda v, rid, c: v._handle_export(rid, c),
    MSG_CLICK: lambda v, rid, c: v._handle_click(c),
    MSG_STATS: _stats,
}

# errors of these are sent per tile, never as a `result`
QUIET = frozenset({MSG_TILES, MSG_CANCEL})
