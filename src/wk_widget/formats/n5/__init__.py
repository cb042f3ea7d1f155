"""N5 arrays and multiscale groups: explorers and the chunk reader.

- `parse_attributes` turns an N5 dataset's `attributes.json` into a typed `N5ArrayMeta`
  (pure; what `MagSpec.array_meta` holds).
- `EXPLORERS`, in WEBKNOSSOS's order:
  * "n5-multiscales-cosem": a group whose `attributes.json` has `multiscales[].datasets[]`
    with `path` and `transform {axes, scale, units, translate, ordering}` (COSEM/OpenOrganelle);
  * "n5-multiscales-bdv": a group with `multiScale: true` and/or `downsamplingFactors` /
    `scales` (BigDataViewer / n5-viewer / Saalfeld style; n5-viewer may keep
    `downsamplingFactors` only on each level, found by reading s0, s1, ... as Neuroglancer
    does), levels `s0 .. sN`, base
    `resolution` (or `pixelResolution`), missing units = micrometer;
  * "n5": a plain array (`dimensions`, `blockSize`, `dataType`, `compression`), mag 1.
- `open_reader` builds an `N5Reader`.

Dimension order: N5 lists dimensions fastest first (`dimensions[0]` is x). The reader's
dims are the N5 dims reversed (3D: (z, y, x), C order): reader axis order {"x": 2, "y": 1,
"z": 0} for 3D. A datasource counts positions in N5's `dimensions` instead ({"x": 0, "y": 1,
"z": 2}); its axis-order rule (`formats.axis_order("n5")`) converts both ways. COSEM
transform `axes` are listed in that reversed (C) order unless `"ordering": "F"`; BDV `axes`, `resolution` and
`downsamplingFactors` are in N5 order.

Blocks: big-endian, header (mode uint16, ndim uint16, ndim x uint32 block dims, and for
mode 1 "varlength" a uint32 element count), then the compressed payload. Edge blocks may be
stored clipped (n5-java) or full size (tensorstore); both decode. Mode 2 (object) is not
numeric data and reads as a corrupt chunk. Compressions: raw, gzip (also `useZlib`), bzip2,
xz, blosc, zstd (frames with or without a content size) and lz4 (lz4-java's
LZ4BlockOutputStream framing, as n5's Lz4Compression writes it); the pre-1.0
`compressionType` attribute is understood too.

Decisions where the conventions are silent:
- `boundingBox.topLeft` is always 0 (WEBKNOSSOS reads N5 arrays from index 0, so an
  exported datasource must not shift them). A COSEM `translate` of the finest level is
  kept as WEBKNOSSOS's affine `coordinateTransformations` entry (translation in mag-1
  voxels), like NGFF translations; the readers ignore it.
- The bounding box is the finest level's x/y/z size times its mag.
- Mags come from `downsamplingFactors` (BDV) or from each level's voxel size divided by
  the finest one (COSEM, the finest = smallest largest dimension, as WEBKNOSSOS); each
  must be a power of two per axis, else UnsupportedDataError. Mags are sorted finest first.
- Units: a missing or empty unit is micrometer; a time unit among the axes' units
  (Neuroglancer's test data has ["nm", "s"]) means no voxel size; units that differ between x, y and z are
  converted to nanometers. A plain array uses its own `pixelResolution` / `resolution` /
  `transform` when it has one, else it has no voxel size (None).
- A channel axis (`c` in COSEM axes, or the 4th dim from the end of a plain/BDV array)
  gives one layer per channel (`<name>_c<i>`, `channelIndex` i), like plain Zarr arrays;
  other extra axes become additional axes.
- OME-NGFF-style multiscales inside N5 attributes are reported as unsupported.
"""

from __future__ import annotations

from .._shared.axis_order import N5 as N5_AXIS_ORDER
from ..base import Format
from .datasource import DATASOURCE_MAGS
from .metadata import (
    ATTRIBUTES,
    COMPRESSIONS,
    N5ArrayMeta,
    parse_attributes,
)
from .multiscales import (
    EXPLORERS,
)
from .reader import (
    N5Reader,
    decode_lz4_blocks,
    fetch_meta,
    open_reader,
)

__all__ = [
    "COMPRESSIONS",
    "EXPLORERS",
    "N5ArrayMeta",
    "N5Reader",
    "decode_lz4_blocks",
    "fetch_meta",
    "open_reader",
    "parse_attributes",
]


FORMAT = Format(
    name="n5",
    explorers=tuple(EXPLORERS),
    data_formats=("n5",),
    open_reader=open_reader,
    uri_prefixes={"n5": "n5"},
    neuroglancer_prefix={"n5": "n5"},
    metadata_files={ATTRIBUTES: None},
    axis_order={"n5": N5_AXIS_ORDER},
    datasource_mags=DATASOURCE_MAGS,
)
