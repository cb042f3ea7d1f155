"""The NGFF explorers (0.4 `.zattrs`, 0.5 `zarr.json`): images, labels and bioformats2raw series."""

from __future__ import annotations

import asyncio
from typing import Any

from ...errors import MalformedMetadataError, RemoteDatasetError
from ...storage import SourceURI
from ..base import (
    ExploreContext,
    Explorer,
    LayerSpec,
    NotThisFormat,
)
from .axes import image_unit
from .multiscales import _dataset_name, layers_from_ome_attributes


def _ome_of_zarr_json(doc: Any) -> dict[str, Any] | None:
    if not isinstance(doc, dict):
        return None
    attrs = doc.get("attributes")
    if not isinstance(attrs, dict):
        return None
    ome = attrs.get("ome")
    if isinstance(ome, dict):
        return ome
    if "multiscales" in attrs or "labels" in attrs:  # NGFF < 0.5 attributes in a Zarr v3 group
        return attrs
    return None


async def _label_layers(
    ctx: ExploreContext,
    uri: SourceURI,
    zarr_version: int,
    *,
    format_name: str,
    parent_unit: str,
    dataset_name: str,
) -> list[LayerSpec]:
    group_file = "labels/.zattrs" if zarr_version == 2 else "labels/zarr.json"
    try:
        doc = await ctx.fetch_json(uri, group_file)
    except RemoteDatasetError as exc:
        ctx.note(f"{uri.join(group_file).url}: labels skipped: {exc.cause}")
        return []
    if doc is None:
        return []
    group = doc if zarr_version == 2 else _ome_of_zarr_json(doc)
    labels = group.get("labels") if isinstance(group, dict) else None
    if not isinstance(labels, list) or not all(isinstance(p, str) for p in labels):
        ctx.note(f"{uri.join(group_file).url}: labels skipped: no list of label paths")
        return []

    async def one(path: str) -> list[LayerSpec]:
        label_uri = uri.join("labels", path)
        image_file = ".zattrs" if zarr_version == 2 else "zarr.json"
        try:
            label_doc = await ctx.fetch_json(label_uri, image_file)
            if label_doc is None:
                raise MalformedMetadataError(label_uri.url, f"label image listed in labels/ has no {image_file}")
            ome = label_doc if zarr_version == 2 else _ome_of_zarr_json(label_doc)
            if not isinstance(ome, dict) or "multiscales" not in ome:
                raise MalformedMetadataError(label_uri.join(image_file).url, "label image has no multiscales")
            return await layers_from_ome_attributes(
                ctx,
                label_uri,
                ome,
                zarr_version,
                format_name=format_name,
                default_unit=parent_unit,
                dataset_name=dataset_name,
                label_name=path,
            )
        except RemoteDatasetError as exc:
            ctx.note(f"label image {path!r} skipped: {exc}")
            return []

    results = await asyncio.gather(*(one(p) for p in labels))
    return [layer for result in results for layer in result]


def _format_name(ome: dict[str, Any], fallback: str) -> str:
    version = ome.get("version")
    if not isinstance(version, str):
        try:
            version = ome["multiscales"][0].get("version")
        except (LookupError, AttributeError, TypeError):
            version = None
    return f"ngff-{version}" if isinstance(version, str) and version else fallback


async def _explore_image(ctx: ExploreContext, uri: SourceURI, ome: dict[str, Any], zarr_version: int, fallback: str) -> list[LayerSpec]:
    format_name = _format_name(ome, fallback)
    dataset_name = _dataset_name(ome, uri)
    images, labels = await asyncio.gather(
        layers_from_ome_attributes(ctx, uri, ome, zarr_version, format_name=format_name, dataset_name=dataset_name),
        _label_layers(
            ctx,
            uri,
            zarr_version,
            format_name=format_name,
            parent_unit=image_unit(ome),
            dataset_name=dataset_name,
        ),
    )
    return images + labels


async def _explore_bioformats2raw(
    ctx: ExploreContext, uri: SourceURI, zarr_version: int, fallback: str
) -> list[LayerSpec]:
    """A bioformats2raw container: images in the series groups `0`, `1`, ... (listed in
    `OME/`'s `series` when present, else just `0`); navigated by metadata, not listing."""
    meta_name = ".zattrs" if zarr_version == 2 else "zarr.json"
    fetched: list[Any] = await asyncio.gather(
        ctx.fetch_json(uri, f"OME/{meta_name}"), ctx.fetch_json(uri, f"0/{meta_name}")
    )
    ome_doc = fetched[0]
    ome_group = ome_doc if zarr_version == 2 else _ome_of_zarr_json(ome_doc)
    series = ome_group.get("series") if isinstance(ome_group, dict) else None
    if not isinstance(series, list) or not series or not all(isinstance(p, str) for p in series):
        series = ["0"]

    async def one(path: str) -> list[LayerSpec]:
        image = uri.join(path)
        doc = await ctx.fetch_json(image, meta_name)
        ome = doc if zarr_version == 2 else _ome_of_zarr_json(doc)
        if not isinstance(ome, dict) or "multiscales" not in ome:
            ctx.note(f"{image.url}: bioformats2raw series {path!r} skipped: no multiscale image")
            return []
        return await _explore_image(ctx, image, ome, zarr_version, fallback)

    results = await asyncio.gather(*(one(p) for p in series))
    layers = [layer for result in results for layer in result]
    if not layers:
        raise MalformedMetadataError(uri.join(meta_name).url, "bioformats2raw container without any multiscale image")
    return layers


def _not_an_image(attrs: dict[str, Any], where: str) -> NotThisFormat:
    for key, what in (("plate", "an HCS plate"), ("well", "an HCS well"), ("labels", "a labels group")):
        if key in attrs:
            return NotThisFormat(f"{where} describes {what}, not a multiscale image")
    return NotThisFormat(f"{where} has no multiscales")


async def _explore_v04(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    attrs = await ctx.fetch_json(uri, ".zattrs")
    if attrs is None:
        raise NotThisFormat("no .zattrs")
    if not isinstance(attrs, dict):
        raise NotThisFormat(".zattrs is not a JSON object")
    inner = attrs.get("ome")
    ome: dict[str, Any] = inner if isinstance(inner, dict) and "multiscales" in inner else attrs
    if "multiscales" not in ome:
        if "bioformats2raw.layout" in ome:
            return await _explore_bioformats2raw(ctx, uri, 2, "ngff-0.4")
        raise _not_an_image(attrs, ".zattrs")
    return await _explore_image(ctx, uri, ome, 2, "ngff-0.4")


async def _explore_v05(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    doc = await ctx.fetch_json(uri, "zarr.json")
    if doc is None:
        raise NotThisFormat("no zarr.json")
    if not isinstance(doc, dict) or doc.get("zarr_format") != 3:
        raise NotThisFormat("zarr.json is not Zarr v3 metadata")
    if doc.get("node_type") != "group":
        raise NotThisFormat(f"zarr.json describes a {doc.get('node_type')!r} node, not an OME-Zarr group")
    ome = _ome_of_zarr_json(doc)
    if ome is None:
        raise NotThisFormat("zarr.json has no attributes.ome")
    if "multiscales" not in ome:
        if "bioformats2raw.layout" in ome:
            return await _explore_bioformats2raw(ctx, uri, 3, "ngff-0.5")
        raise _not_an_image(ome, "zarr.json attributes.ome")
    return await _explore_image(ctx, uri, ome, 3, "ngff-0.5")


NGFF_V04_EXPLORER = Explorer("ngff-0.4", (".zattrs",), frozenset({"zarr", "zarr2"}), _explore_v04)


NGFF_V05_EXPLORER = Explorer("ngff-0.5", ("zarr.json",), frozenset({"zarr", "zarr3"}), _explore_v05)


EXPLORERS: list[Explorer] = [NGFF_V04_EXPLORER, NGFF_V05_EXPLORER]
