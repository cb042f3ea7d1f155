"""Storage: URIs, credentials, read-only counted access to HTTP/S3/GCS/local. It knows no
format: `formats.parse_uri` parses user URIs with the registry's prefixes."""

from ._loop import io_loop, run_sync
from .credential_refs import CredentialRef, register_credentials, resolve_config
from .credentials import (
    Credentials,
    GcsCredentials,
    HttpBasicAuth,
    HttpBearerToken,
    S3Credentials,
    coerce_credentials,
    credentials_from_dict,
)
from .meter import RequestMeter
from .store import (
    Storage,
    StorageConfig,
    get_storage,
    storage_config_for,
    storage_for,
)
from .uri import SourceURI

__all__ = [
    "CredentialRef",
    "Credentials",
    "GcsCredentials",
    "HttpBasicAuth",
    "HttpBearerToken",
    "RequestMeter",
    "S3Credentials",
    "SourceURI",
    "Storage",
    "StorageConfig",
    "coerce_credentials",
    "credentials_from_dict",
    "get_storage",
    "io_loop",
    "register_credentials",
    "resolve_config",
    "run_sync",
    "storage_config_for",
    "storage_for",
]
