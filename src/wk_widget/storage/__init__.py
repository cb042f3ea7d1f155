"""Storage: URI parsing, credentials, read-only counted access to HTTP/S3/GCS/local."""

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
from .uri import METADATA_FILE_NAMES, SourceURI, parse_uri

__all__ = [
    "METADATA_FILE_NAMES",
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
    "parse_uri",
    "register_credentials",
    "resolve_config",
    "run_sync",
    "storage_config_for",
    "storage_for",
]
