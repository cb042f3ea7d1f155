"""Neuroglancer layer sources (legacy prefixes, pipe syntax, kvstore URLs) -> a URI we explore."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import RemoteDatasetError
from ..formats import parse_uri, pipe_prefixes, uri_prefixes

_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_PIPE_SEGMENT = re.compile(r"^([a-zA-Z][a-zA-Z0-9+._-]*):(.*)$", re.DOTALL)
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
    if scheme in uri_prefixes():
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
        prefixes = uri_prefixes()  # Neuroglancer's legacy `zarr2://URL` form
        if scheme in prefixes:
            hint = prefixes[scheme]
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
        pipes = pipe_prefixes()
        if name in pipes:
            pipe_hint = pipes[name]
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
