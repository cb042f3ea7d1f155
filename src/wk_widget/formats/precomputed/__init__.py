"""Neuroglancer precomputed volumes: the `info` explorer and the chunk reader.

- `parse_info` / `parse_scale` turn an `info` file into typed `PrecomputedScale`s (pure).
- `EXPLORERS` holds the "precomputed" explorer: one layer per `info`, one mag per scale.
- `open_reader` builds a `PrecomputedReader` for one scale: unsharded chunk files
  (`x0-x1_y0-y1_z0-z1`, absolute coordinates) or the `neuroglancer_uint64_sharded_v1`
  format (compressed Morton chunk ids, identity / murmurhash3_x86_128 hashes, raw or gzip
  minishard indices and data), with raw, jpeg, png, compressed_segmentation, compresso
  (cloud-volume / igneous segmentations; the `compresso` package) and jxl (JPEG XL laid out
  like jpeg; imagecodecs) chunks. Codec modules are imported when a reader is made, so a
  missing one is an UnsupportedDataError naming the package (`_codecs`).

Reader dims are (x, y, z, c), F order as stored: axis order {"x": 0, "y": 1, "z": 2, "c": 3}.
The reader's array is in absolute voxel coordinates: `shape` = voxel_offset + size and
`grid_origin` = (voxel_offset..., 0), so chunk `coord` is the grid cell relative to the
voxel offset (what the sharded format's chunk ids count).

Sharded reads: per shard, the needed 16-byte shard-index entries are read once (entries of
neighbouring minishards in one small range), then the minishard indices (cached, bounded
LRU), then the chunks' byte ranges, with neighbours (gap <= 64 KiB) coalesced into one
request. A shard file that does not exist is remembered (its chunks read as missing).

Decisions where the spec is silent:
- mag = resolution / first scale's resolution, rounded, a power of two per axis (else
  UnsupportedDataError); a second scale with an already seen resolution is skipped.
- `largestSegmentId` is None (the format declares none); `type` decides the category
  ("precomputed-type"), the name heuristic only when `type` is absent.
- Chunks stored at the full chunk size at the upper edge (some writers pad) are cropped;
  unsharded raw / compressed_segmentation chunks that arrive gzip-compressed (objects
  stored with Content-Encoding gzip and read without decoding) are gunzipped.
- compressed_segmentation streams are bounds-checked before the C decoder runs: it trusts
  every offset, and a corrupt chunk would otherwise crash the process.
"""

from __future__ import annotations

from .._shared.axis_order import PRECOMPUTED as PRECOMPUTED_AXIS_ORDER
from ..base import Format
from .cseg import (
    validate_compressed_segmentation,
)
from .explore import (
    EXPLORERS,
)
from .info import (
    _INFO,
    AXIS_ORDER,
    PrecomputedScale,
    ShardingSpec,
    parse_info,
    parse_scale,
)
from .reader import (
    PrecomputedReader,
    fetch_scale,
    open_reader,
)
from .sharding import (
    _MortonEncoder as _MortonEncoder,
)
from .sharding import (
    compressed_morton_code,
)

__all__ = [
    "AXIS_ORDER",
    "EXPLORERS",
    "PrecomputedReader",
    "PrecomputedScale",
    "ShardingSpec",
    "compressed_morton_code",
    "fetch_scale",
    "open_reader",
    "parse_info",
    "parse_scale",
    "validate_compressed_segmentation",
]


FORMAT = Format(
    name="precomputed",
    explorers=tuple(EXPLORERS),
    data_formats=("neuroglancerPrecomputed",),
    open_reader=open_reader,
    uri_prefixes={"precomputed": "precomputed"},
    pipe_prefixes={"neuroglancer-precomputed": "precomputed"},
    neuroglancer_prefix={"neuroglancerPrecomputed": "precomputed"},
    neuroglancer_volume=frozenset({"neuroglancerPrecomputed"}),
    metadata_files={_INFO: None},
    axis_order={"neuroglancerPrecomputed": PRECOMPUTED_AXIS_ORDER},
)
