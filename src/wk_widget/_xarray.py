"""`Layer.to_xarray`: a lazy `xarray.DataArray` over a mag's dask array.

Coordinates x, y, z are in the dataset's unit at each voxel's corner (index * voxel size *
mag; `mag.data` is absolute, so index 0 is the origin). Axes longer than LAZY_COORDS_ABOVE
get lazy range indexes, so the cost stays flat for petabyte-sized arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .formats.base import AdditionalAxis

LAZY_COORDS_ABOVE = 1 << 17
XARRAY_HINT = "Layer.to_xarray needs xarray: pip install 'wk-widget[xarray]'"


def _xarray() -> Any:
    try:
        import xarray
    except ImportError as exc:
        raise ImportError(XARRAY_HINT) from exc
    return xarray


def level_to_xarray(
    data: Any,
    dims: Sequence[str],
    mag: Sequence[int],
    voxel_size: Sequence[float],
    extra_axes: Sequence[AdditionalAxis],
    name: str,
    attrs: Mapping[str, Any],
) -> Any:
    """`data` (a mag's dask array, dims `dims`) labelled: x, y, z at voxel corners in the
    dataset's unit (`attrs["unit"]`), extra axes that do not start at 0 by index."""
    xr = _xarray()
    from xarray.indexes import RangeIndex

    coords = xr.Coordinates()
    for i, axis in enumerate(("x", "y", "z")):
        n = data.shape[len(dims) - 3 + i]
        step = float(voxel_size[i]) * mag[i]
        if n <= LAZY_COORDS_ABOVE:  # a plain index: label slicing (`sel(x=slice(a, b))`) works
            coords = coords.merge(xr.Coordinates({axis: np.arange(n) * step})).coords
        else:  # O(1) for huge axes (selects by label with method="nearest"; isel works)
            index = RangeIndex.linspace(0.0, n * step, num=n, endpoint=False, dim=axis, coord_name=axis)
            coords = coords.merge(xr.Coordinates.from_xindex(index)).coords
    for extra in extra_axes:
        lo, hi = extra.bounds
        if lo:  # an axis that does not start at 0 names its indices
            coords = coords.merge(xr.Coordinates({extra.name: range(0, hi)})).coords
    out = xr.DataArray(
        data,
        dims=tuple(dims),
        coords=coords,
        name=name,
        attrs=dict(attrs),
    )
    for axis in ("x", "y", "z"):
        out[axis].attrs["units"] = attrs["unit"]
    return out
