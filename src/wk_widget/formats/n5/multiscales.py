"""N5 multiscale groups: COSEM and BigDataViewer / Saalfeld layouts, and the N5 explorer list."""

from __future__ import annotations

import asyncio
from typing import Any

from ...errors import (
    MalformedMetadataError,
    UnsupportedDataError,
)
from ...storage import SourceURI
from ...units import NANOMETERS_PER_UNIT
from .._shared.layers import plain_axis_order
from ..base import (
    ExploreContext,
    Explorer,
    LayerSpec,
    NotThisFormat,
)
from .explore import (
    _attributes_object,
    _check_rank,
    _explore_array,
    _layers,
    _Level,
    _level_metas,
    _own_resolution,
    _xyz_from_n5,
)
from .metadata import ATTRIBUTES, N5ArrayMeta, _power_of_two_mag, _voxel_size, parse_attributes
from .transform import _cosem_axis_order, _items_datasets, _parse_transform, _Transform


async def _explore_cosem(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    attrs = await ctx.fetch_json(uri, ATTRIBUTES)
    if attrs is None:
        raise NotThisFormat("no attributes.json")
    if not isinstance(attrs, dict) or "multiscales" not in attrs:
        raise NotThisFormat("attributes.json has no multiscales")
    where = uri.join(ATTRIBUTES).url
    items = attrs["multiscales"]
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise MalformedMetadataError(where, "multiscales must be a non-empty list of objects")
    plans: list[list[tuple[SourceURI, Any]]] = []
    for k, item in enumerate(items):
        datasets = item.get("datasets")
        if not isinstance(datasets, list) or not datasets:
            raise MalformedMetadataError(
                where, f"multiscales[{k}].datasets must be a non-empty list"
            )
        plan = []
        for d in datasets:
            if not isinstance(d, dict) or not isinstance(d.get("path"), str) or not d["path"].strip("/"):
                raise MalformedMetadataError(where, f"multiscales[{k}].datasets entries need a path")
            plan.append((uri.join(d["path"]), d.get("transform")))
        plans.append(plan)
    all_paths = list({p.url: p for plan in plans for p, _ in plan}.values())
    docs = await asyncio.gather(*(ctx.fetch_json(p, ATTRIBUTES) for p in all_paths))
    level_docs = dict(zip((p.url for p in all_paths), docs, strict=True))
    layers: list[LayerSpec] = []
    for plan in plans:
        levels: list[tuple[SourceURI, N5ArrayMeta, _Transform]] = []
        for path, transform_doc in plan:
            level_where = path.join(ATTRIBUTES).url
            doc = level_docs[path.url]
            if doc is None:
                raise MalformedMetadataError(
                    level_where,
                    "the multiscales metadata names this level, but it has no attributes.json",
                )
            meta = parse_attributes(doc, level_where)
            if transform_doc is None:  # COSEM also keeps the transform on each level
                transform_doc = doc.get("transform")
            if transform_doc is None:
                if "coordinateTransformations" in next(
                    (d for d in _items_datasets(items) if d.get("path") == path.name), {}
                ):
                    raise UnsupportedDataError(
                        where, "OME-NGFF-style multiscales in N5 attributes are not supported"
                    )
                raise MalformedMetadataError(
                    where, f"dataset {path.name!r} has no transform (COSEM multiscales)"
                )
            t = _parse_transform(transform_doc, where, f"dataset {path.name!r}")
            if len(t.axes) != meta.ndim:
                raise MalformedMetadataError(
                    level_where,
                    f"{meta.ndim} dimensions, but the transform names {len(t.axes)} axes",
                )
            levels.append((path, meta, t))
        sizes_nm = []
        for _, _, t in levels:
            values, units = t.xyz()
            sizes_nm.append(
                [v * NANOMETERS_PER_UNIT[u] for v, u in zip(values, units, strict=True)]
            )
        base_i = min(range(len(levels)), key=lambda i: max(sizes_nm[i]))
        base = sizes_nm[base_i]
        out_levels = []
        for (path, meta, _t), nm in zip(levels, sizes_nm, strict=True):
            mag = _power_of_two_mag(
                [a / b for a, b in zip(nm, base, strict=True)], where, f"dataset {path.name!r}"
            )
            out_levels.append(_Level(path, meta, mag))
        _, base_meta, base_t = levels[base_i]
        axis_order, additional = _cosem_axis_order(base_t, base_meta.shape)
        for level in out_levels:
            _check_rank(level, base_meta.ndim)
        voxel_size, unit = _voxel_size(*base_t.xyz())
        transforms = None
        shift = []
        for a in ("x", "y", "z"):
            i = base_t.index(a)
            shift.append(base_t.translate[i] / base_t.scale[i] if i is not None else 0.0)
        if any(abs(s) > 1e-9 for s in shift):
            # A translation of the finest level, in its voxels: shown as WEBKNOSSOS's affine.
            tx, ty, tz = (round(s, 6) for s in shift)
            transforms = [
                {
                    "type": "affine",
                    "matrix": [[1, 0, 0, tx], [0, 1, 0, ty], [0, 0, 1, tz], [0, 0, 0, 1]],
                }
            ]
        layers.extend(
            _layers(
                uri,
                out_levels,
                axis_order,
                additional,
                "n5-multiscales-cosem",
                voxel_size,
                unit,
                transforms,
            )
        )
    return layers


def _factors(value: Any, where: str) -> list[list[float]]:
    if (
        not isinstance(value, list)
        or not value
        or not all(
            isinstance(f, list)
            and f
            and all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in f)
            for f in value
        )
    ):
        raise MalformedMetadataError(
            where, f"downsamplingFactors/scales must be a list of lists of numbers, not {value!r}"
        )
    return [[float(v) for v in f] for f in value]


async def _explore_bdv(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    attrs = await _attributes_object(ctx, uri)
    if "dimensions" in attrs:
        raise NotThisFormat("attributes.json describes an array, not a multiscale group")
    raw = attrs.get("downsamplingFactors", attrs.get("scales"))
    where = uri.join(ATTRIBUTES).url
    per_level: list[Any] | None = None
    if raw is None:
        # n5-viewer may keep `downsamplingFactors` only on each level s0 .. sN
        per_level = await _per_level_attributes(ctx, uri)
        if per_level is None:
            if attrs.get("multiScale") is True:
                raise MalformedMetadataError(
                    where, "multiScale group without downsamplingFactors or scales"
                )
            raise NotThisFormat("attributes.json has no multiScale, downsamplingFactors or scales")
        raw = [doc.get("downsamplingFactors") for doc in per_level]
    elif attrs.get("multiScale") is not True and not (
        isinstance(raw, list) and raw and isinstance(raw[0], list)
    ):
        raise NotThisFormat("attributes.json has no multiScale, downsamplingFactors or scales")
    factors = _factors(raw, where)
    paths = [uri.join(f"s{i}") for i in range(len(factors))]
    if per_level is not None:
        metas = [parse_attributes(d, p.join(ATTRIBUTES).url) for p, d in zip(paths, per_level, strict=True)]
    else:
        metas = await _level_metas(ctx, paths)
    rank = metas[0].ndim
    if rank < 2:
        raise UnsupportedDataError(
            paths[0].join(ATTRIBUTES).url, f"a {rank}-dimensional array has no x and y axes"
        )
    axes = attrs.get("axes")
    names = list(reversed(axes)) if isinstance(axes, list) and len(axes) == rank else None
    axis_order, additional = plain_axis_order(metas[0].shape, names)
    levels = []
    for path, meta, factor in zip(paths, metas, factors, strict=True):
        level = _Level(path, meta, (1, 1, 1))
        _check_rank(level, rank)
        if len(factor) < min(rank, 3) and len(factor) != rank:
            raise MalformedMetadataError(
                where, f"downsampling factor {factor} of {path.name} has too few entries"
            )
        level.mag = _power_of_two_mag(
            _xyz_from_n5(factor, axis_order, rank, 1.0), where, f"level {path.name}"
        )
        levels.append(level)
    voxel_size: tuple[float, float, float] | None = None
    unit: str | None = None
    own = _own_resolution(attrs, rank, where)
    if own is not None:
        values = _xyz_from_n5(own[0], axis_order, rank, 1.0)
        units = _xyz_from_n5(own[1], axis_order, rank, own[1][0])
        voxel_size, unit = _voxel_size(values, units)
    return _layers(uri, levels, axis_order, additional, "n5-multiscales-bdv", voxel_size, unit)


_MAX_LEVELS = 32


async def _per_level_attributes(ctx: ExploreContext, uri: SourceURI) -> list[dict[str, Any]] | None:
    """Attributes of s0, s1, ... while they exist and carry `downsamplingFactors`
    (as Neuroglancer reads n5-viewer groups), or None when s0 has none."""
    docs: list[dict[str, Any]] = []
    for i in range(_MAX_LEVELS):
        doc = await ctx.fetch_json(uri.join(f"s{i}"), ATTRIBUTES)
        if not isinstance(doc, dict) or "downsamplingFactors" not in doc or "dimensions" not in doc:
            break
        docs.append(doc)
    return docs or None


COSEM_EXPLORER = Explorer("n5-multiscales-cosem", (ATTRIBUTES,), frozenset({"n5"}), _explore_cosem)


BDV_EXPLORER = Explorer("n5-multiscales-bdv", (ATTRIBUTES,), frozenset({"n5"}), _explore_bdv)


N5_EXPLORER = Explorer("n5", (ATTRIBUTES,), frozenset({"n5"}), _explore_array)


EXPLORERS: list[Explorer] = [COSEM_EXPLORER, BDV_EXPLORER, N5_EXPLORER]
