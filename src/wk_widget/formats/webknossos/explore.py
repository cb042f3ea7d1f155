"""The WEBKNOSSOS explorer: a datasource-properties.json at the root; its mags' array metadata fetched concurrently."""

from __future__ import annotations

import asyncio
from typing import Any

from ...storage import SourceURI
from ..base import (
    DataFormat,
    ExploreContext,
    Explorer,
    LayerSpec,
    NotThisFormat,
    Vec3,
)
from .datasource import DATASOURCE_FILE, _build, _plan, mag_candidates


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
    ) -> tuple[SourceURI, Any]:
        candidates = mag_candidates(ctx.formats, uri, base["name"], mag, path)
        locator = ctx.formats.datasource_mags(data_format).locate
        if locator is None:  # the reader fetches the metadata when opened
            return candidates[0], None
        return await locator(ctx, candidates, f"mag {list(mag)} of layer {base['name']!r}")

    located = await asyncio.gather(
        *(locate(base, fmt, mag, path) for base, fmt, mags in plan.layers for mag, path, _, _ in mags)
    )
    return _build(ctx.formats, plan, uri, where, list(located))


WEBKNOSSOS_EXPLORER = Explorer("webknossos", (DATASOURCE_FILE,), frozenset({"webknossos"}), _explore_webknossos)


EXPLORERS: list[Explorer] = [WEBKNOSSOS_EXPLORER]
