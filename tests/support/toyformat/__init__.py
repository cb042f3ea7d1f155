"""A tiny test-only format that proves the registry seam: a folder plus one registry line.

A toy dataset is a folder with `toy.json` ({"shape": [x, y, z], "chunk": [x, y, z],
"dtype": "uint8", "name": "..."}) and one `.npy` file per chunk at `c/<i>.<j>.<k>.npy`
(a missing file is the fill value 0). Nothing outside this folder knows about it: it is
registered with `wk_widget.formats.registry_with(FORMAT)`.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wk_widget.errors import CorruptChunkError, MalformedMetadataError
from wk_widget.formats._shared.axis_order import PLAIN
from wk_widget.formats._shared.layers import category_from_name, folder_name
from wk_widget.formats.base import (
    ArrayReader,
    BoundingBox,
    DataFormat,
    DatasourceMags,
    ExploreContext,
    Explorer,
    Format,
    LayerSpec,
    MagSpec,
    NotThisFormat,
    element_class_of,
)
from wk_widget.storage import RequestMeter, SourceURI, Storage

TOY_FILE = "toy.json"
DATA_FORMAT = "toy"
_ORDER = {"x": 0, "y": 1, "z": 2}


def write_toy(path: Path, data: np.ndarray, chunk: Sequence[int], name: str = "toy") -> None:
    """Write `data` (x, y, z) as a toy dataset (an independent writer: numpy's .npy)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / TOY_FILE).write_text(
        json.dumps({"shape": list(data.shape), "chunk": list(chunk), "dtype": data.dtype.name, "name": name})
    )
    (path / "c").mkdir(exist_ok=True)
    grid = [math.ceil(s / c) for s, c in zip(data.shape, chunk, strict=True)]
    for i in range(grid[0]):
        for j in range(grid[1]):
            for k in range(grid[2]):
                block = data[i * chunk[0] : (i + 1) * chunk[0], j * chunk[1] : (j + 1) * chunk[1], k * chunk[2] : (k + 1) * chunk[2]]
                if block.any():  # all-zero chunks are left out: they read as the fill value
                    np.save(path / "c" / f"{i}.{j}.{k}.npy", block)


def _meta(doc: Any, where: str) -> tuple[tuple[int, ...], tuple[int, ...], np.dtype[Any], str]:
    try:
        shape = tuple(int(v) for v in doc["shape"])
        chunk = tuple(int(v) for v in doc["chunk"])
        dtype = np.dtype(str(doc["dtype"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedMetadataError(where, f"invalid {TOY_FILE}: {exc}") from None
    if len(shape) != 3 or len(chunk) != 3 or min(chunk) < 1:
        raise MalformedMetadataError(where, f"invalid {TOY_FILE}: shape and chunk need 3 positive numbers")
    return shape, chunk, dtype, str(doc.get("name") or "")


async def _explore(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    doc = await ctx.fetch_json(uri, TOY_FILE)
    if doc is None:
        raise NotThisFormat(f"no {TOY_FILE}")
    shape, _chunk, dtype, name = _meta(doc, uri.join(TOY_FILE).url)
    element_class = element_class_of(dtype, uri.url)
    name = name or folder_name(uri)
    category, source = category_from_name(name, element_class)
    return [
        LayerSpec(
            name=name,
            category=category,
            data_format=DATA_FORMAT,
            element_class=element_class,
            bounding_box=BoundingBox((0, 0, 0), (shape[0], shape[1], shape[2])),
            mags=[MagSpec((1, 1, 1), uri, dict(_ORDER))],
            category_source=source,
            source_uri=uri.url,
            format_name="toy",
        )
    ]


class ToyReader(ArrayReader):
    def __init__(self, storage: Storage, uri: SourceURI, doc: Any) -> None:
        self.storage = storage
        self.root = uri
        self.uri = uri.url
        self.shape, self.chunk_shape, self.dtype, _ = _meta(doc, uri.join(TOY_FILE).url)
        self.grid_origin = (0, 0, 0)
        self.fill_value = 0

    def _key(self, coord: tuple[int, ...]) -> SourceURI:
        return self.root.join("c", ".".join(str(c) for c in coord) + ".npy")

    async def fetch(self, coords: Sequence[tuple[int, ...]], meters: Sequence[RequestMeter] = ()) -> list[bytes | None]:
        return [await self.storage.get(self._key(c).fs_path, meters=meters) for c in coords]

    def decode(self, coord: tuple[int, ...], data: bytes) -> np.ndarray:
        try:
            arr = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise CorruptChunkError(self._key(coord).url, f"not a .npy chunk ({exc})") from None
        if arr.shape != self.chunk_extent(coord) or arr.dtype != self.dtype:
            raise CorruptChunkError(self._key(coord).url, f"chunk has shape {arr.shape} {arr.dtype}")
        return arr


async def _open_reader(storage: Storage, mag: MagSpec, data_format: DataFormat) -> ToyReader:
    data = await storage.get(mag.path.join(TOY_FILE).fs_path)
    if data is None:
        raise MalformedMetadataError(mag.path.url, f"no {TOY_FILE}")
    return ToyReader(storage, mag.path, json.loads(data))


async def _locate(ctx: ExploreContext, candidates: Sequence[SourceURI], what: str) -> tuple[SourceURI, None]:
    """A toy mag named by a WEBKNOSSOS datasource: the first candidate with a toy.json."""
    for candidate in candidates:
        if await ctx.fetch_bytes(candidate, TOY_FILE) is not None:
            return candidate, None  # the reader reads toy.json when opened
    raise MalformedMetadataError(candidates[0].url, f"{what}: no {TOY_FILE} here")


FORMAT = Format(
    name="toy",
    explorers=(Explorer("toy", (TOY_FILE,), frozenset({"toy"}), _explore),),
    data_formats=(DATA_FORMAT,),
    open_reader=_open_reader,
    uri_prefixes={"toy": "toy"},
    neuroglancer_prefix={},
    metadata_files={TOY_FILE: None},
    axis_order={DATA_FORMAT: PLAIN},
    # in a datasource-properties.json, a toy mag may omit `path` (`<layer>/<mag>`)
    datasource_mags={DATA_FORMAT: DatasourceMags(implicit_paths=True, locate=_locate)},
)
