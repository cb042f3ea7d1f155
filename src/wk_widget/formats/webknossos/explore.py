"""The WEBKNOSSOS explorer: a datasource-properties.json at the root; its mags' array metadata fetched concurrently."""

from __future__ import annotations

import asyncio
from typing import Any

from ...errors import MalformedMetadataError
from ...storage import SourceURI
from ..base import (
    DataFormat,
    ExploreContext,
    Explorer,
    LayerSpec,
    NotThisFormat,
    Vec3,
)
from ..n5 import ATTRIBUTES as N5_ATTRIBUTES
from ..n5 import N5ArrayMeta
from ..n5 import parse_attributes as parse_n5_attributes
from ..zarr import ZarrArrayMeta, parse_zarr_json, parse_zarray
from .datasource import DATASOURCE_FILE, _build, _plan, _resolve, mag_literal


async def _fetch_meta(ctx: ExploreContext, path: SourceURI, zarr_version: int) -> ZarrArrayMeta | None:
    name = ".zarray" if zarr_version == 2 else "zarr.json"
    doc = await ctx.fetch_json(path, name)
    if doc is None:
        return None
    return parse_zarray(doc, path.url) if zarr_version == 2 else parse_zarr_json(doc, path.url)


async def _locate_mag(
    ctx: ExploreContext, root: SourceURI, layer_name: str, mag: Vec3, path: str | None, zarr_version: int
) -> tuple[SourceURI, ZarrArrayMeta]:
    if path:
        candidates = [_resolve(ctx.formats, root, path)]
    else:
        candidates = [root.join(layer_name, mag_literal(mag))]
        if mag[0] == mag[1] == mag[2]:
            candidates.append(root.join(layer_name, mag_literal(mag, allow_scalar=False)))
    for candidate in candidates:
        meta = await _fetch_meta(ctx, candidate, zarr_version)
        if meta is not None:
            return candidate, meta
    name = ".zarray" if zarr_version == 2 else "zarr.json"
    raise MalformedMetadataError(
        candidates[0].url, f"mag {list(mag)} of layer {layer_name!r}: no Zarr array here ({name} not found)"
    )


async def _explore_webknossos(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    doc = await ctx.fetch_json(uri, DATASOURCE_FILE)
    if doc is None:
        raise NotThisFormat(f"no {DATASOURCE_FILE}")
    where = uri.join(DATASOURCE_FILE).url
    plan = _plan(ctx.formats, doc, uri, where)
    for note in plan.notes:
        ctx.note(note)

    async def locate(
        base: dict[str, Any], data_format: DataFormat, mag: Vec3, path: str | None
    ) -> tuple[SourceURI, ZarrArrayMeta | N5ArrayMeta | None]:
        if data_format in ("zarr", "zarr3"):
            return await _locate_mag(ctx, uri, base["name"], mag, path, 2 if data_format == "zarr" else 3)
        assert path is not None
        mag_uri = _resolve(ctx.formats, uri, path)
        if data_format == "n5":  # its rank decides how axisOrder counts (see datasource_axes)
            attrs = await ctx.fetch_json(mag_uri, N5_ATTRIBUTES)
            if attrs is None:  # the reader will say so; the rank follows from axisOrder
                return mag_uri, None
            return mag_uri, parse_n5_attributes(attrs, mag_uri.join(N5_ATTRIBUTES).url)
        return mag_uri, None

    located = await asyncio.gather(
        *(locate(base, fmt, mag, path) for base, fmt, mags in plan.layers for mag, path, _, _ in mags)
    )
    return _build(ctx.formats, plan, uri, where, list(located))


WEBKNOSSOS_EXPLORER = Explorer("webknossos", (DATASOURCE_FILE,), frozenset({"webknossos"}), _explore_webknossos)


EXPLORERS: list[Explorer] = [WEBKNOSSOS_EXPLORER]
