"""WEBKNOSSOS datasets: a `datasource-properties.json` at the root.

Every listed layer in a data format the registry reads is used. How its mags are found is
the format's own declaration (`Format.datasource_mags`): zarr / zarr3 mags without a
`path` go to `<layer>/<mag>`, where the mag is written `2` when all components are equal
and `2-2-1` otherwise (as WEBKNOSSOS does; for equal components `2-2-2` is tried next);
n5 / neuroglancerPrecomputed mags need explicit paths. A `path` resolves relative to the
dataset root (an absolute URI is used as is). The datasource values win for the layer
fields; the arrays' metadata (fetched for all mags concurrently by the format's locator)
is kept in `MagSpec.array_meta` so that reads need no refetch. N5 mags' attributes are
fetched too: their rank decides how `axisOrder` counts (`AxisOrderRule.rank_dependent`).
`uint24` is WEBKNOSSOS's RGB class: 3 channels of uint8.
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
