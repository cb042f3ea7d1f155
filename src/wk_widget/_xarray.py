"""`Layer.to_xarray`: a lazy `xarray.DataArray` over a mag's dask array.

Coordinates x, y, z are in the dataset's unit at each voxel's corner (index * voxel size *
mag; `mag.data` is absolute, so index 0 is the origin). Axes longer than LAZY_COORDS_ABOVE
get lazy range indexes, so the cost stays flat for petabyte-sized arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .dataset import Layer, Mag

LAZY_COORDS_ABOVE = 1 << 17
XARRAY_HINT = "Layer.to_xarray needs xarray: pip install 'wk-widget[xarray]'"


def _xarray() -> Any:
    try:
        import xarray
    except ImportError as exc:
        raise ImportError(XARRAY_HINT) from exc
    return xarray


def layer_to_xarray(layer: Layer, mag: Mag) -> Any:
    xr = _xarray()
    from xarray.indexes import RangeIndex

    data = mag.data
    dims = mag.dims
    ds = layer._dataset
    coords = xr.Coordinates()
    for i, axis in enumerate(("x", "y", "z")):
        n = data.shape[len(dims) - 3 + i]
        step = float(ds.voxel_size[i]) * mag.mag[i]
        if n <= LAZY_COORDS_ABOVE:  # a plain index: label slicing (`sel(x=slice(a, b))`) works
            coords = coords.merge(xr.Coordinates({axis: np.arange(n) * step})).coords
        else:  # O(1) for huge axes (selects by label with method="nearest"; isel works)
            index = RangeIndex.linspace(0.0, n * step, num=n, endpoint=False, dim=axis, coord_name=axis)
            coords = coords.merge(xr.Coordinates.from_xindex(index)).coords
    for extra in layer.additional_axes:
        lo, hi = extra.bounds
        if lo:  # an axis that does not start at 0 names its indices
            coords = coords.merge(xr.Coordinates({extra.name: range(0, hi)})).coords
    out = xr.DataArray(
        data,
        dims=dims,
        coords=coords,
        name=layer.name,
        attrs={
            "unit": ds.unit,
            "layer": layer.name,
            "category": layer.category,
            "element_class": layer.element_class,
            "mag": list(mag.mag),
            "voxel_size": list(ds.voxel_size),
            "bounding_box": layer.bounding_box.to_json(),
        },
    )
    for axis in ("x", "y", "z"):
        out[axis].attrs["units"] = ds.unit
    return out
