"""How the WEBKNOSSOS explorer reads an N5 mag that a datasource names (`Format.datasource_mags`):
mags need explicit paths; their attributes are fetched while exploring because the array's
rank decides how the datasource's `axisOrder` counts (see formats/_shared/axis_order.py)."""

from __future__ import annotations

from collections.abc import Sequence

from ...storage import SourceURI
from ..base import DatasourceMags, ExploreContext
from .metadata import ATTRIBUTES, N5ArrayMeta, parse_attributes


async def _locate(ctx: ExploreContext, candidates: Sequence[SourceURI], what: str) -> tuple[SourceURI, N5ArrayMeta | None]:
    mag_uri = candidates[0]
    attrs = await ctx.fetch_json(mag_uri, ATTRIBUTES)
    if attrs is None:  # the reader will say so; the rank follows from axisOrder
        return mag_uri, None
    return mag_uri, parse_attributes(attrs, mag_uri.join(ATTRIBUTES).url)


DATASOURCE_MAGS = {"n5": DatasourceMags(locate=_locate)}
