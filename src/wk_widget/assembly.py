"""Assembling layers into one dataset: the common voxel size and unit, and each layer's
power-of-two scale factor onto it (pure; `Dataset` applies the result)."""

from __future__ import annotations

from collections.abc import Sequence

from . import units
from .errors import IncompatibleLayersError
from .formats._shared.layers import is_power_of_two
from .formats.base import LayerSpec

Vec3 = tuple[int, int, int]
Vec3f = tuple[float, float, float]
SPATIAL = ("x", "y", "z")


def scale_factor(layer_nm: Vec3f, base_nm: Vec3f) -> Vec3 | str:
    """Integer power-of-two factor per axis between a layer's voxel size and the base,
    or the reason why there is none."""
    out: list[int] = []
    for axis, v, b in zip(SPATIAL, layer_nm, base_nm, strict=True):
        ratio = v / b
        k = round(ratio)
        if k < 1 or abs(ratio - k) > 1e-3 * max(1.0, ratio) or not is_power_of_two(k):
            return f"{axis} voxel size {v:g} nm is not a power-of-two multiple of the finest, {b:g} nm"
        out.append(k)
    return (out[0], out[1], out[2])


# ---------------------------------------------------------------------------------------
# Mag and Layer


def common_scale(
    existing: Sequence[LayerSpec],
    extra: Sequence[LayerSpec],
    user_unit: str | None,
    user_voxel_size: Vec3f | None,
) -> tuple[Vec3f, str, dict[int, Vec3]]:
    """The dataset's voxel size and unit, and the scale factor of every spec (by `id`) of
    `existing` + `extra`; raises IncompatibleLayersError naming what is being added."""
    specs = list(existing) + list(extra)
    known = [(s, units.to_nanometers(1.0, s.unit or "nanometer")) for s in specs if s.voxel_size]
    nm_sizes: dict[int, Vec3f] = {}
    for s, per in known:
        assert s.voxel_size is not None
        nm_sizes[id(s)] = (s.voxel_size[0] * per, s.voxel_size[1] * per, s.voxel_size[2] * per)
    if nm_sizes:
        base_nm: Vec3f = (
            min(v[0] for v in nm_sizes.values()),
            min(v[1] for v in nm_sizes.values()),
            min(v[2] for v in nm_sizes.values()),
        )
    else:
        base_nm = (1.0, 1.0, 1.0)
    factors: dict[int, Vec3] = {}
    for s in specs:
        if id(s) in nm_sizes:
            factor = scale_factor(nm_sizes[id(s)], base_nm)
            if isinstance(factor, str):
                # Name what is being added (the new URI), and the layer it clashes with.
                culprit = extra[0] if extra else s
                other = s if s is not culprit else next(
                    (o for o in specs if id(o) in nm_sizes and o is not s), s
                )
                raise IncompatibleLayersError(
                    culprit.source_uri or culprit.name,
                    f"voxel sizes of the layers are not compatible with {other.source_uri or other.name}: {factor}",
                )
            factors[id(s)] = factor
        else:
            factors[id(s)] = (1, 1, 1)
    # Units: the user's, else the unit of the first layer that has one.
    native_unit = next((s.unit for s in specs if s.voxel_size and s.unit), None) or "nanometer"
    unit = user_unit or native_unit
    if user_voxel_size is not None:
        voxel_size = user_voxel_size
    else:
        voxel_size = tuple(units.convert(v, "nanometer", unit) for v in base_nm)  # type: ignore[assignment]
        voxel_size = tuple(float(f"{v:.12g}") for v in voxel_size)  # type: ignore[assignment]
    return voxel_size, unit, factors
