"""OME-NGFF images: v0.4 (Zarr v2, `.zattrs`) and OME-Zarr v0.5 (Zarr v3, `zarr.json`
`attributes.ome`), including the `labels/` group.

What WEBKNOSSOS does (see shared/reference/webknossos-remote-datasets.md, section 3), and
where we do better: units may be UDUNITS names or abbreviations (`nm`, `um`, `µm`, ...);
a labels image without units inherits its parent image's unit; a translation of the
finest dataset (and of the multiscale) becomes an affine `coordinateTransformations` entry
(in mag-1 voxels, as WEBKNOSSOS writes it) while the bounding box keeps topLeft 0; the
multiscale-level scale counts too; omero gives the default view configuration; channel
labels are sanitised to letters, digits, `_` and `-`.

Exploration cost: the root metadata (prefetched), then every level's array metadata and
the labels group concurrently, then each label image's metadata, then its levels.
"""

from __future__ import annotations

from ..base import Format
from .explore import (
    EXPLORERS,
    NGFF_V04_EXPLORER,
    NGFF_V05_EXPLORER,
)
from .multiscales import (
    layers_from_ome_attributes,
)
from .omero import (
    image_label_segments as image_label_segments,
)
from .omero import (
    view_configuration_from_omero,
)

__all__ = [
    "EXPLORERS",
    "NGFF_V04_EXPLORER",
    "NGFF_V05_EXPLORER",
    "layers_from_ome_attributes",
    "view_configuration_from_omero",
]


FORMAT = Format(name="ngff", explorers=tuple(EXPLORERS))
