"""The dataset model: Dataset, Layer, Mag; explore, open_datasource.

A `Dataset` keeps each layer's explored description (`LayerSpec`, in the layer's own
voxel size) and derives the common voxel size and every layer's effective mags and
bounding box from it, so adding a finer layer later rescales the others consistently.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import neuroglancer, units
from ._atomic import atomic_write_text
from ._dask import level_to_dask
from ._xarray import level_to_xarray
from .assembly import Vec3, Vec3f, common_scale
from .datasource import layer_json, neuroglancer_layer
from .engine import LevelHandle
from .errors import InvalidURIError, MalformedMetadataError, RemoteDatasetError
from .explore import explore_specs, report_error
from .formats import layers_from_datasource, parse_uri
from .formats.base import (
    INTEGER_ELEMENT_CLASSES,
    AdditionalAxis,
    BoundingBox,
    LayerSpec,
    MagSpec,
    UriReport,
    load_json,
)
from .levels import LevelView, level_view, read_level
from .storage import (
    Credentials,
    RequestMeter,
    coerce_credentials,
    run_sync,
    storage_config_for,
    storage_for,
)
from .storage.origins import NOTEBOOK, Access

if TYPE_CHECKING:
    import dask.array


class Mag:
    """One resolution level of a layer, in the dataset's common voxel size."""

    def __init__(self, layer: Layer, spec: MagSpec, mag: Vec3) -> None:
        self._layer = layer
        self._spec = spec
        self.mag: Vec3 = mag
        self._data: dask.array.Array | None = None

    @property
    def path(self) -> str:
        storage = storage_for(self._spec.path, self._layer._spec.credentials, self._layer._spec.access)
        return storage.display(self._spec.path.fs_path)

    @property
    def spec(self) -> MagSpec:
        return self._spec

    @property
    def handle(self) -> LevelHandle:
        return LevelHandle(
            storage_config_for(self._spec.path, self._layer._spec.credentials, self._layer._spec.access),
            self._layer.data_format,
            self._spec,
        )

    @property
    def dims(self) -> tuple[str, ...]:
        return (*(a.name for a in self._layer.additional_axes), "c", "x", "y", "z")

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of `data`: extra axes, channels, then 0 .. ceil((topLeft + size) / mag)."""
        bb = self._layer.bounding_box
        end = bb.bottom_right
        spatial = tuple(math.ceil(end[i] / self.mag[i]) for i in range(3))
        extra = tuple(a.bounds[1] for a in self._layer.additional_axes)
        return (*extra, self._layer.num_channels, *spatial)

    @property
    def data(self) -> dask.array.Array:
        """A lazy, read-only dask array with dims `self.dims` (absolute voxel coordinates)."""
        if self._data is None:
            self._data = self.data_with_chunks(None)
        return self._data

    def data_with_chunks(self, chunks: Any) -> dask.array.Array:
        """`data` with other blocks: "storage" (one per chunk, or shard), an int per spatial
        axis, or one size per dim (-1: whole axis); blocks stay on the storage grid."""
        layer = self._layer
        meters = (layer.meter, layer._dataset.meter)
        return level_to_dask(layer._level_view(self), self.shape, meters, chunks)

    def __repr__(self) -> str:
        return f"Mag({self.mag}, path={self.path!r})"


class Layer:
    """One layer of a dataset (color or segmentation)."""

    def __init__(self, dataset: Dataset, spec: LayerSpec, name: str) -> None:
        self._dataset = dataset
        self._spec = spec
        self._name = name
        self._category = spec.category
        self._factor: Vec3 = (1, 1, 1)
        self._mags: list[Mag] = []
        self.meter = RequestMeter()
        self._set_factor((1, 1, 1))

    # -- descriptive attributes -----------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def category(self) -> str:
        return self._category

    @category.setter
    def category(self, value: str) -> None:
        if value not in ("color", "segmentation"):
            raise ValueError("category must be 'color' or 'segmentation'")
        if value == "segmentation" and self.element_class not in INTEGER_ELEMENT_CLASSES:
            # WEBKNOSSOS rejects segmentation layers of float data
            raise ValueError(
                f"layer {self.name!r} holds {self.element_class} values; a segmentation layer needs integers"
            )
        self._category = value  # type: ignore[assignment]

    @property
    def category_source(self) -> str:
        return "user" if self._category != self._spec.category else self._spec.category_source

    @property
    def element_class(self) -> str:
        return self._spec.element_class

    @property
    def data_format(self) -> str:
        return self._spec.data_format

    @property
    def bounding_box(self) -> BoundingBox:
        bb = self._spec.bounding_box
        f = self._factor
        return BoundingBox(
            (bb.top_left[0] * f[0], bb.top_left[1] * f[1], bb.top_left[2] * f[2]),
            (bb.size[0] * f[0], bb.size[1] * f[1], bb.size[2] * f[2]),
        )

    @property
    def num_channels(self) -> int:
        return self._spec.num_channels

    @property
    def largest_segment_id(self) -> int | None:
        return self._spec.largest_segment_id

    @property
    def mags(self) -> list[Mag]:
        return list(self._mags)

    @property
    def additional_axes(self) -> list[AdditionalAxis]:
        return list(self._spec.additional_axes)

    @property
    def default_view_configuration(self) -> dict[str, Any] | None:
        return self._spec.default_view_configuration

    @property
    def segment_metadata(self) -> dict[str, Any] | None:
        """Colours and properties of segment ids the source declares (OME image-label)."""
        return self._spec.segment_metadata

    @property
    def coordinate_transformations(self) -> list[dict[str, Any]] | None:
        return self._spec.coordinate_transformations

    @property
    def source_uri(self) -> str:
        return self._spec.source_uri

    @property
    def format_name(self) -> str:
        return self._spec.format_name

    @property
    def spec(self) -> LayerSpec:
        return self._spec

    def _set_factor(self, factor: Vec3) -> None:
        self._factor = factor
        self._mags = [
            Mag(self, m, (m.mag[0] * factor[0], m.mag[1] * factor[1], m.mag[2] * factor[2]))
            for m in self._spec.mags
        ]

    def get_mag(self, mag: Sequence[int] | int) -> Mag:
        want = (int(mag),) * 3 if isinstance(mag, int) else tuple(int(v) for v in mag)
        for m in self._mags:
            if m.mag == want:
                return m
        have = ", ".join("-".join(map(str, m.mag)) for m in self._mags)
        raise ValueError(f"layer {self.name!r} has no mag {want}; it has {have}")

    def _level_view(self, mag: Mag) -> LevelView:
        return level_view(mag.handle, mag.spec, self._spec)

    # -- reading ----------------------------------------------------------------------
    async def read_async(
        self,
        offset: Sequence[int],
        size: Sequence[int],
        mag: Sequence[int] | int = (1, 1, 1),
        channel: int | None = None,
        **extra_axes: int,
    ) -> np.ndarray:
        """The box [offset, offset + size) in mag-1 voxels, read at `mag`, dims (c, x, y, z)."""
        level = self.get_mag(mag)
        m = level.mag
        if len(offset) != 3 or len(size) != 3:
            raise ValueError("offset and size are (x, y, z) triples")
        start = [int(offset[i]) // m[i] for i in range(3)]
        stop = [start[i] + max(0, int(size[i]) // m[i]) for i in range(3)]
        if channel is not None and not 0 <= channel < self.num_channels:
            raise ValueError(f"channel {channel} out of range 0..{self.num_channels - 1}")
        channels = (channel, channel + 1) if channel is not None else (0, self.num_channels)
        names = {a.name: a for a in self._spec.additional_axes}
        for key, value in extra_axes.items():
            if key not in names:
                raise ValueError(f"layer {self.name!r} has no axis {key!r}")
            lo, hi = names[key].bounds
            if not lo <= int(value) < hi:
                raise ValueError(f"{key}={value} out of range {lo}..{hi - 1}")
        extra = [
            (int(extra_axes[a.name]), int(extra_axes[a.name]) + 1) if a.name in extra_axes else (a.bounds[0], a.bounds[0] + 1)
            for a in self._spec.additional_axes
        ]
        box = [*extra, channels, *zip(start, stop, strict=True)]
        out = await read_level(self._level_view(level), box, (self.meter, self._dataset.meter))
        # Drop the extra axes (each was picked at one index): the result is (c, x, y, z).
        return out.reshape(out.shape[len(extra) :])

    def read(
        self,
        offset: Sequence[int],
        size: Sequence[int],
        mag: Sequence[int] | int = (1, 1, 1),
        channel: int | None = None,
        **extra_axes: int,
    ) -> np.ndarray:
        """Synchronous `read_async` (the fast path the viewer uses too)."""
        return run_sync(self.read_async(offset, size, mag, channel, **extra_axes))

    def to_xarray(self, mag: Sequence[int] | int = (1, 1, 1)) -> Any:
        """A lazy `xarray.DataArray` over `get_mag(mag).data`: dims, physical coordinates, attrs."""
        level = self.get_mag(mag)
        ds = self._dataset
        attrs = {
            "unit": ds.unit,
            "layer": self.name,
            "category": self.category,
            "element_class": self.element_class,
            "mag": list(level.mag),
            "voxel_size": list(ds.voxel_size),
            "bounding_box": self.bounding_box.to_json(),
        }
        return level_to_xarray(level.data, level.dims, level.mag, ds.voxel_size, self.additional_axes, self.name, attrs)

    # -- export -----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        mags = [(m.mag, m.path, m.spec) for m in self._mags]
        return layer_json(self._spec, self.name, self.category, self.bounding_box, mags)

    def __repr__(self) -> str:
        bb = self.bounding_box
        return (
            f"Layer({self.name!r}, {self.category}, {self.data_format}, {self.element_class}, "
            f"bbox={bb.top_left}+{bb.size}, mags={[m.mag for m in self._mags]})"
        )


# ---------------------------------------------------------------------------------------
# Dataset


def _unique_name(name: str, taken: set[str]) -> str:
    base = name or "layer"
    if base not in taken:
        return base
    i = 2
    while f"{base}_{i}" in taken:
        i += 1
    return f"{base}_{i}"


def _clean_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_\-.]", "_", name).strip("._") or "dataset"
    return cleaned


class Dataset:
    """Several layers with one voxel size; exports WEBKNOSSOS's datasource-properties.json."""

    def __init__(
        self,
        name: str | None = None,
        voxel_size: Sequence[float] | None = None,
        unit: str | None = None,
    ) -> None:
        self._name = name
        self._user_voxel_size: Vec3f | None = None
        self._user_unit: str | None = None
        self._voxel_size: Vec3f = (1.0, 1.0, 1.0)
        self._unit = "nanometer"
        self._layers: dict[str, Layer] = {}
        self.reports: list[UriReport] = []
        self.meter = RequestMeter()
        if unit is not None:
            self.unit = unit
        if voxel_size is not None:
            self.voxel_size = voxel_size
        self._reassemble()

    # -- attributes ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        if self._name:
            return self._name
        for layer in self._layers.values():
            if layer.spec.dataset_name:
                return _clean_name(layer.spec.dataset_name)
        return "dataset"

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value).strip() or None

    @property
    def voxel_size(self) -> Vec3f:
        return self._voxel_size

    @voxel_size.setter
    def voxel_size(self, value: Sequence[float]) -> None:
        vs = tuple(float(v) for v in value)
        if len(vs) != 3 or not all(math.isfinite(v) and v > 0 for v in vs):
            raise ValueError("voxel_size must be three positive numbers (x, y, z)")
        self._user_voxel_size = (vs[0], vs[1], vs[2])
        self._reassemble()

    @property
    def unit(self) -> str:
        return self._unit

    @unit.setter
    def unit(self, value: str) -> None:
        normalized = units.normalize_unit(value)
        if normalized is None:
            raise ValueError(f"unknown length unit {value!r}")
        self._user_unit = normalized
        self._reassemble()

    @property
    def layers(self) -> Mapping[str, Layer]:
        return dict(self._layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(list(self._layers.values()))

    def __len__(self) -> int:
        return len(self._layers)

    # -- assembly ----------------------------------------------------------------------
    def _reassemble(self, extra: Sequence[LayerSpec] = ()) -> list[Layer]:
        """Recompute the common voxel size and every layer's scale factor; add `extra`."""
        existing = [layer.spec for layer in self._layers.values()]
        voxel_size, unit, factors = common_scale(existing, extra, self._user_unit, self._user_voxel_size)
        self._voxel_size = voxel_size
        self._unit = unit
        for layer in self._layers.values():
            layer._set_factor(factors[id(layer.spec)])
        added: list[Layer] = []
        taken = set(self._layers)
        for s in extra:
            name = _unique_name(s.name, taken)
            taken.add(name)
            layer = Layer(self, s, name)
            layer._set_factor(factors[id(s)])
            self._layers[name] = layer
            added.append(layer)
        return added

    def _add_specs(self, specs: Sequence[LayerSpec]) -> list[Layer]:
        return self._reassemble(specs)

    async def add_layers_async(
        self, uri: str, credentials: Credentials | Mapping[str, Any] | None = None, *, access: Access = NOTEBOOK
    ) -> list[Layer]:
        """Explore `uri` (any supported URI or Neuroglancer link) and append its layers."""
        specs, reports = await explore_specs([uri], coerce_credentials(credentials), access)
        self.reports.extend(reports)
        for report in reports:
            if report.error:
                raise report_error(report)
        return self._add_specs(specs)

    def add_layers(self, uri: str, credentials: Credentials | Mapping[str, Any] | None = None) -> list[Layer]:
        return run_sync(self.add_layers_async(uri, credentials))

    def rename_layer(self, old: str, new: str) -> Layer:
        new = new.strip()
        if not new:
            raise ValueError("a layer name cannot be empty")
        if old not in self._layers:
            raise KeyError(old)
        if new != old and new in self._layers:
            raise ValueError(f"a layer named {new!r} exists already")
        items = list(self._layers.items())
        self._layers = {}
        for name, layer in items:
            if name == old:
                layer._name = new
                name = new
            self._layers[name] = layer
        return self._layers[new]

    def remove_layer(self, name: str) -> None:
        del self._layers[name]
        self._reassemble()

    # -- export ------------------------------------------------------------------------
    def to_datasource(self) -> dict[str, Any]:
        return {
            "id": {"name": self.name, "team": ""},
            "scale": {"factor": list(self.voxel_size), "unit": self.unit},
            "dataLayers": [layer.to_json() for layer in self._layers.values()],
            "version": 1,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_datasource(), indent=indent)

    def save(self, path: str | Path) -> Path:
        target = Path(path)
        if target.is_dir() and not target.is_symlink():
            target = target / "datasource-properties.json"
        atomic_write_text(target, self.to_json() + "\n")
        return target

    def to_neuroglancer_url(self, base: str | None = None) -> str:
        """A Neuroglancer link showing this dataset's layers with its voxel size."""
        out = [
            neuroglancer_layer(layer.spec, layer.name, layer.category, layer.mags[0].path, len(layer.mags))
            for layer in self._layers.values()
        ]
        center: list[float] | None = None
        if self._layers:
            bb = next(iter(self._layers.values())).bounding_box
            center = [bb.top_left[i] + bb.size[i] / 2 for i in range(3)]
        kwargs: dict[str, Any] = {"base": base} if base else {}
        return neuroglancer.build_neuroglancer_url(out, self.voxel_size, self.unit, position=center, **kwargs)

    def request_stats(self) -> dict[str, dict[str, int]]:
        """Requests and bytes streamed per layer (what streaming costs the data owner)."""
        return {name: layer.meter.snapshot() for name, layer in self._layers.items()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return self.to_datasource() == other.to_datasource()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        layers = ", ".join(self._layers) or "no layers"
        return f"Dataset({self.name!r}, voxel_size={self.voxel_size} {self.unit}, layers: {layers})"


# ---------------------------------------------------------------------------------------
# Exploration entry points


class ExplorationError(RemoteDatasetError):
    """Some URIs of an exploration failed; `errors` holds one error per failing URI."""

    def __init__(self, errors: Sequence[RemoteDatasetError]) -> None:
        self.errors = list(errors)
        if len(self.errors) == 1:
            e = self.errors[0]
            super().__init__(e.uri, e.cause)
        else:
            super().__init__("", "; ".join(str(e) for e in self.errors))


async def explore_async(
    *uris: str,
    name: str | None = None,
    credentials: Credentials | Mapping[str, Any] | str | Path | None = None,
    voxel_size: Sequence[float] | None = None,
    unit: str | None = None,
    allow_partial: bool = False,
    access: Access = NOTEBOOK,
) -> Dataset:
    """Explore every URI concurrently and assemble them into one dataset. `access` limits
    what the sources may use (the Viewer's public mode: no ambient credentials, public
    addresses only)."""
    if not uris:
        raise InvalidURIError("", "no URI given")
    creds = coerce_credentials(credentials)
    specs, reports = await explore_specs(list(uris), creds, access)
    errors = [report_error(r) for r in reports if r.error]
    if errors and not (allow_partial and specs):
        err = errors[0] if len(errors) == 1 else ExplorationError(errors)
        if isinstance(err, RemoteDatasetError):
            err.reports = reports  # type: ignore[attr-defined]
        raise err
    ds = Dataset(name=name, voxel_size=None, unit=unit)
    ds.reports = reports
    ds._add_specs(specs)
    if voxel_size is not None:
        ds.voxel_size = voxel_size
    return ds


def explore(
    *uris: str,
    name: str | None = None,
    credentials: Credentials | Mapping[str, Any] | str | Path | None = None,
    voxel_size: Sequence[float] | None = None,
    unit: str | None = None,
) -> Dataset:
    """Explore one or more URIs (https, http, s3, gs, file, Neuroglancer links) into one dataset."""
    return run_sync(explore_async(*uris, name=name, credentials=credentials, voxel_size=voxel_size, unit=unit))


def open_datasource(
    path_or_dict: str | Path | Mapping[str, Any],
    credentials: Credentials | Mapping[str, Any] | None = None,
) -> Dataset:
    """Open a datasource-properties.json (a path, URI or parsed dict) as a Dataset."""
    creds = coerce_credentials(credentials)
    if isinstance(path_or_dict, Mapping):
        doc: Any = dict(path_or_dict)
        root = parse_uri(".")
    else:
        text = str(path_or_dict)
        local = Path(text).expanduser()
        if "://" not in text and local.is_dir():
            local = local / "datasource-properties.json"
        if "://" in text and not text.startswith("file://"):
            return explore(text, credentials=creds)
        if text.startswith("file://"):
            local = Path(parse_uri(text).fs_path)
            if local.is_dir():
                local = local / "datasource-properties.json"
        try:
            data = local.read_bytes()
        except OSError as exc:
            raise MalformedMetadataError(str(local), f"cannot read the file ({exc.strerror})") from None
        doc = load_json(data, str(local))  # the formats' JSON reader: malformed or too deep is an error
        root = parse_uri(str(local.parent))
    return run_sync(_open_datasource_doc(doc, root, creds))


async def _open_datasource_doc(doc: Any, root: Any, creds: Credentials | None) -> Dataset:
    specs: list[LayerSpec] = layers_from_datasource(doc, root)
    for s in specs:
        s.credentials = creds
    scale = doc.get("scale") if isinstance(doc, Mapping) else None
    ident = doc.get("id") if isinstance(doc, Mapping) else None
    name = ident.get("name") if isinstance(ident, Mapping) else None
    ds = Dataset(name=name)
    ds._add_specs(specs)
    if isinstance(scale, Mapping) and "factor" in scale:
        ds._user_unit = units.normalize_unit(scale.get("unit") or "nanometer")
        ds.voxel_size = scale["factor"]
    elif isinstance(scale, list):
        ds.voxel_size = scale
    return ds
