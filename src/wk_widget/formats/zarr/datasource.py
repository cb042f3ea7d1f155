"""How the WEBKNOSSOS explorer finds a Zarr mag that a datasource names (`Format.datasource_mags`):
the first candidate folder holding `.zarray` (zarr) or `zarr.json` (zarr3)."""

from __future__ import annotations

from collections.abc import Sequence

from ...errors import MalformedMetadataError
from ...storage import SourceURI
from ..base import DatasourceMags, ExploreContext, MagLocator
from .metadata import ZarrArrayMeta, parse_zarr_json, parse_zarray


def _locator(zarr_version: int) -> MagLocator:
    name = ".zarray" if zarr_version == 2 else "zarr.json"

    async def locate(ctx: ExploreContext, candidates: Sequence[SourceURI], what: str) -> tuple[SourceURI, ZarrArrayMeta]:
        for candidate in candidates:
            doc = await ctx.fetch_json(candidate, name)
            if doc is not None:
                meta = parse_zarray(doc, candidate.url) if zarr_version == 2 else parse_zarr_json(doc, candidate.url)
                return candidate, meta
        raise MalformedMetadataError(candidates[0].url, f"{what}: no Zarr array here ({name} not found)")

    return locate


DATASOURCE_MAGS = {
    "zarr": DatasourceMags(implicit_paths=True, locate=_locator(2)),
    "zarr3": DatasourceMags(implicit_paths=True, locate=_locator(3)),
}
