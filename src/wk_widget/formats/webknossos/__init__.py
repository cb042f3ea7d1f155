"""WEBKNOSSOS datasets: a `datasource-properties.json` at the root.

Every listed zarr / zarr3 layer is used (and n5 / neuroglancerPrecomputed layers whose
mags name explicit paths; their readers live in other modules). A mag with a `path`
resolves relative to the dataset root (an absolute URI is used as is); one without goes
to `<layer>/<mag>`, where the mag is written `2` when all components are equal and
`2-2-1` otherwise (as WEBKNOSSOS does; for equal components `2-2-2` is tried next).
The datasource values win for the layer fields; the arrays' metadata (fetched for all
mags concurrently) is kept in `MagSpec.array_meta` so that reads need no refetch. N5 mags'
attributes are fetched too: their rank decides how `axisOrder` counts (see
`datasource_axes`). `uint24` is WEBKNOSSOS's RGB class: 3 channels of uint8.
"""

from __future__ import annotations

from ..base import Format
from .datasource import (
    DATASOURCE_FILE,
    layers_from_datasource,
    mag_literal,
    named_axis_order,
    parse_mag,
)
from .explore import (
    EXPLORERS,
    WEBKNOSSOS_EXPLORER,
)

__all__ = ["EXPLORERS", "WEBKNOSSOS_EXPLORER", "layers_from_datasource", "mag_literal", "named_axis_order", "parse_mag"]


FORMAT = Format(
    name="webknossos",
    explorers=tuple(EXPLORERS),
    metadata_files={DATASOURCE_FILE: "webknossos"},
)
