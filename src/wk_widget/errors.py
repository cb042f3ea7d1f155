"""Errors raised for bad input and for faults of the remote side.

Every message names the URI and the cause, and passes through `scrub`, which removes
every secret this process has been given (passwords, tokens, keys) and the userinfo
and signature parts of URLs. No other exception type escapes for those causes.
"""

from __future__ import annotations

import re
import threading

_secrets: set[str] = set()
_secrets_lock = threading.Lock()

# Query parameters that carry signatures or tokens in pre-signed URLs.
_SECRET_QUERY = re.compile(
    r"(?i)([?&](?:x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|"
    r"x-goog-credential|signature|sig|token|access_token|key|apikey|api_key)=)[^&#\s]*"
)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def register_secret(value: str | None) -> None:
    """Remember a secret so that no message of this package can ever show it."""
    if value and len(value) >= 3:
        with _secrets_lock:
            _secrets.add(value)


def scrub(text: str) -> str:
    """Remove every registered secret, URL userinfo and signature parameter from `text`."""
    text = _USERINFO.sub(r"\1***@", text)
    text = _SECRET_QUERY.sub(r"\1***", text)
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class RemoteDatasetError(Exception):
    """Bad input or a fault of the remote side; the message names the URI and the cause."""

    def __init__(self, uri: str, cause: str) -> None:
        self.uri = scrub(str(uri))
        self.cause = scrub(str(cause))
        super().__init__(f"{self.uri}: {self.cause}" if self.uri else self.cause)


class InvalidURIError(RemoteDatasetError):
    """The URI cannot be understood (unknown scheme, empty, malformed link)."""


class SourceNotFoundError(RemoteDatasetError):
    """Nothing at that URI (HTTP 404, missing bucket or key)."""


class AccessDeniedError(RemoteDatasetError):
    """The server refused access (HTTP 401/403, wrong or missing credentials)."""


class SourceUnreachableError(RemoteDatasetError):
    """The host could not be reached (DNS, refused connection, TLS)."""


class SourceTimeoutError(SourceUnreachableError):
    """The server did not answer in time."""


class ServerFaultError(RemoteDatasetError):
    """The server kept failing (HTTP 5xx) after retries."""


class MalformedMetadataError(RemoteDatasetError):
    """Metadata exists but is not valid JSON or misses required fields."""


class UnsupportedFormatError(RemoteDatasetError):
    """No supported format was found at the URI."""


class UnsupportedDataError(RemoteDatasetError):
    """The format is known but uses an unsupported data type, codec or layout."""


class IncompatibleLayersError(RemoteDatasetError):
    """Layers cannot be assembled into one dataset (e.g. incompatible voxel sizes)."""


class CorruptChunkError(RemoteDatasetError):
    """A chunk was fetched but could not be decoded."""


class CredentialsError(RemoteDatasetError):
    """Credentials were given in a form that cannot be used."""


class LimitExceededError(RemoteDatasetError):
    """Remote input exceeds a safety limit (response size, decoded size, channels, requests)."""
