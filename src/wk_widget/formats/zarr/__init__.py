"""Zarr v2 and v3 arrays: metadata parsing, the plain-array explorers and the chunk reader.

- `parse_zarray` / `parse_zarr_json` turn a level's `.zarray` / `zarr.json` into one typed
  `ZarrArrayMeta` (pure; shared with the NGFF and WEBKNOSSOS explorers).
- `ZARR3_EXPLORER` / `ZARR2_EXPLORER` recognise a bare array at the URI.
- `open_reader` builds a `ZarrArrayReader` for a resolution level: chunk keys, concurrent
  fetches (sharded arrays: one index read per shard, cached, then coalesced byte ranges)
  and GIL-releasing decoding (imagecodecs / zlib / numcodecs).

Plain arrays are described the way WEBKNOSSOS does (mag 1 only, no voxel size), except
that the axes are counted from the end (x = last, y = second to last, z = third to last,
the NGFF convention), and v3 `dimension_names` (v2: xarray's `_ARRAY_DIMENSIONS`) are
honoured when they name the axes. A 2D array has no "z" in its axis order and depth 1; a
4th-from-last dimension is channels, one layer per channel (`channel_index`).

Decoded chunks are numpy arrays in the array's own dimension order and native byte
order; they may be read-only views of the decompressed buffer.
"""

from __future__ import annotations

from .._shared.axis_order import PLAIN
from .._shared.layers import (
    category_from_name,
    plain_axis_order,
    sanitize_name,
)
from .._shared.layers import (
    folder_name as folder_name,
)
from .._shared.ranges import COALESCE_GAP as COALESCE_GAP
from ..base import Format
from .codecs import (
    validate_readable,
)
from .datasource import DATASOURCE_MAGS
from .explore import (
    EXPLORERS,
)
from .explore import (
    ZARR2_EXPLORER as ZARR2_EXPLORER,
)
from .explore import (
    ZARR3_EXPLORER as ZARR3_EXPLORER,
)
from .metadata import (
    EMPTY_INDEX_ENTRY as EMPTY_INDEX_ENTRY,
)
from .metadata import (
    ShardingSpec,
    ZarrArrayMeta,
    parse_array_meta,
    parse_zarr_json,
    parse_zarray,
)
from .metadata import (
    _parse_fill_value as _parse_fill_value,
)
from .reader import (
    ZarrArrayReader,
    fetch_array_meta,
    open_reader,
)

__all__ = [
    "EXPLORERS",
    "ShardingSpec",
    "ZarrArrayMeta",
    "ZarrArrayReader",
    "category_from_name",
    "fetch_array_meta",
    "open_reader",
    "parse_array_meta",
    "parse_zarr_json",
    "parse_zarray",
    "plain_axis_order",
    "sanitize_name",
    "validate_readable",
]


FORMAT = Format(
    name="zarr",
    explorers=tuple(EXPLORERS),
    data_formats=("zarr", "zarr3"),
    open_reader=open_reader,
    uri_prefixes={"zarr": "zarr", "zarr2": "zarr2", "zarr3": "zarr3"},
    neuroglancer_prefix={"zarr": "zarr2", "zarr3": "zarr3"},
    metadata_files={".zattrs": None, ".zarray": None, ".zgroup": None, "zarr.json": None},
    axis_order={"zarr": PLAIN, "zarr3": PLAIN},
    datasource_mags=DATASOURCE_MAGS,
)
