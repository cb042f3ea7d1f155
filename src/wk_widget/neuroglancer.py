"""Neuroglancer links: reading a `#!` state into layers we can explore, and building one.

Pure functions, no I/O.

Reading (`parse_neuroglancer_url`): the state is the JSON after the first `#!` (which may
itself be percent-encoded, `%23!` or `%2523!`); the JSON may be raw or percent-encoded
once or twice (decoded with strict `%XX` escapes, `+` stays `+`). Every image or
segmentation layer whose source we can read becomes a `NeuroglancerLayer`; every other
layer (annotations, meshes, graphene, python:// ...) becomes a `SkippedLayer` with the
reason. A malformed link raises `InvalidURIError`; nothing else escapes, whatever the
input. A link without a single usable layer is not an error here (`layers` is empty);
the caller decides.

Source forms understood (Neuroglancer layer `source`: a string, `{"url": ...}` or a
list of those):

- legacy prefixes `zarr://`, `zarr2://`, `zarr3://`, `n5://`, `precomputed://` before a
  location;
- the pipe syntax `LOCATION|zarr2:`, `LOCATION/|zarr3:sub/path/`,
  `LOCATION|neuroglancer-precomputed:` (kvstore adapters such as `|zip:` or `|ocdbt:`
  are skipped with a reason);
- a bare location (Neuroglancer auto-detects the format; so does our explorer);
- locations `https://`, `http://`, `gs://`, `s3://`, and Neuroglancer's variants
  `gs+xml://`, `gs+ngauth+http(s)://SERVER/BUCKET/PATH` (read as `gs://BUCKET/PATH`,
  credentials come from us, as in Neuroglancer's Python integration),
  `s3+http(s)://HOST/BUCKET/PATH` (S3-compatible server), `middleauth+https://`
  (read as `https://`; the server wants a bearer token).

Building (`build_neuroglancer_url`) writes the legacy-prefix form (`zarr2://`,
`zarr3://`, `n5://`, `precomputed://`), which every Neuroglancer version reads.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any
from urllib.parse import quote, urlsplit

from .errors import InvalidURIError, RemoteDatasetError, scrub
from .storage.uri import PIPE_FORMATS, parse_uri
from .units import NANOMETERS_PER_UNIT, normalize_unit

__all__ = [
    "DEFAULT_NEUROGLANCER_BASE",
    "NeuroglancerLayer",
    "NeuroglancerLayerOut",
    "NeuroglancerState",
    "SkippedLayer",
    "build_neuroglancer_url",
    "is_neuroglancer_url",
    "parse_neuroglancer_url",
]

DEFAULT_NEUROGLANCER_BASE = "https://neuroglancer-demo.appspot.com/"

# ---------------------------------------------------------------------------------------
# Data classes
# ---------------------------------------------------------------------------------------


@dataclass
class NeuroglancerLayer:
    """One image or segmentation layer of a Neuroglancer link that we can explore.

    `source` is the data location as Neuroglancer means it, without format prefix or
    pipe suffix (`https://host/path`, `s3://bucket/key`, `gs://bucket/key`; for an
    S3-compatible server path-style `s3://HOST:PORT/bucket/key`). `uri` is the string
    to give `parse_uri` (format prefix included; a dotted S3 bucket is spelled
    virtual-hosted so that it is not mistaken for an endpoint).
    """

    name: str
    type: str | None  # "image" | "segmentation"; None: the link leaves it to auto-detection
    category: str | None  # "color" | "segmentation"; None with type None
    source: str
    # "zarr" | "zarr2" | "zarr3" | "n5" | "precomputed"; None: auto-detect ("webknossos" for a
    # bare link to a datasource-properties.json, as parse_uri says)
    format_hint: str | None
    uri: str
    view_configuration: dict[str, Any] = field(
        default_factory=dict
    )  # WEBKNOSSOS defaultViewConfiguration
    visible: bool = True
    voxel_size: tuple[float, float, float] | None = None  # from the source transform, if any
    unit: str | None = None
    channel_index: int | None = None
    dimension_names: tuple[str, ...] | None = None  # source transform outputDimensions, in order
    notes: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # the layer's JSON


@dataclass
class SkippedLayer:
    """A layer of the link that is not imported, and why."""

    name: str
    reason: str


@dataclass
class NeuroglancerState:
    """What a Neuroglancer link holds that matters to us."""

    layers: list[NeuroglancerLayer]
    skipped: list[SkippedLayer]
    voxel_size: tuple[float, float, float] | None  # global `dimensions` x, y, z
    unit: str | None  # WEBKNOSSOS long name, e.g. "nanometer"
    position: list[float] | None  # in units of `dimensions` (mag-1 voxels when they match)
    layout: str | None
    raw: dict[str, Any]


@dataclass
class NeuroglancerLayerOut:
    """One layer to put into a Neuroglancer link.

    `path`: for zarr/zarr3/n5 the mag-1 array URI, for neuroglancerPrecomputed the
    dataset root (the folder with `info`). `multiscale_root`, when given, is used
    instead (an OME-NGFF multiscale group or an N5 multiscale group; Neuroglancer opens
    those with all their levels). `axis_order` is the mag's WEBKNOSSOS axisOrder (name ->
    array dimension, N5 counted from the end as in the datasource); when given, the
    source gets a transform naming its dimensions (x, y, z; `c` and any other axis
    become local dimensions, `c'`, `t'`, ...). `channel_index` picks one channel
    (via the local `c'` position, or for precomputed the shader's channel).
    `view_configuration` is a WEBKNOSSOS defaultViewConfiguration (color, alpha,
    intensityRange, min, max, isDisabled, isInverted).
    """

    name: str
    category: str  # "color" | "segmentation"
    data_format: str  # "zarr" | "zarr3" | "n5" | "neuroglancerPrecomputed"
    path: str
    multiscale_root: str | None = None
    channel_index: int | None = None
    axis_order: Mapping[str, int] | None = None
    view_configuration: Mapping[str, Any] | None = None


# ---------------------------------------------------------------------------------------
# Recognising and decoding a link
# ---------------------------------------------------------------------------------------

# `#!` raw, or percent-encoded once or twice (either character).
_STATE_MARKER = re.compile(r"(?:#|%23|%2523)(?:!|%21|%2521)", re.IGNORECASE)
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_MAX_DECODES = 4  # state encoded twice, plus a link that was itself encoded twice
_SHORT_LINK = 100


def is_neuroglancer_url(text: str) -> bool:
    """Whether `text` carries a Neuroglancer `#!` state (raw or percent-encoded)."""
    return isinstance(text, str) and _STATE_MARKER.search(text) is not None


def _short(text: str) -> str:
    """The link for messages: secrets removed first, then cut to a readable length."""
    clean = scrub(text)
    if len(clean) > _SHORT_LINK:
        clean = clean[: _SHORT_LINK - 3] + "..."
    return clean


class _DecodeError(Exception):
    pass


def _percent_decode(text: str) -> str:
    """Decode `%XX` escapes strictly (UTF-8); `+` stays `+`."""
    bad = _BAD_ESCAPE.search(text)
    if bad is not None:
        snippet = text[bad.start() : bad.start() + 3]
        raise _DecodeError(f"malformed percent-escape {snippet!r} at position {bad.start()}")

    def decode_run(match: re.Match[str]) -> str:
        run = match.group(0)
        data = bytes(int(run[i + 1 : i + 3], 16) for i in range(0, len(run), 3))
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise _DecodeError(
                f"percent-escapes {run[:30]!r} at position {match.start()} are not UTF-8"
            ) from None

    return _ESCAPE_RUN.sub(decode_run, text)


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _load_state(fragment: str, link: str) -> dict[str, Any]:
    if not fragment.strip():
        raise InvalidURIError(link, "no Neuroglancer state after '#!'")
    candidate = fragment.strip()
    json_error = ""
    for _ in range(_MAX_DECODES + 1):
        try:
            value = json.loads(candidate)
        except RecursionError:
            raise InvalidURIError(link, "the Neuroglancer state is nested too deeply") from None
        except ValueError as exc:  # JSONDecodeError, also too-long integer literals
            json_error = str(exc)
        else:
            if not isinstance(value, dict):
                raise InvalidURIError(
                    link, f"the Neuroglancer state is {_json_kind(value)}, not a JSON object"
                )
            return value
        if "%" not in candidate:
            break
        try:
            candidate = _percent_decode(candidate)
        except _DecodeError as exc:
            raise InvalidURIError(link, f"the Neuroglancer state has a {exc}") from None
    raise InvalidURIError(link, f"the Neuroglancer state is not valid JSON ({json_error})")


# ---------------------------------------------------------------------------------------
# Numbers and units
# ---------------------------------------------------------------------------------------

_SI_PREFIX_EXPONENTS = {
    "Y": 24, "Z": 21, "E": 18, "P": 15, "T": 12, "G": 9, "M": 6, "k": 3, "h": 2, "da": 1,
    "": 0, "d": -1, "c": -2, "m": -3, "u": -6, "µ": -6, "μ": -6, "n": -9, "p": -12,
    "f": -15, "a": -18, "z": -21, "y": -24,
}  # fmt: skip
# Metric WEBKNOSSOS units by power of ten relative to a nanometer, for choosing one.
_METRIC_UNITS = [
    ("yoctometer", -15), ("zeptometer", -12), ("attometer", -9), ("femtometer", -6),
    ("picometer", -3), ("nanometer", 0), ("micrometer", 3), ("millimeter", 6),
    ("meter", 9), ("kilometer", 12), ("megameter", 15), ("gigameter", 18),
    ("terameter", 21), ("petameter", 24), ("exameter", 27), ("zettameter", 30),
    ("yottameter", 33),
]  # fmt: skip
_NM_LOW = Decimal("0.001")
_NM_HIGH = Decimal(10) ** 6


def _number(value: Any) -> float | None:
    """A finite float from a JSON number, else None (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _length_exponent(unit: Any) -> int | None:
    """Power of ten of a Neuroglancer length unit ("m", "nm", "um", ...) in meters."""
    if not isinstance(unit, str) or not unit.endswith("m"):
        return None
    return _SI_PREFIX_EXPONENTS.get(unit[:-1])


def _pick_unit(values_nm: Sequence[Decimal]) -> tuple[str, int]:
    """Nanometer when the sizes fit it (1 pm .. 1 mm), else the largest metric unit >= 1."""
    low, high = min(values_nm), max(values_nm)
    if low >= _NM_LOW and high < _NM_HIGH:
        return "nanometer", 0
    for name, exponent in reversed(_METRIC_UNITS):
        if low.scaleb(-exponent) >= 1:
            return name, exponent
    return _METRIC_UNITS[0]


def _voxel_size_from_dimensions(dims: Any) -> tuple[tuple[float, float, float], str] | None:
    """x, y, z of a Neuroglancer coordinate space (`{"x": [8e-9, "m"], ...}`), if lengths."""
    if not isinstance(dims, dict):
        return None
    values: list[Decimal] = []
    for axis in ("x", "y", "z"):
        entry = dims.get(axis)
        if not isinstance(entry, list) or len(entry) != 2:
            return None
        scale = _number(entry[0])
        exponent = _length_exponent(entry[1])
        if scale is None or scale <= 0 or exponent is None:
            return None
        values.append(_decimal(scale).scaleb(exponent + 9))  # exact shift to nanometers
    unit, unit_exponent = _pick_unit(values)
    with localcontext() as ctx:
        ctx.prec = 60
        sizes = tuple(float(v.scaleb(-unit_exponent)) for v in values)
    if not all(math.isfinite(s) and s > 0 for s in sizes):
        return None
    return (sizes[0], sizes[1], sizes[2]), unit


def _to_meters(value: float, unit: str) -> float:
    with localcontext() as ctx:
        ctx.prec = 60
        meters = _decimal(value) * _decimal(NANOMETERS_PER_UNIT[unit]) * Decimal("1e-9")
        return float(meters)


# ---------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------

_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_PIPE_SEGMENT = re.compile(r"^([a-zA-Z][a-zA-Z0-9+._-]*):(.*)$", re.DOTALL)
_LEGACY_PREFIXES = ("zarr", "zarr2", "zarr3", "n5", "precomputed")
# Data source providers that are not volume formats we read (as `scheme://` or `|scheme:`).
_UNSUPPORTED_PROVIDERS = {
    "graphene": "graphene:// sources are not supported",
    "python": "python:// sources live in a running Neuroglancer Python session and cannot be read",
    "local": "local:// sources exist only inside the Neuroglancer page",
    "boss": "boss:// sources are not supported",
    "dvid": "dvid:// sources are not supported",
    "render": "render:// sources are not supported",
    "brainmaps": "brainmaps:// sources are not supported",
    "nifti": "nifti:// sources are not supported",
    "deepzoom": "deepzoom:// sources are not supported",
    "obj": "obj:// sources are meshes, not volume data",
    "vtk": "vtk:// sources are meshes, not volume data",
    "nggraph": "nggraph:// sources are not supported",
    "ndstore": "ndstore:// sources are not supported",
    "openconnectome": "openconnectome:// sources are not supported",
    "catmaid": "catmaid:// sources are not supported",
    "n5-zarr": "n5-zarr:// sources are not supported",
}
_KVSTORE_ADAPTERS = (
    "zip",
    "ocdbt",
    "gzip",
    "byte-range",
    "icechunk",
    "kvstack",
    "zstd",
    "bzip2",
    "xz",
)
_ANNOTATION_TYPES = ("annotation", "pointAnnotation", "localAnnotation", "annotations")
_MESH_TYPES = ("mesh", "single_mesh", "singleMesh")
_AWS_ENDPOINT = re.compile(r"^s3([.-][a-z0-9-]+)*\.amazonaws\.com$", re.IGNORECASE)


class _Unusable(Exception):
    """A source we cannot read; `provider` marks a data source kind (the layer's nature)."""

    def __init__(self, reason: str, *, provider: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.provider = provider


@dataclass
class _Resolved:
    source: str
    format_hint: str | None
    uri: str
    notes: list[str]


def _strip_trailing_slash(url: str) -> str:
    base, sep, query = url.partition("?")
    stripped = base.rstrip("/")
    if stripped.endswith(":/") or stripped.endswith(":"):  # "gs://" alone; keep as written
        stripped = base
    return stripped + sep + query


def _join_path(url: str, extra: str) -> str:
    extra = extra.strip().strip("/")
    if not extra:
        return url
    base, sep, query = url.partition("?")
    return base.rstrip("/") + "/" + extra + sep + query


def _clean_http(url: str, notes: list[str]) -> str:
    url, hash_sign, fragment = url.partition("#")
    if hash_sign:
        notes.append(f"URL fragment '#{fragment}' ignored")
    base, sep, query = url.partition("?")
    if sep:
        kept = []
        for item in query.split("&"):
            if item.lower().startswith("dimension_separator="):
                notes.append(f"'{item}' ignored (the separator is read from the metadata)")
            elif item:
                kept.append(item)
        url = base + ("?" + "&".join(kept) if kept else "")
    return url


def _location(text: str, notes: list[str]) -> str:
    """A Neuroglancer kvstore URL as a location `parse_uri` reads the same way."""
    match = _SCHEME_RE.match(text)
    if match is None:
        raise _Unusable(f"source {text!r} names no location (https://, gs://, s3://)")
    scheme = match.group(1).lower()
    rest = text[match.end() :]
    if scheme in _LEGACY_PREFIXES:
        raise _Unusable(f"source {text!r} has more than one format prefix")
    if scheme in _UNSUPPORTED_PROVIDERS:
        raise _Unusable(_UNSUPPORTED_PROVIDERS[scheme], provider=True)
    if scheme in ("http", "https"):
        url = _clean_http(f"{scheme}://{rest}", notes)
        return url
    if scheme in ("middleauth+https", "middleauth+http"):
        http = scheme.split("+", 1)[1]
        notes.append("the server uses CAVE middleauth: give an HTTP bearer token")
        url = _clean_http(f"{http}://{rest}", notes)
        return url
    rest = rest.partition("#")[0].partition("?")[0]
    if scheme in ("gs", "gs+xml"):
        return f"gs://{rest}"
    if scheme in ("gs+ngauth+http", "gs+ngauth+https", "gs+xml+ngauth+http", "gs+xml+ngauth+https"):
        server, _, bucket_path = rest.partition("/")
        if not bucket_path.strip("/"):
            raise _Unusable(f"{scheme}:// source names no bucket")
        notes.append(
            f"ngauth server {server!r} not used: give GCS credentials if the bucket is private"
        )
        return f"gs://{bucket_path}"
    if scheme == "s3":
        bucket, slash, key = rest.partition("/")
        if (
            ":" in bucket
            or _AWS_ENDPOINT.match(bucket)
            or bucket.lower().endswith(".s3.amazonaws.com")
        ):
            # Path-style endpoint as WEBKNOSSOS writes it, or virtual-hosted: parse_uri reads these.
            return f"s3://{rest}"
        if "." in bucket:
            # Neuroglancer's s3://BUCKET is always a bucket; keep parse_uri from reading a host.
            return f"s3://{bucket}.s3.amazonaws.com{slash}{key}"
        return f"s3://{rest}"
    if scheme in ("s3+http", "s3+https"):
        http = scheme.split("+", 1)[1]
        host = rest.partition("/")[0]
        try:
            candidate = parse_uri(f"s3://{rest}")
        except (RemoteDatasetError, ValueError):
            candidate = None
        if candidate is not None and candidate.endpoint_url == f"{http}://{host}":
            return f"s3://{rest}"
        notes.append("S3-compatible server read over plain HTTP (no listing, no S3 credentials)")
        return f"{http}://{rest}"
    if scheme == "file":
        raise _Unusable(
            "file:// sources in a link are not read (Neuroglancer cannot read them either)"
        )
    raise _Unusable(f"{scheme}:// locations are not supported")


def _resolve_source(url: str) -> _Resolved:
    """Split a Neuroglancer data source URL into location, format hint and our URI."""
    text = url.strip()
    if not text:
        raise _Unusable("empty source URL")
    notes: list[str] = []
    hint: str | None = None
    match = _SCHEME_RE.match(text)
    if match is not None:
        scheme = match.group(1).lower()
        if scheme in _UNSUPPORTED_PROVIDERS:
            raise _Unusable(_UNSUPPORTED_PROVIDERS[scheme], provider=True)
        if scheme in _LEGACY_PREFIXES:
            hint = scheme
            text = text[match.end() :]
    head, *segments = text.split("|")
    extra_path = ""
    seen_format = False
    for raw_segment in segments:
        segment = raw_segment.strip()
        if not segment:
            continue
        if seen_format:
            raise _Unusable(f"unexpected {segment!r} after the data format in pipe syntax")
        seg = _PIPE_SEGMENT.match(segment)
        if seg is None:
            raise _Unusable(f"cannot read {segment!r} in pipe syntax")
        name, argument = seg.group(1).lower(), seg.group(2)
        if name in PIPE_FORMATS:
            pipe_hint = PIPE_FORMATS[name]
            if hint is not None and hint != pipe_hint:
                notes.append(f"prefix {hint}:// overridden by |{name}:")
            hint = pipe_hint
            seen_format = True
            argument, hash_sign, options = argument.partition("#")
            if hash_sign:
                notes.append(f"option '#{options}' ignored (read from the metadata)")
            extra_path = argument
        elif name in _KVSTORE_ADAPTERS:
            raise _Unusable(f"data inside '|{name}:' containers is not supported")
        elif name in _UNSUPPORTED_PROVIDERS:
            raise _Unusable(_UNSUPPORTED_PROVIDERS[name], provider=True)
        else:
            raise _Unusable(f"unknown data source kind {name!r} in pipe syntax")
    location = _strip_trailing_slash(_join_path(_location(head.strip(), notes), extra_path))
    uri = f"{hint}://{location}" if hint else location
    try:
        parsed = parse_uri(uri)
    except RemoteDatasetError as exc:
        raise _Unusable(exc.cause) from None
    except ValueError as exc:  # urlsplit on a malformed host, e.g. "[::1"
        raise _Unusable(f"malformed location: {exc}") from None
    if parsed.scheme not in ("http", "https", "s3", "gs"):
        raise _Unusable(f"{parsed.scheme}:// locations are not supported")
    if hint is None and parsed.format_hint is not None:
        hint = parsed.format_hint
    # The canonical form: no trailing slash or metadata file name, path-style for endpoints.
    return _Resolved(source=parsed.private_url, format_hint=hint, uri=uri, notes=notes)


def _source_entries(source: Any) -> list[tuple[str | None, dict[str, Any] | None]]:
    if isinstance(source, str):
        return [(source, None)]
    if isinstance(source, dict):
        url = source.get("url")
        return [(url if isinstance(url, str) else None, source)]
    if isinstance(source, list):
        entries: list[tuple[str | None, dict[str, Any] | None]] = []
        for item in source:
            if isinstance(item, str):
                entries.append((item, None))
            elif isinstance(item, dict):
                url = item.get("url")
                entries.append((url if isinstance(url, str) else None, item))
            else:
                entries.append((None, None))
        return entries
    return []


# ---------------------------------------------------------------------------------------
# View configuration
# ---------------------------------------------------------------------------------------

_NAMED_COLORS = {
    "white": (255, 255, 255), "black": (0, 0, 0), "red": (255, 0, 0), "green": (0, 128, 0),
    "lime": (0, 255, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0), "cyan": (0, 255, 255),
    "aqua": (0, 255, 255), "magenta": (255, 0, 255), "fuchsia": (255, 0, 255),
    "orange": (255, 165, 0), "gray": (128, 128, 128), "grey": (128, 128, 128),
}  # fmt: skip
_SHADER_COLOR_DEFAULT = re.compile(
    r'#uicontrol\s+vec3\s+color\s+color\s*\(\s*default\s*=\s*"([^"]*)"', re.IGNORECASE
)


def _parse_color(value: Any) -> list[int] | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in _NAMED_COLORS:
        return list(_NAMED_COLORS[text])
    match = re.fullmatch(r"#([0-9a-f]{6}|[0-9a-f]{3})", text)
    if match is None:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return [int(digits[i : i + 2], 16) for i in (0, 2, 4)]


def _pair(value: Any) -> tuple[float | int, float | int] | None:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    if _number(value[0]) is None or _number(value[1]) is None:
        return None
    return value[0], value[1]


def _percent(fraction: float) -> float | int:
    value = round(min(max(fraction, 0.0), 1.0) * 100, 6)
    return int(value) if value == int(value) else value


def _view_configuration(spec: dict[str, Any], category: str | None) -> tuple[dict[str, Any], bool]:
    config: dict[str, Any] = {}
    visible = spec.get("visible") is not False and spec.get("archived") is not True
    if not visible:
        config["isDisabled"] = True
    opacity = _number(spec.get("opacity"))
    if opacity is None and category == "segmentation":
        opacity = _number(spec.get("selectedAlpha"))
    if opacity is not None:
        config["alpha"] = _percent(opacity)
    if category == "segmentation":
        return config, visible
    controls = spec.get("shaderControls")
    controls = controls if isinstance(controls, dict) else {}
    inverted = False
    normalized = controls.get("normalized")
    if isinstance(normalized, dict):
        value_range = _pair(normalized.get("range"))
        if value_range is not None:
            low, high = value_range
            if low > high:
                low, high = high, low
                inverted = True
            config["intensityRange"] = [low, high]
        window = _pair(normalized.get("window"))
        if window is not None:
            config["min"], config["max"] = min(window), max(window)
    if controls.get("invert") is True:
        inverted = not inverted
    if inverted:
        config["isInverted"] = True
    color = _parse_color(controls.get("color"))
    if color is None:
        shader = spec.get("shader")
        if isinstance(shader, str):
            match = _SHADER_COLOR_DEFAULT.search(shader)
            if match is not None:
                color = _parse_color(match.group(1))
    if color is not None:
        config["color"] = color
    return config, visible


def _channel_index(spec: dict[str, Any], out_dims: dict[str, Any] | None) -> int | None:
    local_dims = spec.get("localDimensions")
    if isinstance(local_dims, dict):
        local_names = list(local_dims)
    elif out_dims is not None:
        local_names = [n for n in out_dims if isinstance(n, str) and n.endswith("'")]
    else:
        local_names = []
    position = spec.get("localPosition")
    if "c'" in local_names and isinstance(position, list) and len(position) == len(local_names):
        value = _number(position[local_names.index("c'")])
        if value is not None and 0 <= value < 2**31:
            return math.floor(value)
    controls = spec.get("shaderControls")
    if isinstance(controls, dict) and isinstance(controls.get("normalized"), dict):
        channel = controls["normalized"].get("channel")
        if (
            isinstance(channel, list)
            and len(channel) == 1
            and isinstance(channel[0], int)
            and not isinstance(channel[0], bool)
            and 0 <= channel[0] < 2**31
        ):
            return channel[0]
    return None


# ---------------------------------------------------------------------------------------
# Parsing a link
# ---------------------------------------------------------------------------------------


def _layer_name(spec: Any, index: int, key: str | None) -> str:
    if key is not None and key:
        return key
    if isinstance(spec, dict):
        name = spec.get("name")
        if isinstance(name, str) and name:
            return name
        if isinstance(name, int | float) and not isinstance(name, bool):
            return str(name)
    return f"layer {index + 1}"


def _read_layer(spec: Any, name: str) -> NeuroglancerLayer | SkippedLayer:
    if not isinstance(spec, dict):
        return SkippedLayer(name, f"the layer is {_json_kind(spec)}, not a JSON object")
    layer_type = spec.get("type")
    if layer_type is not None and not isinstance(layer_type, str):
        return SkippedLayer(name, "the layer type is not a string")
    category: str | None
    if layer_type == "image":
        category = "color"
    elif layer_type == "segmentation":
        category = "segmentation"
    elif layer_type in (None, "", "new", "auto"):
        layer_type, category = None, None
    elif layer_type in _ANNOTATION_TYPES:
        return SkippedLayer(name, "annotation layers are not volume data")
    elif layer_type in _MESH_TYPES:
        return SkippedLayer(name, "mesh layers are not volume data")
    elif layer_type == "segmentation_with_graph":
        return SkippedLayer(name, "segmentation_with_graph (graphene) layers are not supported")
    else:
        return SkippedLayer(name, scrub(f"layer type {layer_type!r} is not supported"))

    entries = [
        (url, entry) for url, entry in _source_entries(spec.get("source")) if url and url.strip()
    ]
    if not entries:
        return SkippedLayer(name, "no source")
    chosen: tuple[_Resolved, dict[str, Any] | None] | None = None
    first_problem: _Unusable | None = None
    notes: list[str] = []
    for position, (url, entry) in enumerate(entries):
        try:
            resolved = _resolve_source(url)
        except _Unusable as problem:
            if position == 0:
                if problem.provider:  # e.g. graphene://: that is what this layer is
                    return SkippedLayer(name, scrub(problem.reason))
                first_problem = problem
            notes.append(f"source {url!r} not used: {problem.reason}")
            continue
        if chosen is None:
            chosen = (resolved, entry)
        else:
            notes.append(f"further source {url!r} not used")
    if chosen is None:
        assert first_problem is not None
        return SkippedLayer(name, scrub(first_problem.reason))
    resolved, entry = chosen
    out_dims: dict[str, Any] | None = None
    if entry is not None:
        transform = entry.get("transform")
        if isinstance(transform, dict) and isinstance(transform.get("outputDimensions"), dict):
            out_dims = transform["outputDimensions"]
    voxel = _voxel_size_from_dimensions(out_dims)
    view_configuration, visible = _view_configuration(spec, category)
    return NeuroglancerLayer(
        name=name,
        type=layer_type,
        category=category,
        source=resolved.source,
        format_hint=resolved.format_hint,
        uri=resolved.uri,
        view_configuration=view_configuration,
        visible=visible,
        voxel_size=voxel[0] if voxel else None,
        unit=voxel[1] if voxel else None,
        channel_index=_channel_index(spec, out_dims),
        dimension_names=tuple(str(n) for n in out_dims) if out_dims else None,
        notes=[scrub(n) for n in resolved.notes + notes],
        raw=spec,
    )


def _numbers(value: Any) -> list[float] | None:
    if not isinstance(value, list) or not value:
        return None
    numbers = [_number(v) for v in value]
    return [v for v in numbers if v is not None] if None not in numbers else None


def _legacy_navigation(
    state: dict[str, Any],
) -> tuple[tuple[tuple[float, float, float], str] | None, list[float] | None]:
    navigation = state.get("navigation")
    pose = navigation.get("pose") if isinstance(navigation, dict) else None
    pose_position = pose.get("position") if isinstance(pose, dict) else None
    if not isinstance(pose_position, dict):
        return None, None
    voxel = None
    sizes = _numbers(pose_position.get("voxelSize"))
    if sizes is not None and len(sizes) == 3:
        voxel = _voxel_size_from_dimensions(
            {a: [v, "nm"] for a, v in zip("xyz", sizes, strict=True)}
        )
    return voxel, _numbers(pose_position.get("voxelCoordinates"))


def parse_neuroglancer_url(text: str) -> NeuroglancerState:
    """Read a Neuroglancer link (anything with a `#!` state) into importable layers.

    Raises `InvalidURIError` (naming the shortened, scrubbed link and the cause) when
    there is no state, a malformed percent-escape, malformed JSON, a state that is not
    an object, or `layers` that is neither a list nor an object. A malformed single
    layer is skipped with a reason instead; no other exception type escapes.
    """
    if not isinstance(text, str):
        raise InvalidURIError(str(type(text).__name__), "a Neuroglancer link must be a string")
    text = text.strip()
    link = _short(text)
    marker = _STATE_MARKER.search(text)
    if marker is None:
        raise InvalidURIError(link, "not a Neuroglancer link: no '#!' state")
    state = _load_state(text[marker.end() :], link)

    layers_json = state.get("layers", [])
    entries: list[tuple[str, Any]]
    if isinstance(layers_json, list):
        entries = [(_layer_name(spec, i, None), spec) for i, spec in enumerate(layers_json)]
    elif isinstance(layers_json, dict):  # the older form: {name: layer}
        entries = [
            (_layer_name(spec, i, key), spec) for i, (key, spec) in enumerate(layers_json.items())
        ]
    elif layers_json is None:
        entries = []
    else:
        raise InvalidURIError(
            link, f"'layers' of the Neuroglancer state is {_json_kind(layers_json)}, not a list"
        )

    layers: list[NeuroglancerLayer] = []
    skipped: list[SkippedLayer] = []
    for name, spec in entries:
        try:
            result = _read_layer(spec, name)
        except Exception as exc:  # a safety net: one strange layer must not sink the link
            result = SkippedLayer(
                name, scrub(f"unexpected layer structure ({type(exc).__name__}: {exc})")
            )
        if isinstance(result, SkippedLayer):
            skipped.append(result)
        else:
            layers.append(result)

    voxel = _voxel_size_from_dimensions(state.get("dimensions"))
    position = _numbers(state.get("position"))
    if "dimensions" not in state:
        # Links from before 2020: navigation.pose.position {voxelSize (nm), voxelCoordinates}.
        legacy = _legacy_navigation(state)
        voxel = voxel or legacy[0]
        position = position or legacy[1]
    layout_json = state.get("layout")
    layout: str | None = None
    if isinstance(layout_json, str):
        layout = layout_json
    elif isinstance(layout_json, dict) and isinstance(layout_json.get("type"), str):
        layout = layout_json["type"]
    return NeuroglancerState(
        layers=layers,
        skipped=skipped,
        voxel_size=voxel[0] if voxel else None,
        unit=voxel[1] if voxel else None,
        position=position,
        layout=layout,
        raw=state,
    )


# ---------------------------------------------------------------------------------------
# Building a link
# ---------------------------------------------------------------------------------------

_FORMAT_PREFIX = {
    "zarr": "zarr2",
    "zarr3": "zarr3",
    "n5": "n5",
    "neuroglancerPrecomputed": "precomputed",
}
# What Neuroglancer's Python package leaves unescaped; '#' is escaped so that the first
# '#!' stays the only one.
_URL_SAFE = "~@$&()*!+=:;,.?/'"
_DIMENSION_NAME = re.compile(r"^[a-zA-Z][a-zA-Z_0-9]*$")


def _neuroglancer_location(uri: str) -> str:
    """A mag/dataset URI of ours as a Neuroglancer kvstore URL."""
    parsed = parse_uri(uri)
    if parsed.scheme == "file":
        raise InvalidURIError(
            uri,
            "Neuroglancer cannot read local files; serve the data over HTTP(S) or from a bucket",
        )
    if parsed.scheme in ("http", "https"):
        return parsed.url
    if parsed.scheme == "gs":
        return f"gs://{parsed.authority}{parsed.path}"
    if parsed.scheme == "s3":
        if parsed.endpoint_url:
            # A custom endpoint: Neuroglancer's s3:// is AWS only, so read it as plain HTTP(S).
            endpoint = urlsplit(parsed.endpoint_url)
            return f"{endpoint.scheme}://{endpoint.netloc}/{parsed.authority}{parsed.path}"
        # Neuroglancer reads s3://BUCKET/KEY from https://BUCKET.s3.amazonaws.com/KEY.
        return f"s3://{parsed.authority}{parsed.path}"
    raise InvalidURIError(uri, f"{parsed.scheme}:// cannot be opened by Neuroglancer")


def _dimension_name(name: str) -> str:
    clean = re.sub(r"[^a-zA-Z_0-9]", "_", name)
    return clean if _DIMENSION_NAME.match(clean) else f"d_{clean}"


def _source_transform(
    axis_order: Mapping[str, int], n5: bool, meters: Sequence[float], name: str
) -> tuple[dict[str, Any], list[str]]:
    """outputDimensions naming the array's dimensions, and the local dimension names."""
    rank = len(axis_order)
    if sorted(axis_order.values()) != list(range(rank)) or not {"x", "y", "z"} <= set(axis_order):
        raise ValueError(
            f"layer {name!r}: axis_order must give x, y, z and map names to 0..rank-1, got {dict(axis_order)}"
        )
    by_dimension: dict[int, str] = {}
    for axis, index in axis_order.items():
        by_dimension[rank - 1 - index if n5 else index] = axis
    output: dict[str, Any] = {}
    local: list[str] = []
    for dimension in range(rank):
        axis = by_dimension[dimension]
        if axis in ("x", "y", "z"):
            output[axis] = [meters["xyz".index(axis)], "m"]
        else:
            local_name = _dimension_name(axis) + "'"
            if local_name in output:
                local_name = f"{_dimension_name(axis)}_{dimension}'"
            output[local_name] = [1, ""]
            local.append(local_name)
    return output, local


def _rgb_hex(color: Any) -> str | None:
    if not isinstance(color, list | tuple) or len(color) != 3:
        return None
    values = [_number(c) for c in color]
    if any(v is None for v in values):
        return None
    return "#" + "".join(f"{min(max(round(v), 0), 255):02x}" for v in values if v is not None)


def _image_display(
    config: Mapping[str, Any], channel: int | None
) -> tuple[str | None, dict[str, Any], float]:
    """(shader or None for the default one, shaderControls, opacity) of an image layer."""
    normalized: dict[str, Any] = {}
    value_range = _pair(config.get("intensityRange"))
    if value_range is not None:
        normalized["range"] = [min(value_range), max(value_range)]
    low, high = _number(config.get("min")), _number(config.get("max"))
    if low is not None and high is not None:
        normalized["window"] = [config["min"], config["max"]]
    if channel is not None:
        normalized["channel"] = [channel]
    controls: dict[str, Any] = {}
    if normalized:
        controls["normalized"] = normalized
    color = _rgb_hex(config.get("color"))
    inverted = config.get("isInverted") is True
    shader: str | None = None
    if color is not None or inverted:
        lines = []
        if color is not None:
            lines.append(f'#uicontrol vec3 color color(default="{color}")')
            controls["color"] = color
        lines.append("#uicontrol invlerp normalized")
        if inverted:
            lines.append("#uicontrol bool invert checkbox(default=true)")
            controls["invert"] = True
        lines += ["void main() {", "  float v = normalized();"]
        if inverted:
            lines.append("  if (invert) { v = 1.0 - v; }")
        lines.append("  emitRGB(color * v);" if color is not None else "  emitGrayscale(v);")
        lines.append("}")
        shader = "\n".join(lines) + "\n"
    alpha = _number(config.get("alpha"))
    opacity = 1.0 if alpha is None else min(max(alpha, 0.0), 100.0) / 100
    return shader, controls, opacity


def _layer_json(layer: NeuroglancerLayerOut, meters: Sequence[float], name: str) -> dict[str, Any]:
    if layer.category not in ("color", "segmentation"):
        raise ValueError(
            f"layer {name!r}: category must be 'color' or 'segmentation', got {layer.category!r}"
        )
    prefix = _FORMAT_PREFIX.get(layer.data_format)
    if prefix is None:
        raise ValueError(
            f"layer {name!r}: data_format must be one of {sorted(_FORMAT_PREFIX)}, got {layer.data_format!r}"
        )
    if layer.channel_index is not None and (
        not isinstance(layer.channel_index, int)
        or isinstance(layer.channel_index, bool)
        or layer.channel_index < 0
    ):
        raise ValueError(
            f"layer {name!r}: channel_index must be an int >= 0, got {layer.channel_index!r}"
        )
    precomputed = layer.data_format == "neuroglancerPrecomputed"
    if layer.channel_index is not None and layer.axis_order is None and not precomputed:
        raise ValueError(
            f"layer {name!r}: channel_index needs axis_order (which array dimension is c)"
        )
    location = _neuroglancer_location(layer.multiscale_root or layer.path)
    url = f"{prefix}://{location}"
    source: Any = url
    result: dict[str, Any] = {"type": "image" if layer.category == "color" else "segmentation"}
    local: list[str] = []
    if layer.axis_order is not None and not precomputed:
        output, local = _source_transform(layer.axis_order, layer.data_format == "n5", meters, name)
        source = {"url": url, "transform": {"outputDimensions": output}}
    result["source"] = source
    if local:
        result["localDimensions"] = {n: [1, ""] for n in local}
        result["localPosition"] = [
            (layer.channel_index or 0) + 0.5 if n == "c'" else 0.5 for n in local
        ]
    config = layer.view_configuration or {}
    if layer.category == "color":
        shader_channel = layer.channel_index if precomputed else None
        shader, controls, opacity = _image_display(config, shader_channel)
        result["opacity"] = opacity
        if shader is not None:
            result["shader"] = shader
        if controls:
            result["shaderControls"] = controls
    else:
        alpha = _number(config.get("alpha"))
        if alpha is not None:
            result["selectedAlpha"] = min(max(alpha, 0.0), 100.0) / 100
    if config.get("isDisabled") is True:
        result["visible"] = False
    result["name"] = name
    return result


def _unique_names(layers: Sequence[NeuroglancerLayerOut]) -> list[str]:
    seen: set[str] = set()
    names = []
    for layer in layers:
        base = str(layer.name) or "layer"
        name, counter = base, 1
        while name in seen:
            counter += 1
            name = f"{base}_{counter}"
        seen.add(name)
        names.append(name)
    return names


def build_neuroglancer_url(
    layers: Sequence[NeuroglancerLayerOut],
    voxel_size: tuple[float, float, float],
    unit: str,
    base: str = DEFAULT_NEUROGLANCER_BASE,
    position: Sequence[float] | None = None,
    *,
    layout: str = "4panel",
) -> str:
    """A Neuroglancer link showing `layers`: `base#!<percent-encoded state JSON>`.

    `voxel_size` (mag 1) in `unit` gives the global `dimensions` in meters; `position`
    (x, y, z in mag-1 voxels) centers the view. Raises `ValueError` for arguments that
    cannot be expressed (unknown unit, non-positive voxel size, unknown category or
    data format) and `InvalidURIError` for a path Neuroglancer cannot open (file://).
    """
    unit_name = normalize_unit(unit)
    if unit_name is None:
        raise ValueError(f"unknown length unit {unit!r}")
    sizes = [_number(v) for v in voxel_size]
    if len(sizes) != 3 or any(v is None or v <= 0 for v in sizes):
        raise ValueError(f"voxel_size must be three positive finite numbers, got {voxel_size!r}")
    meters = [_to_meters(v, unit_name) for v in sizes if v is not None]
    if not all(math.isfinite(m) and m > 0 for m in meters):
        raise ValueError(f"voxel_size {voxel_size!r} {unit_name} is out of range")
    state: dict[str, Any] = {
        "dimensions": {axis: [m, "m"] for axis, m in zip("xyz", meters, strict=True)}
    }
    if position is not None:
        center = [_number(v) for v in position]
        if len(center) != 3 or any(v is None for v in center):
            raise ValueError(f"position must be three finite numbers, got {position!r}")
        state["position"] = center
    names = _unique_names(layers)
    state["layers"] = [
        _layer_json(layer, meters, name) for layer, name in zip(layers, names, strict=True)
    ]
    state["layout"] = layout
    text = json.dumps(state, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return base.split("#", 1)[0] + "#!" + quote(text, safe=_URL_SAFE)
