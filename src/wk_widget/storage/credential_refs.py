"""Credentials travel between processes by reference, never as secrets.

Every credential class pickles (and deep-copies) to a `CredentialRef`: its kind, a name and
its public parts (user name, access key id, endpoint, region), never the secret. Unpickling
resolves the name, in order, from

1. this process's registry: what this process used or `register_credentials` put there
   (the process that built a dask graph computes it without further setup);
2. a provider registered under that name on a worker, e.g.
   ``client.run(wk.register_credentials, "lab-s3", provider)``;
3. the standard environment of the kind (S3: AWS variables, profiles and shared files via
   botocore; GCS: application default credentials).

An unresolved reference stays a `CredentialRef`; `resolve_config` raises a clear
`CredentialsError` when a read would need it.
"""

from __future__ import annotations

import copyreg
import dataclasses
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import CredentialsError
from .credentials import (
    Credentials,
    GcsCredentials,
    HttpBasicAuth,
    HttpBearerToken,
    S3Credentials,
    credentials_from_dict,
)
from .store import _detect_gcs_env_credentials

Provider = Callable[[], "Credentials | Mapping[str, Any]"]


@dataclass(frozen=True)
class CredentialRef:
    """A picklable stand-in for credentials: no secret, only what names and scopes them."""

    name: str
    kind: str  # "http_basic" | "http_bearer" | "s3" | "gcs"
    public: tuple[tuple[str, str | None], ...] = ()

    def __repr__(self) -> str:
        return f"CredentialRef({self.name!r}, {self.kind})"


_lock = threading.Lock()
_by_name: dict[str, Credentials | Provider] = {}
_names: dict[Credentials, str] = {}


def _kind_and_public(creds: Credentials) -> tuple[str, tuple[tuple[str, str | None], ...], str]:
    """Kind, public parts, and a readable default name (no secret in any of them)."""
    if isinstance(creds, HttpBasicAuth):
        return "http_basic", (("username", creds.username),), f"http_basic:{creds.username}"
    if isinstance(creds, HttpBearerToken):
        return "http_bearer", (), "http_bearer"
    if isinstance(creds, S3Credentials):
        public = (("access_key_id", creds.access_key_id), ("endpoint_url", creds.endpoint_url), ("region", creds.region))
        return "s3", public, f"s3:{creds.access_key_id}"
    sa = creds.service_account or {}
    email = sa.get("client_email") if isinstance(sa, Mapping) else None
    return "gcs", (), f"gcs:{email or ('token' if creds.token else 'default')}"


def register_credentials(name: str, credentials: Credentials | Mapping[str, Any] | Provider) -> CredentialRef:
    """Make `name` resolve to these credentials in this process (run it on dask workers with
    ``client.run(wk.register_credentials, name, provider)``). `credentials` may be a credential
    object, the CLI's dict form, or a callable returning either (called on first use)."""
    if not isinstance(name, str) or not name:
        raise CredentialsError("", "a credentials name must be a non-empty string")
    if isinstance(credentials, Mapping):
        credentials = credentials_from_dict(credentials)
    with _lock:
        _by_name[name] = credentials
        if not callable(credentials) or isinstance(credentials, HttpBasicAuth | HttpBearerToken | S3Credentials | GcsCredentials):
            _names[credentials] = name
    if isinstance(credentials, HttpBasicAuth | HttpBearerToken | S3Credentials | GcsCredentials):
        return ref_of(credentials)
    return CredentialRef(name, "provider")


def ref_of(creds: Credentials) -> CredentialRef:
    """The reference that stands for `creds` in pickles (registers them under it)."""
    kind, public, default = _kind_and_public(creds)
    with _lock:
        name = _names.get(creds)
        if name is None:
            name, i = default, 2
            while name in _by_name and _by_name[name] != creds:
                name, i = f"{default}#{i}", i + 1
            _by_name[name] = creds
            _names[creds] = name
    return CredentialRef(name, kind, public)


def _coerce(value: Any, ref: CredentialRef) -> Credentials:
    if isinstance(value, Mapping):
        value = credentials_from_dict(value)
    if not isinstance(value, HttpBasicAuth | HttpBearerToken | S3Credentials | GcsCredentials):
        raise CredentialsError("", f"the provider of credentials {ref.name!r} returned {type(value).__name__}")
    return value


def _from_environment(ref: CredentialRef) -> Credentials | None:
    public = dict(ref.public)
    if ref.kind == "s3":
        key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not (key and secret):
            try:
                import botocore.session

                found = botocore.session.Session().get_credentials()
            except Exception:
                found = None
            if found is None or not found.access_key or not found.secret_key:
                return None
            key, secret = found.access_key, found.secret_key
        return S3Credentials(key, secret, endpoint_url=public.get("endpoint_url"), region=public.get("region"))
    if ref.kind == "gcs":
        return GcsCredentials() if _detect_gcs_env_credentials() else None
    return None  # HTTP has no standard environment for secrets


def lookup(ref: CredentialRef) -> Credentials | None:
    """The credentials `ref` names in this process, or None when nothing provides them."""
    with _lock:
        found = _by_name.get(ref.name)
    if found is not None:
        if callable(found) and not isinstance(found, HttpBasicAuth | HttpBearerToken | S3Credentials | GcsCredentials):
            creds = _coerce(found(), ref)
            with _lock:  # cache what the provider gave, and remember its name
                _by_name[ref.name] = creds
                _names.setdefault(creds, ref.name)
            return creds
        return found
    return _from_environment(ref)


def resolve(ref: CredentialRef, uri: str = "") -> Credentials:
    creds = lookup(ref)
    if creds is None:
        raise CredentialsError(
            uri,
            f"credentials {ref.name!r} ({ref.kind}) are not known in this process (pid {os.getpid()}); "
            f"register them here, e.g. on dask workers: client.run(wk_widget.register_credentials, "
            f"{ref.name!r}, provider)",
        )
    return creds


def _restore(ref: CredentialRef) -> Credentials | CredentialRef:
    """Unpickling: the credentials when this process can name them, else the reference."""
    try:
        return lookup(ref) or ref
    except CredentialsError:
        return ref


def _reduce(creds: Any) -> tuple[Any, tuple[CredentialRef]]:
    return _restore, (ref_of(creds),)


for _cls in (HttpBasicAuth, HttpBearerToken, S3Credentials, GcsCredentials):
    copyreg.pickle(_cls, _reduce)  # pickle, cloudpickle and copy all consult copyreg


def resolve_config(config: Any, uri: str = "") -> Any:
    """A `StorageConfig` whose credentials are usable here (a reference resolved)."""
    creds = getattr(config, "credentials", None)
    if isinstance(creds, CredentialRef):
        return dataclasses.replace(config, credentials=resolve(creds, uri))
    return config
