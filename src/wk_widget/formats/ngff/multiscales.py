"""NGFF multiscales: the levels' Zarr metadata fetched concurrently and turned into layers."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from ...errors import MalformedMetadataError, UnsupportedDataError
from ...storage import SourceURI
from .._shared import limits as _limits
from .._shared.layers import category_from_name, folder_name, is_power_of_two, sanitize_name
from ..base import (
    AdditionalAxis,
    BoundingBox,
    Category,
    ExploreContext,
    LayerSpec,
    MagSpec,
    element_class_of,
)
from ..zarr import (
    ZarrArrayMeta,
    parse_zarr_json,
    parse_zarray,
    validate_readable,
)
from .axes import (
    DEFAULT_UNIT,
    _axis_roles,
    _clean,
    _compose,
    _parse_axes,
    _space_units,
)
from .omero import _declared_largest_segment_id, image_label_segments, view_configuration_from_omero


async def _fetch_level_meta(
    ctx: ExploreContext, level: SourceURI, zarr_version: int
) -> ZarrArrayMeta:
    name = ".zarray" if zarr_version == 2 else "zarr.json"
    doc = await ctx.fetch_json(level, name)
    if doc is None:
        raise MalformedMetadataError(
            level.url, f"resolution level listed in the multiscales metadata has no {name}"
        )
    return parse_zarray(doc, level.url) if zarr_version == 2 else parse_zarr_json(doc, level.url)


async def _fetch_multiscale_metas(
    ctx: ExploreContext, uri: SourceURI, ome: dict[str, Any], zarr_version: int, where: str
) -> list[list[ZarrArrayMeta]]:
    multiscales = ome.get("multiscales")
    if not isinstance(multiscales, list) or not multiscales:
        raise MalformedMetadataError(where, "multiscales must be a non-empty list")
    jobs: list[list[Any]] = []
    for ms in multiscales:
        if not isinstance(ms, dict):
            raise MalformedMetadataError(where, f"invalid multiscales entry {ms!r}")
        datasets = ms.get("datasets")
        if not isinstance(datasets, list) or not datasets:
            raise MalformedMetadataError(where, "a multiscale needs a non-empty list of datasets")
        paths = []
        for ds in datasets:
            if not isinstance(ds, dict) or not isinstance(ds.get("path"), str):
                raise MalformedMetadataError(where, f"invalid dataset {ds!r}: a dataset needs a path")
            paths.append(ds["path"])
        jobs.append([_fetch_level_meta(ctx, uri.join(p), zarr_version) for p in paths])
    flat = await asyncio.gather(*(j for job in jobs for j in job))
    out: list[list[ZarrArrayMeta]] = []
    i = 0
    for job in jobs:
        out.append(list(flat[i : i + len(job)]))
        i += len(job)
    return out


def _multiscale_layers(
    uri: SourceURI,
    ome: dict[str, Any],
    ms: dict[str, Any],
    metas: list[ZarrArrayMeta],
    *,
    format_name: str,
    default_unit: str,
    dataset_name: str,
    label_name: str | None,
    where: str,
) -> list[LayerSpec]:
    datasets = ms["datasets"]
    first = metas[0]
    ndim = first.ndim
    axes = _parse_axes(ms.get("axes"), ndim, where)
    if len(axes) != ndim:
        raise MalformedMetadataError(
            where, f"{len(axes)} axes {[a.name for a in axes]} but the array {datasets[0]['path']!r} has {ndim} dimensions"
        )
    for ds, meta in zip(datasets, metas, strict=True):
        if meta.ndim != ndim:
            raise MalformedMetadataError(
                uri.join(ds["path"]).url, f"has {meta.ndim} dimensions, the multiscale's first level {ndim}"
            )
        if meta.dtype != first.dtype:
            raise MalformedMetadataError(
                uri.join(ds["path"]).url, f"data type {meta.dtype} differs from the first level's {first.dtype}"
            )
    order, others = _axis_roles(axes, where)
    unit, unit_factors = _space_units(axes, order, default_unit, where)
    element_class = element_class_of(first.dtype, uri.join(datasets[0]["path"]).url)
    for ds, meta in zip(datasets, metas, strict=True):
        validate_readable(meta, uri.join(ds["path"]).url)

    # Scale and translation of every dataset (dataset transforms, then the multiscale's).
    scales: list[list[float]] = []
    translations: list[list[float]] = []
    for ds, meta in zip(datasets, metas, strict=True):
        scale = [1.0] * ndim
        translation = [0.0] * ndim
        had_scale = _compose(ds.get("coordinateTransformations"), ndim, scale, translation, where)
        if not had_scale:  # NGFF <= 0.3: no transforms; derive from the shapes
            scale = [
                first.shape[d] / meta.shape[d] if meta.shape[d] and d in order.values() else 1.0
                for d in range(ndim)
            ]
            translation = [0.0] * ndim
        _compose(ms.get("coordinateTransformations"), ndim, scale, translation, where)
        scales.append(scale)
        translations.append(translation)
    space = [order[k] for k in ("x", "y", "z") if k in order]
    voxel_in_axis_units: list[float] = []
    for d in space:
        finest = min(s[d] for s in scales)
        if finest <= 0:
            raise MalformedMetadataError(where, f"scale of axis {axes[d].name!r} must be positive")
        voxel_in_axis_units.append(finest)
    mags: list[tuple[int, int, int]] = []
    for ds, scale in zip(datasets, scales, strict=True):
        mag = [round(scale[d] / v) for d, v in zip(space, voxel_in_axis_units, strict=True)]
        if len(mag) == 2:
            mag.append(1)
        if not all(is_power_of_two(m) for m in mag):
            ratio = [_clean(scale[d] / v) for d, v in zip(space, voxel_in_axis_units, strict=True)]
            raise UnsupportedDataError(
                uri.join(ds["path"]).url,
                f"mag {mag} (scale ratio {ratio} to the finest level) is not a power of two per axis",
            )
        mags.append((mag[0], mag[1], mag[2]))
    if len(set(mags)) != len(mags):
        raise MalformedMetadataError(where, f"several datasets have the same mag: {[list(m) for m in mags]}")
    ranked = sorted(range(len(mags)), key=lambda i: (mags[i][0] * mags[i][1] * mags[i][2], mags[i]))
    finest_i = ranked[0]
    finest_meta = metas[finest_i]

    def xyz_shape(meta: ZarrArrayMeta) -> tuple[int, int, int]:
        return (
            meta.shape[order["x"]],
            meta.shape[order["y"]],
            meta.shape[order["z"]] if "z" in order else 1,
        )

    if mags[finest_i] == (1, 1, 1):
        size = xyz_shape(finest_meta)
    else:
        size = tuple(  # type: ignore[assignment]
            max(xyz_shape(metas[i])[k] * mags[i][k] for i in range(len(mags))) for k in range(3)
        )
    voxel_size = (
        _clean(voxel_in_axis_units[0] * unit_factors[0]),
        _clean(voxel_in_axis_units[1] * unit_factors[1]),
        _clean(voxel_in_axis_units[2] * unit_factors[2]) if "z" in order else 1.0,
    )

    # Translation of the finest level, in its voxels -> WEBKNOSSOS affine entry.
    coordinate_transformations: list[dict[str, Any]] | None = None
    t = translations[finest_i]
    offset = [_clean(t[d] / v) for d, v in zip(space, voxel_in_axis_units, strict=True)]
    if len(offset) == 2:
        offset.append(0.0)
    if any(o != 0 for o in offset):
        coordinate_transformations = [
            {
                "type": "affine",
                "matrix": [
                    [1.0, 0.0, 0.0, offset[0]],
                    [0.0, 1.0, 0.0, offset[1]],
                    [0.0, 0.0, 1.0, offset[2]],
                    [0.0, 0.0, 0.0, 1.0],
                ],
            }
        ]

    additional = [
        AdditionalAxis(sanitize_name(axes[d].name) or f"dim{d}", (0, int(finest_meta.shape[d])), d) for d in others
    ]
    channel_count = finest_meta.shape[order["c"]] if "c" in order else 1
    _limits.check_channels(uri.url, channel_count)  # one layer each: refuse absurd counts early

    # Names, categories and view configurations per channel.
    if label_name is not None:
        base = f"labels-{sanitize_name(label_name) or 'labels'}"
        category: Category = "segmentation"
        category_source = "ome-labels"
        omero_channels: list[Any] = []
    else:
        base = sanitize_name(ms.get("name")) or sanitize_name(folder_name(uri)) or "image"
        omero = ome.get("omero")
        raw_channels = omero.get("channels") if isinstance(omero, dict) else None
        omero_channels = raw_channels if isinstance(raw_channels, list) else []
    names: list[str] = []
    for ch in range(channel_count):
        label = omero_channels[ch].get("label") if ch < len(omero_channels) and isinstance(omero_channels[ch], dict) else None
        name = sanitize_name(label) if label is not None else ""
        if not name:
            name = base if channel_count == 1 else f"{base}_c{ch}"
        names.append(name)
    counts = Counter(names)  # linear in channels (names.count was quadratic)
    duplicated = {name for name, n in counts.items() if n > 1}
    names = [f"{name}_c{ch}" if name in duplicated else name for ch, name in enumerate(names)]

    largest = (
        _declared_largest_segment_id(ome.get("image-label"), ms.get("metadata"), ms) if label_name is not None else None
    )
    layers: list[LayerSpec] = []
    for ch in range(channel_count):
        if label_name is None:
            category, category_source = category_from_name(names[ch], element_class)
            if category == "color":
                category, category_source = category_from_name(base, element_class)
        channel_index = ch if "c" in order else None
        layer_mags = [
            MagSpec(mags[i], uri.join(datasets[i]["path"]), dict(order), channel_index, metas[i]) for i in ranked
        ]
        layers.append(
            LayerSpec(
                name=names[ch],
                category=category,
                data_format=first.data_format,
                element_class=element_class,
                bounding_box=BoundingBox((0, 0, 0), size),
                mags=layer_mags,
                num_channels=1,
                voxel_size=voxel_size,
                unit=unit,
                largest_segment_id=largest,
                segment_metadata=image_label_segments(ome.get("image-label")) if label_name is not None else None,
                additional_axes=list(additional),
                default_view_configuration=(
                    view_configuration_from_omero(omero_channels[ch]) if ch < len(omero_channels) else None
                ),
                coordinate_transformations=coordinate_transformations,
                category_source=category_source,
                source_uri=uri.url,
                format_name=format_name,
                dataset_name=dataset_name,
                multiscale_group=True,
            )
        )
    return layers


def _dataset_name(ome: dict[str, Any], uri: SourceURI) -> str:
    try:
        name = ome["multiscales"][0].get("name")
    except (LookupError, AttributeError, TypeError):
        name = None
    if isinstance(name, str) and sanitize_name(name):
        return name
    return uri.name


async def layers_from_ome_attributes(
    ctx: ExploreContext,
    uri: SourceURI,
    ome: dict[str, Any],
    zarr_version: int,
    *,
    format_name: str,
    default_unit: str = DEFAULT_UNIT,
    dataset_name: str | None = None,
    label_name: str | None = None,
) -> list[LayerSpec]:
    """Layers of one NGFF image given its OME attributes (`.zattrs` content or
    `attributes.ome`); fetches the levels' array metadata concurrently."""
    where = uri.join(".zattrs" if zarr_version == 2 else "zarr.json").url
    metas = await _fetch_multiscale_metas(ctx, uri, ome, zarr_version, where)
    name = dataset_name or _dataset_name(ome, uri)
    layers: list[LayerSpec] = []
    for ms, ms_metas in zip(ome["multiscales"], metas, strict=True):
        layers.extend(
            _multiscale_layers(
                uri,
                ome,
                ms,
                ms_metas,
                format_name=format_name,
                default_unit=default_unit,
                dataset_name=name,
                label_name=label_name,
                where=where,
            )
        )
    return layers
