"""The plain-array explorers: a bare Zarr v3 / v2 array at the URI (mag 1, axes from the end)."""

from __future__ import annotations

from dataclasses import replace

from ...errors import (
    MalformedMetadataError,
    RemoteDatasetError,
    UnsupportedDataError,
)
from ...storage import SourceURI
from .._shared.layers import category_from_name, folder_name, plain_axis_order, sanitize_name
from ..base import (
    BoundingBox,
    ExploreContext,
    Explorer,
    LayerSpec,
    MagSpec,
    NotThisFormat,
    element_class_of,
)
from .codecs import validate_readable
from .metadata import ZarrArrayMeta, parse_zarr_json, parse_zarray


def plain_layers(
    uri: SourceURI, meta: ZarrArrayMeta, format_name: str
) -> list[LayerSpec]:
    """Layers of a bare array at `uri`: mag 1, no voxel size, one layer per channel."""
    if meta.ndim < 2:
        raise UnsupportedDataError(uri.url, f"a {meta.ndim}-dimensional array has no x and y axes")
    element_class = element_class_of(meta.dtype, uri.url)
    validate_readable(meta, uri.url)
    axis_order, additional = plain_axis_order(meta.shape, meta.dimension_names)
    shape = meta.shape
    size = (shape[axis_order["x"]], shape[axis_order["y"]], shape[axis_order["z"]] if "z" in axis_order else 1)
    name = sanitize_name(folder_name(uri)) or sanitize_name(folder_name(uri.parent())) or "layer"
    category, source = category_from_name(name, element_class)
    channels = shape[axis_order["c"]] if "c" in axis_order else 1
    layers: list[LayerSpec] = []
    for ch in range(channels) if "c" in axis_order else [None]:
        layers.append(
            LayerSpec(
                name=name if channels == 1 else f"{name}_c{ch}",
                category=category,
                data_format=meta.data_format,
                element_class=element_class,
                bounding_box=BoundingBox((0, 0, 0), size),
                mags=[MagSpec((1, 1, 1), uri, dict(axis_order), ch, meta)],
                num_channels=1,
                voxel_size=None,
                unit=None,
                additional_axes=list(additional),
                category_source=source,
                source_uri=uri.url,
                format_name=format_name,
                dataset_name=uri.name or None,
            )
        )
    return layers


async def _explore_zarr3(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    doc = await ctx.fetch_json(uri, "zarr.json")
    if doc is None:
        raise NotThisFormat("no zarr.json")
    if not isinstance(doc, dict):
        raise MalformedMetadataError(uri.join("zarr.json").url, "not a JSON object")
    if doc.get("zarr_format") != 3:
        raise NotThisFormat(f"zarr.json has zarr_format {doc.get('zarr_format')!r}, not 3")
    if doc.get("node_type") != "array":
        raise NotThisFormat(f"zarr.json describes a {doc.get('node_type')!r} node, not an array")
    meta = parse_zarr_json(doc, uri.url)
    return plain_layers(uri, meta, "zarr3")


async def _explore_zarr2(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    doc = await ctx.fetch_json(uri, ".zarray")
    if doc is None:
        raise NotThisFormat("no .zarray")
    meta = parse_zarray(doc, uri.url)
    # xarray's dimension names; `.zattrs` is a probe file of the NGFF explorer tried
    # before this one, so reading it again costs no request
    try:
        attrs = await ctx.fetch_json(uri, ".zattrs")
    except RemoteDatasetError:
        attrs = None
    if isinstance(attrs, dict):
        dims = attrs.get("_ARRAY_DIMENSIONS")
        if isinstance(dims, list) and len(dims) == meta.ndim and all(isinstance(d, str) for d in dims):
            meta = replace(meta, dimension_names=tuple(dims), attributes=attrs)
        else:
            meta = replace(meta, attributes=attrs)
    return plain_layers(uri, meta, "zarr2")


ZARR3_EXPLORER = Explorer("zarr3", ("zarr.json",), frozenset({"zarr", "zarr3"}), _explore_zarr3)


ZARR2_EXPLORER = Explorer("zarr2", (".zarray",), frozenset({"zarr", "zarr2"}), _explore_zarr2)


EXPLORERS: list[Explorer] = [ZARR3_EXPLORER, ZARR2_EXPLORER]
