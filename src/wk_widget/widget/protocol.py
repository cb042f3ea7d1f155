"""Message shapes between the Viewer (Python) and its front end (js/src/protocol.ts).

KEEP IN SYNC with js/src/protocol.ts: every constant here has a twin there, and the
tests of both sides check the same example values.

All messages are anywidget custom messages (`model.send(content, callbacks, buffers)` in
the browser, `Viewer.send(content, buffers)` in Python); `content["type"]` names them.
Persistent state (view state, the preview, status and errors) lives in synced traits,
never in custom messages, because custom messages sent while no view exists are dropped.
Image data and secrets never go into traits.

Browser -> Python
-----------------
``tiles``    ``{"type": "tiles", "requests": [TileRequest, ...]}``
             TileRequest: ``{"id": str, "layer": str, "plane": "xy"|"xz"|"yz",
             "mag": [x, y, z], "slice": int, "tile": [i, j], "size": int,
             "channel": int, "axes": {name: int}, "format": "raw"|"png"|"webp",
             "range": [lo, hi]?, "color": [r, g, b]?}``.
             The tile covers voxels ``[i*size, (i+1)*size)`` along the plane's u axis and
             ``[j*size, (j+1)*size)`` along v, in voxels *of that mag*; ``slice`` is the
             index along the plane's normal (w), also in voxels of that mag.
             Planes: xy -> (u, v, w) = (x, y, z); xz -> (x, z, y); yz -> (z, y, x).
``cancel``   ``{"type": "cancel", "ids": [str, ...]}``: stale tile requests.
``explore``  ``{"type": "explore", "id": str, "uri": str, "credentials": dict|null}``
             credentials as the CLI's JSON (`{"type": "http_basic", ...}`); they are used
             once and never stored in a trait.
``edit``     ``{"type": "edit", "id": str, "name": str?, "voxel_size": [x, y, z]?,
             "unit": str?, "layers": [{"name": current, "new_name": str?,
             "category": "color"|"segmentation"?}]?}``: edits of the preview.
``import``   ``{"type": "import", "id": str}``: show the staged layers in the views.
``discard``  ``{"type": "discard", "id": str}``: drop the staged layers.
``export``   ``{"type": "export", "id": str, "path": str?}``: save datasource-properties.json.
``stats``    ``{"type": "stats", "id": str}``: ask for the per-layer meters now.
``click``    ``{"type": "click", "position": [x, y, z], "view": "xy"|"xz"|"yz",
             "modifiers": ["shift"|"ctrl"|"meta"|"alt", ...]}``: a click (no drag) in a
             view, at mag-1 voxel ``position``; Python reads the value of every visible
             layer there and calls the ``on_click`` callbacks. Selection and annotations
             travel as the synced traits ``selected_segments`` and ``annotations``.

Python -> browser
-----------------
``tile``     ``{"type": "tile", "id": str, "ok": true, "layer": str, "encoding": str,
             "dtype": str, "w": int, "h": int, "u0": int, "v0": int, "ms": float,
             "meter": {"requests": int, "bytes": int}}`` with one binary buffer (none when
             ``w*h == 0``). ``u0, v0`` is where the sent pixels start inside the tile (tiles
             at the bounding box's border are clipped), ``w, h`` their size.
             Encodings: ``png-planes`` (raw values: an 8-bit grayscale PNG of height
             ``h * itemsize`` whose k-th block of ``h`` rows holds byte k of each
             little-endian value), ``raw-planes`` (the same ``h * itemsize`` rows of
             ``w`` bytes uncompressed; sent instead of ``png-planes`` when the PNG would
             not be much smaller, as for noisy images), ``png`` / ``webp`` (RGBA
             rendered in Python).
             Errors: ``{"type": "tile", "id": str, "ok": false, "layer": str, "error": str}``.
``tile_batch`` ``{"type": "tile_batch", "tiles": [tile, ...]}``: how tile replies travel.
             Each entry is a ``tile`` message as above plus ``"buffer": k``, the index of
             its binary buffer in the message (-1: none). Tiles that finish within a few
             milliseconds of each other share one message.
``result``   ``{"type": "result", "id": str, "request": str, "ok": bool, "error": str?,
             "path": str?}``: the outcome of explore / edit / import / discard / export.
``stats``    ``{"type": "stats", "id": str, "meters": {layer: {"requests": int, "bytes": int}}}``.
"""

from __future__ import annotations

from typing import Final

PROTOCOL_VERSION: Final = 1

# Screen-aligned tile edge, in voxels of the mag the tile is read at.
TILE_SIZE: Final = 256
MAX_TILE_SIZE: Final = 1024
# Most tile requests one message may carry, and the most the Viewer runs at once.
MAX_TILES_PER_MESSAGE: Final = 256
MAX_TILES_IN_FLIGHT: Final = 256

# Browser -> Python
MSG_TILES: Final = "tiles"
MSG_CANCEL: Final = "cancel"
MSG_EXPLORE: Final = "explore"
MSG_EDIT: Final = "edit"
MSG_IMPORT: Final = "import"
MSG_DISCARD: Final = "discard"
MSG_EXPORT: Final = "export"
MSG_STATS: Final = "stats"
MSG_CLICK: Final = "click"

# Python -> browser
MSG_TILE: Final = "tile"
MSG_TILE_BATCH: Final = "tile_batch"
MSG_RESULT: Final = "result"

# Tile replies finishing within this delay of the first waiting one share a message.
TILE_BATCH_DELAY_S: Final = 0.004
TILE_BATCH_MAX: Final = 32
# ... unless they hold this many bytes: big messages delay every tile in them, but each
# message also costs the kernel, the Jupyter server and the browser about a millisecond
# (raw-planes tiles are 64 KiB for 256^2 uint8).
TILE_BATCH_MAX_BYTES: Final = 1024 * 1024

PLANES: Final = ("xy", "xz", "yz")
VIEW_MODES: Final = ("xy", "xz", "yz", "ortho")
# Plane -> (u, v, w) axis indices into (x, y, z): u is screen-right, v screen-down,
# w the plane normal. YZ shows z horizontally, as WEBKNOSSOS does.
PLANE_AXES: Final[dict[str, tuple[int, int, int]]] = {
    "xy": (0, 1, 2),
    "xz": (0, 2, 1),
    "yz": (2, 1, 0),
}

TILE_FORMATS: Final = ("raw", "png", "webp")
ENCODING_PNG_PLANES: Final = "png-planes"
ENCODING_RAW_PLANES: Final = "raw-planes"
# segment ids as a palette: uint32 LE count, the tile's distinct ids (LE values), then a
# "png-planes" PNG of the index of each pixel into them (uint8, or uint16 above 256 ids)
ENCODING_PNG_PALETTE: Final = "png-palette"
ENCODING_PNG: Final = "png"
ENCODING_WEBP: Final = "webp"

CREDENTIAL_TYPES: Final = ("none", "http_basic", "http_bearer", "s3", "gcs")
CATEGORIES: Final = ("color", "segmentation")
# Layer settings of the analysis tools (see analysis.py): colour maps of color layers and
# which segments a segmentation layer shows.
COLORMAPS: Final = ("grey", "tint", "viridis", "magma")
SEGMENT_MODES: Final = ("all", "selected", "all_but_hidden")
ANNOTATION_TYPES: Final = ("point", "line", "box")

# Debounce of view state (position, zoom, plane, layer settings) sent to Python, ms.
STATE_DEBOUNCE_MS: Final = 250
