"""Parsing of the URIs users paste: schemes, format prefixes, metadata file names.

Pure functions, no I/O. A parsed `SourceURI` names a folder (never a metadata file)
as an absolute URL with no trailing slash.
"""

from __future__ import annotations

import ipaddress
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from ..errors import InvalidURIError

# Storage knows no format: format prefixes, pipe names and metadata file names are
# declared by the formats, and `wk_widget.formats.parse_uri` passes the registry's tables.
SCHEMES = ("http", "https", "s3", "gs", "file")
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


@dataclass(frozen=True)
class SourceURI:
    """A folder on some storage: `scheme://authority/path` (no trailing slash).

    For s3 the authority is the bucket; `endpoint_url` is set when the URI named a
    non-default endpoint path-style (`s3://HOST[:PORT]/bucket/key`).
    """

    scheme: str
    authority: str
    path: str  # "/a/b" or "" (no trailing slash)
    query: str = ""
    format_hint: str | None = None
    endpoint_url: str | None = None

    @property
    def url(self) -> str:
        """The canonical URL, in the form users write (path-style for custom S3 endpoints),
        without user info or signature parameters: safe to show, export and log."""
        return redact_url(self.private_url)

    @property
    def private_url(self) -> str:
        """The URL with its user info and signature parameters, for this source's own requests."""
        if self.scheme == "s3" and self.endpoint_url:
            host = urlsplit(self.endpoint_url).netloc
            return f"s3://{host}/{self.authority}{self.path}"
        return urlunsplit((self.scheme, self.authority, self.path, self.query, ""))

    @property
    def fs_path(self) -> str:
        """The path as fsspec wants it for this scheme."""
        if self.scheme in ("http", "https"):
            return urlunsplit((self.scheme, self.authority, self.path, self.query, ""))
        if self.scheme == "file":
            return unquote(self.path) or "/"
        return f"{self.authority}{self.path}"

    @property
    def name(self) -> str:
        """Last path component (the folder name), or the bucket/host name at the root."""
        base = posixpath.basename(unquote(self.path))
        return base or self.authority

    def join(self, *parts: str) -> SourceURI:
        """The URI of a path below (or, with `..`, beside) this folder."""
        path = self.path
        for part in parts:
            if not part:
                continue
            path = posixpath.join(path or "/", part.strip("/") if part != "/" else "")
        path = posixpath.normpath(path) if path else ""
        if path in ("/", "."):
            path = ""
        return replace(self, path=path, format_hint=None)

    def parent(self) -> SourceURI:
        return replace(self, path=posixpath.dirname(self.path) if self.path else "", format_hint=None)

    def __str__(self) -> str:
        return self.url


# Query parameters that carry signatures or tokens (pre-signed URLs).
SECRET_QUERY_KEYS = frozenset(
    {
        "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature",
        "x-goog-credential", "signature", "sig", "token", "access_token", "key", "apikey", "api_key",
    }
)


def redact_url(url: str) -> str:
    """`url` without user info and with signature/token query values replaced by `***`."""
    if "@" not in url and "?" not in url:  # neither user info nor a query: nothing to hide
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        items = []
        for item in query.split("&"):
            key, sep, _value = item.partition("=")
            items.append(f"{key}=***" if sep and unquote(key).lower() in SECRET_QUERY_KEYS else item)
        query = "&".join(items)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _split_format_prefix(
    text: str, prefixes: Mapping[str, str], pipe_prefixes: Mapping[str, str]
) -> tuple[str, str | None]:
    hint: str | None = None
    # Neuroglancer's newer pipe syntax: `https://host/path|zarr2:` (possibly chained).
    if "|" in text:
        head, *rest = text.split("|")
        for item in rest:
            name = item.strip().rstrip(":").split(":")[0]
            if name in pipe_prefixes:
                hint = pipe_prefixes[name]
            elif name:
                raise InvalidURIError(text, f"unsupported data source kind {name!r} in pipe syntax")
        text = head
    while True:
        m = _SCHEME_RE.match(text)
        if m and m.group(1).lower() in prefixes:
            hint = hint or prefixes[m.group(1).lower()]
            text = text[m.end():]
            continue
        # `zarr:https://...` written without the slashes
        m2 = _BARE_PREFIX_RE.match(text)
        if m2 and m2.group(1) in prefixes:
            hint = hint or prefixes[m2.group(1)]
            text = text[m2.end():]
            continue
        return text, hint


_BARE_PREFIX_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(?=[a-zA-Z][a-zA-Z0-9+.-]*://|/)")


def _is_loopback_or_ip(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.strip("[]")
    if name in ("localhost",):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _s3_authority(authority: str, path: str) -> tuple[str, str, str | None]:
    """Split `s3://X/...` into bucket, key path and endpoint, as WEBKNOSSOS reads them.

    `X` is an endpoint host when it has a port or a dot (`s3.eu-central-1.amazonaws.com`,
    `127.0.0.1:9000`); `bucket.s3.amazonaws.com` is virtual-hosted; else `X` is the bucket.
    """
    host = authority
    if host.endswith(".s3.amazonaws.com"):
        return host[: -len(".s3.amazonaws.com")], path, None
    hostname = host.rsplit(":", 1)[0]
    has_port = ":" in host and host.rsplit(":", 1)[1].isdigit()
    if has_port or "." in hostname:
        parts = path.lstrip("/").split("/", 1)
        bucket = parts[0]
        key = "/" + parts[1] if len(parts) > 1 and parts[1] else ""
        if not bucket:
            raise InvalidURIError(f"s3://{authority}{path}", "path-style S3 URI names no bucket")
        scheme = "http" if _is_loopback_or_ip(host) else "https"
        return bucket, key, f"{scheme}://{host}"
    return host, path, None


def parse_uri(
    text: str,
    *,
    prefixes: Mapping[str, str],
    pipe_prefixes: Mapping[str, str],
    metadata_files: Mapping[str, str | None],
    base_dir: str | os.PathLike[str] | None = None,
) -> SourceURI:
    """Parse a user-given URI or local path into the folder it names.

    Accepts https/http/s3/gs/file URLs and local paths, format prefixes (`zarr://`,
    `zarr:https://...`), Neuroglancer's pipe syntax and a trailing metadata file name
    (which means its folder). Neuroglancer links with a `#!` state are handled by
    `wk_widget.neuroglancer`, not here. The format tables (prefix -> hint, pipe name ->
    hint, metadata file -> hint) are the registry's: call `wk_widget.formats.parse_uri`.
    """
    original = text
    if not isinstance(text, str):
        raise InvalidURIError(str(text), "a URI must be a string")
    text = text.strip()
    if not text:
        raise InvalidURIError("", "empty URI")
    text, hint = _split_format_prefix(text, prefixes, pipe_prefixes)
    if not text:
        raise InvalidURIError(original, "only a format prefix, no location")
    m = _SCHEME_RE.match(text)
    if m is None:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?!\\)", text) and not re.match(r"^[a-zA-Z]:[\\/]", text):
            scheme = text.split(":", 1)[0]
            raise InvalidURIError(original, f"unknown URI scheme {scheme!r}; use https://, http://, s3://, gs://, file:// or a local path")
        local = Path(text).expanduser()
        if not local.is_absolute():
            local = Path(base_dir or os.getcwd()) / local
        text = Path(os.path.normpath(local)).as_uri()
        m = _SCHEME_RE.match(text)
        assert m is not None
    scheme = m.group(1).lower()
    if scheme not in SCHEMES:
        raise InvalidURIError(original, f"unknown URI scheme {scheme!r}; use https://, http://, s3://, gs://, file:// or a local path")
    parts = urlsplit(text)
    authority = parts.netloc
    path = parts.path
    if scheme == "file":
        if authority not in ("", "localhost"):
            raise InvalidURIError(original, "file:// URIs must name a local path (file:///path)")
        authority = ""
        path = quote(unquote(path))
    elif not authority:
        raise InvalidURIError(original, f"{scheme}:// URI names no host or bucket")
    if "#" in text and scheme in ("http", "https") and parts.fragment:
        raise InvalidURIError(original, "URL has a fragment; Neuroglancer links need a '#!' state")
    # A trailing metadata file name means its folder.
    path = path.rstrip("/")
    base = posixpath.basename(path)
    if base in metadata_files:
        path = posixpath.dirname(path)
        if hint is None:
            hint = metadata_files[base]
    path = path.rstrip("/")
    endpoint: str | None = None
    if scheme == "s3":
        authority, path, endpoint = _s3_authority(authority, path)
    query = parts.query if scheme in ("http", "https") else ""
    return SourceURI(scheme, authority, path, query, hint, endpoint)
