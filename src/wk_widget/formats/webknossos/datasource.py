"""datasource-properties.json in: layers, mags, scale and axis orders parsed and validated (pure), then built into LayerSpecs."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from ...errors import MalformedMetadataError, UnsupportedDataError
from ...storage import SourceURI
from ...storage.origins import check_metadata_path
from ...units import normalize_unit
from .._shared.axis_order import implied_rank
from ..base import (
    ELEMENT_CLASSES,
    INTEGER_ELEMENT_CLASSES,
    AdditionalAxis,
    BoundingBox,
    Category,
    DataFormat,
    FormatTable,
    LayerSpec,
    MagSpec,
    Vec3,
    element_class_of,
    installed_format_table,
)
from ..zarr import ZarrArrayMeta, validate_readable

logger = logging.getLogger(__name__)


DATASOURCE_FILE = "datasource-properties.json"


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def parse_mag(value: Any) -> Vec3 | None:
    """A mag as [x, y, z], a scalar, or a literal "2" / "2-2-1"; None if invalid."""
    parts: list[Any]
    if isinstance(value, int) and not isinstance(value, bool):
        parts = [value] * 3
    elif isinstance(value, str):
        text = value.strip()
        parts = text.split("-") if "-" in text else [text] * 3
        try:
            parts = [int(p) for p in parts]
        except ValueError:
            return None
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        return None
    if len(parts) != 3 or not all(isinstance(p, int) and not isinstance(p, bool) and p >= 1 for p in parts):
        return None
    return (parts[0], parts[1], parts[2])


def mag_literal(mag: Vec3, allow_scalar: bool = True) -> str:
    """`2` when all components are equal (and allowed), else `2-2-1`."""
    if allow_scalar and mag[0] == mag[1] == mag[2]:
        return str(mag[0])
    return "-".join(str(m) for m in mag)


def _resolve(table: FormatTable, root: SourceURI, path: str) -> SourceURI:
    if _SCHEME.match(path):
        target = table.parse_uri(path)
        # A remote datasource never leads to local files.
        check_metadata_path(root, target, root.join(DATASOURCE_FILE).url)
        return target
    if path.startswith("/") and root.scheme == "file":
        return table.parse_uri(path)
    return root.join(path)


def mag_candidates(table: FormatTable, root: SourceURI, layer_name: str, mag: Vec3, path: str | None) -> list[SourceURI]:
    """Where a mag may be: its `path`, else `<layer>/2` (then `<layer>/2-2-2`) as WEBKNOSSOS writes it."""
    if path:
        return [_resolve(table, root, path)]
    candidates = [root.join(layer_name, mag_literal(mag))]
    if mag[0] == mag[1] == mag[2]:
        candidates.append(root.join(layer_name, mag_literal(mag, allow_scalar=False)))
    return candidates


def _scale(doc: dict[str, Any], where: str) -> tuple[tuple[float, float, float], str]:
    raw = doc.get("scale")
    unit_raw: Any = "nanometer"
    factor: Any = raw
    if isinstance(raw, dict):
        factor = raw.get("factor")
        unit_raw = raw.get("unit", "nanometer") or "nanometer"
    if (
        not isinstance(factor, list)
        or len(factor) != 3
        or not all(isinstance(f, int | float) and not isinstance(f, bool) and f > 0 for f in factor)
    ):
        raise MalformedMetadataError(where, f"scale must give three positive numbers, got {raw!r}")
    unit = normalize_unit(unit_raw) if isinstance(unit_raw, str) else None
    if unit is None:
        raise UnsupportedDataError(where, f"scale unit {unit_raw!r} is not a known length unit")
    return (float(factor[0]), float(factor[1]), float(factor[2])), unit


def _axis_order(raw: Any, where: str) -> dict[str, int] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(
        k in ("x", "y", "z", "c") and isinstance(v, int) and not isinstance(v, bool) and v >= 0 for k, v in raw.items()
    ) or "x" not in raw or "y" not in raw:
        raise MalformedMetadataError(where, f"invalid axisOrder {raw!r}")
    return {k: int(v) for k, v in raw.items()}


def named_axis_order(meta: ZarrArrayMeta) -> dict[str, int] | None:
    """The axis order of a Zarr array's dimension_names if they name x and y (WEBKNOSSOS
    uses it when a mag names none), else None."""
    if not meta.dimension_names:
        return None
    names = [n.lower() if isinstance(n, str) else None for n in meta.dimension_names]
    if "x" not in names or "y" not in names:
        return None
    order = {n: i for i, n in enumerate(names) if n in ("x", "y", "z")}
    for alias in ("c", "channel", "channels"):
        if alias in names:
            order["c"] = names.index(alias)
            break
    return order


def _layer_base(layer: dict[str, Any], where: str) -> dict[str, Any]:
    name = layer.get("name")
    if not isinstance(name, str) or not name:
        raise MalformedMetadataError(where, f"a layer needs a name, got {layer.get('name')!r}")
    lwhere = f"{where} (layer {name!r})"
    category = layer.get("category")
    if category not in ("color", "segmentation"):
        raise MalformedMetadataError(lwhere, f"category must be 'color' or 'segmentation', got {category!r}")
    element_class = layer.get("elementClass")
    if element_class not in ELEMENT_CLASSES:
        raise UnsupportedDataError(lwhere, f"unsupported elementClass {element_class!r}")
    try:
        bbox = BoundingBox.from_json(layer["boundingBox"])
    except (KeyError, TypeError, ValueError, IndexError):
        raise MalformedMetadataError(lwhere, f"invalid boundingBox {layer.get('boundingBox')!r}") from None
    num_channels = layer.get("numChannels", 3 if element_class == "uint24" else 1)
    if not isinstance(num_channels, int) or isinstance(num_channels, bool) or num_channels < 1:
        raise MalformedMetadataError(lwhere, f"invalid numChannels {num_channels!r}")
    if element_class == "uint24" and num_channels != 3:
        raise MalformedMetadataError(lwhere, f"elementClass uint24 is 3 channels of uint8, not {num_channels}")
    if category == "segmentation" and element_class not in INTEGER_ELEMENT_CLASSES:
        raise UnsupportedDataError(lwhere, f"a segmentation layer needs an integer elementClass, not {element_class!r}")
    largest = layer.get("largestSegmentId")
    if largest is not None and (not isinstance(largest, int) or isinstance(largest, bool)):
        raise MalformedMetadataError(lwhere, f"invalid largestSegmentId {largest!r}")
    additional: list[AdditionalAxis] = []
    for axis in layer.get("additionalAxes") or []:
        try:
            bounds = axis["bounds"]
            additional.append(AdditionalAxis(str(axis["name"]), (int(bounds[0]), int(bounds[1])), int(axis["index"])))
        except (KeyError, TypeError, ValueError, IndexError):
            raise MalformedMetadataError(lwhere, f"invalid additional axis {axis!r}") from None
    view = layer.get("defaultViewConfiguration")
    transforms = layer.get("coordinateTransformations")
    return {
        "name": name,
        "category": category,
        "element_class": element_class,
        "bounding_box": bbox,
        "num_channels": num_channels,
        "largest_segment_id": largest if category == "segmentation" else None,
        "additional_axes": additional,
        "default_view_configuration": view if isinstance(view, dict) else None,
        "coordinate_transformations": transforms if isinstance(transforms, list) and transforms else None,
    }


_MagPlan = tuple[Vec3, str | None, dict[str, int] | None, int | None]  # mag, path, axisOrder, channelIndex


@dataclass
class _Plan:
    voxel_size: tuple[float, float, float]
    unit: str
    dataset_name: str
    layers: list[tuple[dict[str, Any], DataFormat, list[_MagPlan]]]
    notes: list[str]


def _plan(table: FormatTable, doc: Any, root: SourceURI, where: str) -> _Plan:
    """Parse and validate a datasource document (pure)."""
    if not isinstance(doc, dict):
        raise MalformedMetadataError(where, "not a JSON object")
    layers_raw = doc.get("dataLayers")
    if not isinstance(layers_raw, list):
        raise MalformedMetadataError(where, "dataLayers must be a list")
    voxel_size, unit = _scale(doc, where)
    ds_id = doc.get("id")
    dataset_name = ds_id.get("name") if isinstance(ds_id, dict) and isinstance(ds_id.get("name"), str) else None
    plan = _Plan(voxel_size, unit, dataset_name or root.name, [], [])
    for layer in layers_raw:
        if not isinstance(layer, dict):
            raise MalformedMetadataError(where, f"invalid layer {layer!r}")
        base = _layer_base(layer, where)
        lwhere = f"{where} (layer {base['name']!r})"
        data_format = layer.get("dataFormat")
        if not isinstance(data_format, str) or data_format not in table.data_formats():
            plan.notes.append(
                f"{where}: layer {base['name']!r} skipped: data format {layer.get('dataFormat')!r} cannot be streamed"
            )
            continue
        mags_raw = layer.get("mags")
        if not isinstance(mags_raw, list) or not mags_raw:
            raise MalformedMetadataError(lwhere, "a layer needs a non-empty list of mags")
        mags: list[_MagPlan] = []
        for m in mags_raw:
            if not isinstance(m, dict):
                raise MalformedMetadataError(lwhere, f"invalid mag {m!r}")
            mag = parse_mag(m.get("mag"))
            if mag is None:
                raise MalformedMetadataError(lwhere, f"invalid mag {m.get('mag')!r}")
            path = m.get("path")
            if path is not None and not isinstance(path, str):
                raise MalformedMetadataError(lwhere, f"invalid mag path {path!r}")
            channel_index = m.get("channelIndex")
            if channel_index is not None and (not isinstance(channel_index, int) or isinstance(channel_index, bool)):
                raise MalformedMetadataError(lwhere, f"invalid channelIndex {channel_index!r}")
            mags.append((mag, path or None, _axis_order(m.get("axisOrder"), lwhere), channel_index))
        if not table.datasource_mags(data_format).implicit_paths and any(p is None for _, p, _, _ in mags):
            plan.notes.append(f"{where}: layer {base['name']!r} skipped: its {data_format} mags need explicit paths")
            continue
        plan.layers.append((base, data_format, mags))
    if not plan.layers:
        implicit = [df for df in table.data_formats() if table.datasource_mags(df).implicit_paths]
        explicit = [df for df in table.data_formats() if df not in implicit]
        raise UnsupportedDataError(
            where, f"lists no layer that can be streamed ({', '.join(implicit)}, or {'/'.join(explicit)} with mag paths)"
        )
    return plan


def _implied_rank(axis_order: dict[str, int] | None, base: dict[str, Any]) -> int:
    """The array's rank from its datasource entry (the array is not at hand)."""
    extra = [a.index for a in base["additional_axes"]]
    if axis_order is not None:
        return implied_rank(axis_order, extra)
    return len(extra) + (3 if base["num_channels"] == 1 else 4)


def _build(
    table: FormatTable,
    plan: _Plan,
    root: SourceURI,
    where: str,
    located: list[tuple[SourceURI, Any]],
) -> list[LayerSpec]:
    """LayerSpecs from a plan and each mag's (URI, array metadata or None), in plan order."""
    out: list[LayerSpec] = []
    i = 0
    for base, data_format, mags in plan.layers:
        lwhere = f"{where} (layer {base['name']!r})"
        specs: list[MagSpec] = []
        additional = base["additional_axes"]
        rule = table.axis_order(data_format)
        for mag, _path, axis_order, channel_index in mags:
            mag_uri, meta = located[i]
            i += 1
            if isinstance(meta, ZarrArrayMeta):
                actual = element_class_of(meta.dtype, mag_uri.url)
                if actual != base["element_class"] and (actual, base["element_class"]) != ("uint8", "uint24"):
                    raise MalformedMetadataError(
                        mag_uri.url,
                        f"array data type {meta.dtype} ({actual}) differs from the layer's elementClass "
                        f"{base['element_class']!r} in {DATASOURCE_FILE}",
                    )
                validate_readable(meta, mag_uri.url)
                order = axis_order or named_axis_order(meta) or rule.default(meta.ndim)
                if any(v >= meta.ndim for v in order.values()):
                    raise MalformedMetadataError(
                        lwhere, f"axisOrder {order} names dimensions beyond the array's {meta.ndim} ({mag_uri.url})"
                    )
            elif meta is not None or rule.rank_dependent:
                # the format's own counting (N5: positions in its x-first dimensions)
                rank = meta.ndim if meta is not None else _implied_rank(axis_order, base)
                order = rule.from_datasource(axis_order, rank)
                if any(not 0 <= v < rank for v in order.values()):
                    raise MalformedMetadataError(
                        lwhere, f"axisOrder {axis_order} names dimensions beyond the array's {rank} ({mag_uri.url})"
                    )
                additional = [
                    AdditionalAxis(a.name, a.bounds, rule.axis_index_to_datasource(a.index, rank))
                    for a in base["additional_axes"]
                ]
            else:
                order = rule.from_datasource(axis_order, 4)  # rank unknown without the array
            specs.append(MagSpec(mag, mag_uri, order, channel_index, meta))
        specs.sort(key=lambda s: (s.mag[0] * s.mag[1] * s.mag[2], s.mag))
        category: Category = base["category"]
        out.append(
            LayerSpec(
                name=base["name"],
                category=category,
                data_format=data_format,
                element_class=base["element_class"],
                bounding_box=base["bounding_box"],
                mags=specs,
                num_channels=base["num_channels"],
                voxel_size=plan.voxel_size,
                unit=plan.unit,
                largest_segment_id=base["largest_segment_id"],
                additional_axes=additional,
                default_view_configuration=base["default_view_configuration"],
                coordinate_transformations=base["coordinate_transformations"],
                category_source="datasource",
                source_uri=root.url,
                format_name="webknossos",
                dataset_name=plan.dataset_name,
            )
        )
    return out


def layers_from_datasource(doc: Any, root: SourceURI) -> list[LayerSpec]:
    """The layers of a datasource document, without any I/O (e.g. a file we exported).

    Mag paths resolve against `root`; a mag without a path goes to `<layer>/<mag literal>`
    unchecked. `array_meta` stays None: the readers fetch the level metadata when opened.
    Layers in formats that cannot be streamed are skipped (logged).
    """
    table = installed_format_table()
    where = root.join(DATASOURCE_FILE).url
    plan = _plan(table, doc, root, where)
    for note in plan.notes:
        logger.warning("%s", note)
    located: list[tuple[SourceURI, Any]] = [
        (mag_candidates(table, root, base["name"], mag, path)[0], None)
        for base, _fmt, mags in plan.layers
        for mag, path, _, _ in mags
    ]
    return _build(table, plan, root, where, located)
