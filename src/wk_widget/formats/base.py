"""What every format module shares: layer descriptions, the exploration context, and the
array-reader interface through which the engine reads chunks of one resolution level.

Format modules are pure where they can be: `explore` fetches metadata through the
`ExploreContext` (concurrent, de-duplicated, recorded) and turns it into `LayerSpec`s;
`open_reader` turns a level's metadata into an `ArrayReader` that computes chunk keys,
fetches bytes through `Storage`, and decodes them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol, TypeVar

import numpy as np

from ..errors import MalformedMetadataError, RemoteDatasetError, UnsupportedDataError
from ..storage import Credentials, RequestMeter, SourceURI, Storage, storage_for
from ..storage.origins import NOTEBOOK, Access

logger = logging.getLogger(__name__)

Category = Literal["color", "segmentation"]
# A WEBKNOSSOS `dataFormat` value ("zarr", "zarr3", "n5", "neuroglancerPrecomputed", ...).
# A plain str: the registry (`formats.data_formats()`) says which exist, so a format is
# added without editing a Literal.
DataFormat = str
Vec3 = tuple[int, int, int]
Vec3f = tuple[float, float, float]

# numpy dtype -> WEBKNOSSOS elementClass
_ELEMENT_CLASSES: dict[str, str] = {
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "float32": "float",
    "float64": "double",
}
_DTYPES = {v: k for k, v in _ELEMENT_CLASSES.items()}
# WEBKNOSSOS's RGB class: 3 channels of uint8 (webknossos-libs writes it); no single dtype has it
_DTYPES["uint24"] = "uint8"
ELEMENT_CLASSES: tuple[str, ...] = (*_ELEMENT_CLASSES.values(), "uint24")
INTEGER_ELEMENT_CLASSES = frozenset(c for c in ELEMENT_CLASSES if c not in ("float", "double"))


def element_class_of(dtype: Any, uri: str = "") -> str:
    """WEBKNOSSOS elementClass of a dtype; float16, bool, complex etc. are a clear error."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise UnsupportedDataError(uri, f"unsupported data type {dtype!r}") from None
    name = dt.newbyteorder("=").name if dt.byteorder not in ("=", "|") else dt.name
    cls = _ELEMENT_CLASSES.get(name)
    if cls is None:
        raise UnsupportedDataError(
            uri,
            f"unsupported data type {name}; WEBKNOSSOS supports uint8..uint64, int8..int64, "
            "float32 and float64",
        )
    return cls


def dtype_of_element_class(element_class: str) -> np.dtype[Any]:
    """The dtype of one channel (uint24 is 3 channels of uint8)."""
    return np.dtype(_DTYPES[element_class])


class BoundingBox(NamedTuple):
    """((x, y, z), (width, height, depth)) in mag-1 voxels; unpacks like the contract's tuple."""

    top_left: Vec3
    size: Vec3

    @property
    def bottom_right(self) -> Vec3:
        return (
            self.top_left[0] + self.size[0],
            self.top_left[1] + self.size[1],
            self.top_left[2] + self.size[2],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "topLeft": list(self.top_left),
            "width": self.size[0],
            "height": self.size[1],
            "depth": self.size[2],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BoundingBox:
        tl = d["topLeft"]
        return cls((int(tl[0]), int(tl[1]), int(tl[2])), (int(d["width"]), int(d["height"]), int(d["depth"])))


@dataclass(frozen=True)
class AdditionalAxis:
    name: str
    bounds: tuple[int, int]  # [start, end)
    index: int  # the array dimension

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "bounds": list(self.bounds), "index": self.index}


@dataclass
class MagSpec:
    """One resolution level of a layer."""

    mag: Vec3
    path: SourceURI  # absolute URI of the level's array
    axis_order: dict[str, int]  # "x", "y", "z" (and "c") -> array dimension
    channel_index: int | None = None
    # Parsed metadata of the level's array, kept from exploration so reads need no refetch.
    # Its shape is format-specific; the format's `open_reader` understands it.
    array_meta: Any = None


@dataclass
class LayerSpec:
    """A layer as explored: everything WEBKNOSSOS's datasource needs, plus provenance."""

    name: str
    category: Category
    data_format: DataFormat
    element_class: str
    bounding_box: BoundingBox  # in mag-1 voxels of this layer's own voxel size
    mags: list[MagSpec]  # finest first
    num_channels: int = 1
    voxel_size: Vec3f | None = None  # mag-1 voxel size in `unit`; None when unknown
    unit: str | None = None  # WEBKNOSSOS long name, e.g. "nanometer"
    largest_segment_id: int | None = None
    additional_axes: list[AdditionalAxis] = field(default_factory=list)
    default_view_configuration: dict[str, Any] | None = None
    coordinate_transformations: list[dict[str, Any]] | None = None
    # Which signal decided the category ("ome-labels", "precomputed-type", "neuroglancer",
    # "datasource", "name", "default") - shown to the user, who may change it.
    category_source: str = "default"
    source_uri: str = ""  # what the user gave (scrubbed)
    format_name: str = ""  # e.g. "ngff-0.4", "zarr3", "n5-multiscales-bdv"
    # the levels are one multiscale group (OME-NGFF, N5 multiscales) in the folder above
    # the finest: a Neuroglancer link opens that folder, with every level
    multiscale_group: bool = False
    dataset_name: str | None = None  # a dataset name the format suggests (NGFF name, ...)
    credentials: Credentials | None = field(default=None, repr=False)
    # colours and properties of segment ids (OME image-label), keyed by str(id)
    segment_metadata: dict[str, Any] | None = None
    access: Access = NOTEBOOK  # the origin the credentials belong to; ambient/public limits


@dataclass
class FormatAttempt:
    format: str
    outcome: Literal["found", "not found", "error", "skipped"]
    message: str


@dataclass
class UriReport:
    uri: str
    attempts: list[FormatAttempt] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def add(self, fmt: str, outcome: Literal["found", "not found", "error", "skipped"], message: str) -> None:
        self.attempts.append(FormatAttempt(fmt, outcome, message))

    def to_json(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "layers": list(self.layers),
            "error": self.error,
            "notes": list(self.notes),
            "attempts": [{"format": a.format, "outcome": a.outcome, "message": a.message} for a in self.attempts],
        }


def load_json(data: bytes, where: str) -> Any:
    """Parsed metadata JSON; malformed, non-UTF-8 or absurdly nested text is a
    MalformedMetadataError naming `where` (the one JSON reader of every format)."""
    try:
        return json.loads(data)
    except RecursionError:
        raise MalformedMetadataError(where, "malformed JSON: nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
        at = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise MalformedMetadataError(where, f"malformed JSON: {detail}{at}") from None


class AxisOrderRule(Protocol):
    """How one data format's `axisOrder` reads and writes in datasource-properties.json.

    Orders map "x", "y", "z" (and "c") to dimensions; ours count in the reader's array
    order, the datasource's in the format's own (see `formats/_shared/axis_order.py`).
    """

    # Whether the datasource's counting depends on the array's rank (N5 counts from the
    # end): without the array at hand, the rank is implied by the datasource entry.
    rank_dependent: bool

    def default(self, rank: int) -> dict[str, int]:
        """The reader axis order WEBKNOSSOS assumes when a mag names none."""
        ...

    def to_datasource(self, order: Mapping[str, int], rank: int) -> dict[str, int] | None:
        """The datasource `axisOrder` of a mag whose reader axis order is `order` (None: omit it)."""
        ...

    def axis_index_to_datasource(self, index: int, rank: int) -> int:
        """The datasource `additionalAxes[].index` of reader dimension `index` (an involution)."""
        ...

    def from_datasource(self, given: Mapping[str, int] | None, rank: int) -> dict[str, int]:
        """The reader axis order of a mag from its datasource `axisOrder` (None: not given)."""
        ...


class FormatTable(Protocol):
    """The registry's lookups, as explorers see them (`ExploreContext.formats`): a format
    (e.g. webknossos) asks about the others without importing the registry."""

    def explorers(self, hint: str | None = None) -> list[Explorer]: ...

    def data_formats(self) -> tuple[DataFormat, ...]: ...

    def axis_order(self, data_format: DataFormat) -> AxisOrderRule: ...

    def parse_uri(self, text: str) -> SourceURI: ...

    def datasource_mags(self, data_format: DataFormat) -> DatasourceMags: ...


# The registry installs its table here when `wk_widget.formats` is imported (which Python
# does before any of its submodules): contexts made without one use it.
_INSTALLED: list[FormatTable] = []


def install_format_table(table: FormatTable) -> None:
    _INSTALLED[:] = [table]


def installed_format_table() -> FormatTable:
    if not _INSTALLED:
        raise RuntimeError("the format registry (wk_widget.formats) is not loaded")
    return _INSTALLED[0]


_T = TypeVar("_T")


def _single_flight(futures: dict[str, asyncio.Future[_T]], key: str, start: Callable[[], Awaitable[_T]]) -> Awaitable[_T]:
    """The result of `start()` for `key`, started once and shared by every caller (each
    caller's cancellation leaves the shared fetch running)."""
    future = futures.get(key)
    if future is None:
        future = asyncio.ensure_future(start())
        futures[key] = future
    return asyncio.shield(future)


class ExploreContext:
    """Metadata access for one exploration: each file fetched at most once, concurrently."""

    def __init__(
        self,
        credentials: Credentials | None = None,
        meter: RequestMeter | None = None,
        access: Access = NOTEBOOK,
        formats: FormatTable | None = None,
    ) -> None:
        self.credentials = credentials
        self.access = access
        self.meter = meter or RequestMeter()
        self._formats = formats
        self.notes: list[str] = []  # things skipped or worth telling the user
        self._bytes: dict[str, asyncio.Future[bytes | None]] = {}
        self._lists: dict[str, asyncio.Future[list[tuple[str, bool]] | None]] = {}

    def note(self, text: str) -> None:
        """Tell the user about something skipped (logged; `explore_uri` reports `notes`)."""
        logger.warning("%s", text)
        self.notes.append(text)

    @property
    def formats(self) -> FormatTable:
        """The registry's lookups (the installed registry unless one was given)."""
        return self._formats if self._formats is not None else installed_format_table()

    def storage(self, uri: SourceURI) -> Storage:
        return storage_for(uri, self.credentials, self.access)

    async def fetch_bytes(self, uri: SourceURI, name: str = "") -> bytes | None:
        """Bytes of `uri/name`, None if it does not exist. Shared by concurrent callers."""
        target = uri.join(name) if name else uri
        return await _single_flight(
            self._bytes, target.url, lambda: self.storage(target).get(target.fs_path, meters=(self.meter,))
        )

    async def fetch_json(self, uri: SourceURI, name: str = "") -> Any | None:
        """Parsed JSON of `uri/name`, None if it does not exist; malformed JSON is an error."""
        data = await self.fetch_bytes(uri, name)
        if data is None:
            return None
        target = uri.join(name) if name else uri
        return load_json(data, target.url)

    async def fetch_many_json(self, uri: SourceURI, names: Sequence[str]) -> dict[str, Any | RemoteDatasetError | None]:
        """Fetch several metadata files of one folder concurrently; errors are returned, not raised."""
        results = await asyncio.gather(*(self.fetch_json(uri, n) for n in names), return_exceptions=True)
        out: dict[str, Any | RemoteDatasetError | None] = {}
        for name, result in zip(names, results, strict=True):
            if isinstance(result, RemoteDatasetError):
                out[name] = result
            elif isinstance(result, BaseException):
                raise result
            else:
                out[name] = result
        return out

    def found_any(self, uri: SourceURI) -> bool:
        """Whether anything at or below `uri` was found (a file fetched or a folder listed)."""
        prefix = uri.url.rstrip("/") + "/"
        futures: list[tuple[str, asyncio.Future[Any]]] = [*self._bytes.items(), *self._lists.items()]
        for key, future in futures:
            if not (key == uri.url or key.startswith(prefix)) or not future.done() or future.cancelled():
                continue
            if future.exception() is None and future.result():
                return True
        return False

    async def list_dir(self, uri: SourceURI) -> list[tuple[str, bool]] | None:
        """(name, is_folder) entries of a folder where the storage can list, else None."""
        return await _single_flight(
            self._lists, uri.url, lambda: self.storage(uri).list_dir(uri.fs_path, meters=(self.meter,))
        )


class ArrayReader(ABC):
    """Reads chunks of one resolution level's array (dims in the array's own order).

    The chunk grid starts at `grid_origin` (0 except for precomputed `voxel_offset`);
    chunk `coord` covers [origin + coord*chunk_shape, origin + (coord+1)*chunk_shape)
    clipped to `shape`. Everything below `grid_origin` reads as the fill value.
    """

    uri: str  # of the array, for messages
    shape: tuple[int, ...]
    chunk_shape: tuple[int, ...]
    grid_origin: tuple[int, ...]
    dtype: np.dtype[Any]
    fill_value: Any

    @abstractmethod
    async def fetch(self, coords: Sequence[tuple[int, ...]], meters: Sequence[RequestMeter] = ()) -> list[bytes | None]:
        """Raw (still encoded) bytes of each chunk, None where it does not exist.
        Fetches concurrently; sharded formats read indices once and coalesce ranges."""

    @abstractmethod
    def decode(self, coord: tuple[int, ...], data: bytes) -> np.ndarray:
        """Decode one chunk (pure, thread-safe, releases the GIL where the codec does) into
        an array of exactly `chunk_extent(coord)`; raises CorruptChunkError naming the chunk."""

    def chunk_extent(self, coord: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(
            max(0, min(c, s - (o + i * c)))
            for i, c, s, o in zip(coord, self.chunk_shape, self.shape, self.grid_origin, strict=True)
        )

    def chunk_key_uri(self, coord: tuple[int, ...]) -> str:
        """URI (or URI and byte range) of a chunk, for messages."""
        return f"{self.uri} chunk {coord}"


class NotThisFormat(Exception):
    """Raised by an explorer when the URI is not in its format; the text says why."""


@dataclass(frozen=True)
class Explorer:
    """One way of recognising a format at a URI, tried in WEBKNOSSOS's order."""

    name: str  # e.g. "ngff-0.4"
    probe_files: tuple[str, ...]  # root metadata files it reads (prefetched concurrently)
    hints: frozenset[str]  # format hints (URI prefixes) under which it is tried
    explore: Any  # async (ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]; raises NotThisFormat


OpenReader = Callable[[Storage, MagSpec, DataFormat], Awaitable[ArrayReader]]
# async (ctx, candidate URIs of a mag, what for messages) -> (the mag's URI, its parsed
# array metadata or None); raises when no candidate holds the array
MagLocator = Callable[[ExploreContext, Sequence[SourceURI], str], Awaitable[tuple[SourceURI, Any]]]


@dataclass(frozen=True)
class DatasourceMags:
    """How one data format's mags sit in a WEBKNOSSOS datasource (the webknossos format
    asks; it knows no other format by name)."""

    # a mag without `path` lives at `<layer>/<mag literal>`; else every mag needs a path
    implicit_paths: bool = False
    # fetches the mag's array metadata while exploring (its rank decides N5's axisOrder
    # counting); None: the reader fetches it when opened
    locate: MagLocator | None = None


@dataclass(frozen=True)
class Format:
    """Everything the package knows about one format, declared once (in its folder) and
    listed once in `formats.FORMATS` (whose order is WEBKNOSSOS's explorer priority)."""

    name: str  # "webknossos", "ngff", "zarr", ...
    explorers: tuple[Explorer, ...]  # in priority order inside the format
    data_formats: tuple[DataFormat, ...] = ()  # WEBKNOSSOS dataFormat values it reads
    open_reader: OpenReader | None = None  # None: explore-only (webknossos, ngff)
    # URI prefixes `x://` / `x:` and Neuroglancer pipe names `|x:` -> format hint
    uri_prefixes: Mapping[str, str] = field(default_factory=dict)
    pipe_prefixes: Mapping[str, str] = field(default_factory=dict)  # pipe syntax only
    neuroglancer_prefix: Mapping[DataFormat, str] = field(default_factory=dict)  # write side
    # data formats Neuroglancer opens as one whole volume from the folder above a mag
    # (precomputed: `info` lists every scale and fixes the axes x, y, z, c): a link names
    # that folder, sets no transform and picks a channel in the shader
    neuroglancer_volume: frozenset[DataFormat] = frozenset()
    # trailing file names of a URI that mean "its folder" -> the hint they imply (or None)
    metadata_files: Mapping[str, str | None] = field(default_factory=dict)
    axis_order: Mapping[DataFormat, AxisOrderRule] = field(default_factory=dict)
    # how its mags are found from a datasource-properties.json (default: explicit paths)
    datasource_mags: Mapping[DataFormat, DatasourceMags] = field(default_factory=dict)
