"""What the browser may make the kernel do, per the Viewer's `browser_access` mode.

"notebook" (the kernel's owner): explore what the kernel's user could; credentials only
as values; export only a plain file name into `export_dir`. "public" (Voila, dashboards):
https/s3/gs on public addresses, no ambient credentials, nothing written to disk, error
messages that never echo fetched content. "none": the browser only views.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import neuroglancer
from ..errors import (
    AccessDeniedError,
    CorruptChunkError,
    CredentialsError,
    InvalidURIError,
    LimitExceededError,
    MalformedMetadataError,
    RemoteDatasetError,
    ServerFaultError,
    SourceNotFoundError,
    SourceTimeoutError,
    SourceUnreachableError,
    UnsupportedDataError,
    UnsupportedFormatError,
    scrub,
)
from ..formats import parse_uri
from ..storage import Credentials, coerce_credentials
from ..storage.origins import NOTEBOOK, PUBLIC, Access, check_public_uri

MODES = ("notebook", "public", "none")
_FILE_NAME = re.compile(r"^[^/\\\x00-\x1f]+$")

# Public mode: fixed causes per error class, never text taken from a response.
_PUBLIC_CAUSES: tuple[tuple[type[RemoteDatasetError], str], ...] = (
    (AccessDeniedError, "access denied or not allowed here"),
    (CredentialsError, "the credentials cannot be used"),
    (InvalidURIError, "not a valid URI"),
    (SourceNotFoundError, "not found"),
    (SourceTimeoutError, "the server did not answer in time"),
    (SourceUnreachableError, "the server cannot be reached"),
    (ServerFaultError, "the server failed"),
    (LimitExceededError, "the dataset exceeds a safety limit"),
    (MalformedMetadataError, "the dataset's metadata is malformed"),
    (UnsupportedDataError, "the dataset uses an unsupported data type, codec or layout"),
    (UnsupportedFormatError, "no supported dataset found"),
    (CorruptChunkError, "a chunk cannot be decoded"),
)


class BrowserAccess:
    """The checks one Viewer applies to messages from its browser."""

    def __init__(self, mode: str, export_dir: str | Path) -> None:
        if mode not in MODES:
            raise ValueError(f"browser_access must be one of {', '.join(map(repr, MODES))}, not {mode!r}")
        self.mode = mode
        self.export_dir = Path(export_dir).expanduser()

    @property
    def access(self) -> Access:
        return PUBLIC if self.mode == "public" else NOTEBOOK

    def allows(self, request: str) -> str | None:
        """None if the browser may make this request, else why not."""
        if self.mode == "none" and request in ("explore", "edit", "import", "discard", "export"):
            return "this viewer only shows what Python gave it"
        if self.mode == "public" and request == "export":
            return "nothing can be saved on the server from this page; use Download"
        return None

    def credentials(self, value: Any) -> Credentials | None:
        """Credentials typed into the form: values only, never a path on the kernel's disk."""
        if value is None or value == {} or value == "":
            return None
        if not isinstance(value, Mapping):
            raise CredentialsError("", "credentials must be given as values (a JSON object), not a file path")
        return coerce_credentials(dict(value))

    def check_uri(self, uri: str) -> None:
        """Public mode: only https/s3/gs URIs (Neuroglancer links are checked per source)."""
        if self.mode != "public":
            return
        if neuroglancer.is_neuroglancer_url(uri):
            return
        check_public_uri(parse_uri(uri))

    def export_path(self, raw: Any) -> Path:
        """The file a browser export writes: a plain name (no folder, no leading dot) in
        `export_dir`."""
        name = str(raw or "").strip() or "datasource-properties.json"
        if not _FILE_NAME.match(name) or name.startswith(".") or name in ("..", "."):
            raise ValueError(
                f"export needs a plain file name (no folder, no leading dot), not {scrub(name)[:80]!r}"
            )
        return self.export_dir / name

    def message(self, error: BaseException, uri: str = "") -> str:
        """The text of an error as the browser may see it."""
        if self.mode != "public":
            return scrub(str(error)) if isinstance(error, RemoteDatasetError) else scrub(f"{type(error).__name__}: {error}")
        cause = "the request failed"
        if isinstance(error, RemoteDatasetError):
            for cls, text in _PUBLIC_CAUSES:
                if isinstance(error, cls):
                    cause = text
                    break
        shown = scrub(uri)[:200]
        return f"{shown}: {cause}" if shown else cause
