"""The precomputed explorer: one layer per `info`, one mag per scale."""

from __future__ import annotations

from ...storage import SourceURI
from .._shared.layers import category_from_name, sanitize_name
from ..base import (
    BoundingBox,
    Category,
    ExploreContext,
    Explorer,
    LayerSpec,
    MagSpec,
    NotThisFormat,
    element_class_of,
)
from .info import _INFO, AXIS_ORDER, _mag_of, parse_info


def _layer_name(uri: SourceURI) -> str:
    return sanitize_name(uri.name) or "layer"


async def _explore(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    info = await ctx.fetch_json(uri, _INFO)
    if info is None:
        raise NotThisFormat("no info file")
    where = uri.join(_INFO).url
    if not isinstance(info, dict):
        raise NotThisFormat("info is not a JSON object")
    kind = info.get("@type")
    if "scales" not in info and not (isinstance(kind, str) and kind.startswith("neuroglancer")):
        raise NotThisFormat("info has no scales")
    scales = parse_info(info, where)
    first = scales[0]
    mags: list[MagSpec] = []
    seen: set[tuple[int, int, int]] = set()
    for scale in scales:
        mag = _mag_of(scale, first, where)
        if mag in seen:  # the same resolution twice (e.g. another chunk size): keep the first
            continue
        seen.add(mag)
        mags.append(MagSpec(mag, uri.join(scale.key), dict(AXIS_ORDER), None, scale))
    mags.sort(key=lambda m: (m.mag[0] * m.mag[1] * m.mag[2], m.mag))
    element_class = element_class_of(first.dtype, where)
    name = _layer_name(uri)
    category: Category
    if first.volume_type == "segmentation":
        category, source = "segmentation", "precomputed-type"
    elif first.volume_type == "image":
        category, source = "color", "precomputed-type"
    else:
        category, source = category_from_name(name, element_class)
    return [
        LayerSpec(
            name=name,
            category=category,
            data_format="neuroglancerPrecomputed",
            element_class=element_class,
            bounding_box=BoundingBox(first.voxel_offset, first.size),
            mags=mags,
            num_channels=first.num_channels,
            voxel_size=first.resolution,
            unit="nanometer",
            largest_segment_id=None,
            category_source=source,
            source_uri=uri.url,
            format_name="precomputed",
            dataset_name=uri.name or None,
        )
    ]


PRECOMPUTED_EXPLORER = Explorer("precomputed", (_INFO,), frozenset({"precomputed"}), _explore)


EXPLORERS: list[Explorer] = [PRECOMPUTED_EXPLORER]
