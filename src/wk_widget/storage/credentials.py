"""Credentials of the public interface; secrets are hidden from `repr` and messages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CredentialsError, register_secret


@dataclass(frozen=True)
class HttpBasicAuth:
    username: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        register_secret(self.password)

    def __repr__(self) -> str:
        return f"HttpBasicAuth(username={self.username!r}, password='***')"


@dataclass(frozen=True)
class HttpBearerToken:
    token: str = field(repr=False)

    def __post_init__(self) -> None:
        register_secret(self.token)

    def __repr__(self) -> str:
        return "HttpBearerToken(token='***')"


@dataclass(frozen=True)
class S3Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    endpoint_url: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        register_secret(self.secret_access_key)

    def __repr__(self) -> str:
        return (
            f"S3Credentials(access_key_id={self.access_key_id!r}, secret_access_key='***', "
            f"endpoint_url={self.endpoint_url!r}, region={self.region!r})"
        )


@dataclass(frozen=True)
class GcsCredentials:
    service_account: Mapping[str, Any] | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.service_account is not None:
            if not isinstance(self.service_account, Mapping):
                raise CredentialsError("", "GCS service_account must be a JSON object")
            object.__setattr__(self, "service_account", dict(self.service_account))
            for key in ("private_key", "private_key_id", "client_secret", "refresh_token"):
                value = self.service_account.get(key)
                if isinstance(value, str):
                    register_secret(value)
        if self.token not in (None, "anon"):
            register_secret(self.token)

    def __repr__(self) -> str:
        kind = "service_account" if self.service_account else (self.token and "token") or "default"
        return f"GcsCredentials(<{kind}>)"

    def __hash__(self) -> int:
        sa = json.dumps(self.service_account, sort_keys=True) if self.service_account else None
        return hash((sa, self.token))


Credentials = HttpBasicAuth | HttpBearerToken | S3Credentials | GcsCredentials


def _require(d: Mapping[str, Any], key: str, kind: str) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not value:
        raise CredentialsError("", f"{kind} credentials need a non-empty string {key!r}")
    return value


def credentials_from_dict(d: Mapping[str, Any]) -> Credentials:
    """Build credentials from the CLI's JSON form (`{"type": "s3", ...}`)."""
    if not isinstance(d, Mapping):
        raise CredentialsError("", "credentials must be a JSON object")
    kind = d.get("type")
    if kind == "http_basic":
        return HttpBasicAuth(_require(d, "username", kind), _require(d, "password", kind))
    if kind == "http_bearer":
        return HttpBearerToken(_require(d, "token", kind))
    if kind == "s3":
        endpoint = d.get("endpoint_url") or None
        region = d.get("region") or None
        return S3Credentials(
            _require(d, "access_key_id", kind),
            _require(d, "secret_access_key", kind),
            endpoint_url=str(endpoint) if endpoint else None,
            region=str(region) if region else None,
        )
    if kind == "gcs":
        sa = d.get("service_account")
        token = d.get("token")
        if sa is None and token is None:
            raise CredentialsError("", "gcs credentials need 'service_account' or 'token'")
        if isinstance(sa, str):
            try:
                sa = json.loads(sa)
            except json.JSONDecodeError as exc:
                raise CredentialsError("", f"gcs service_account is not valid JSON ({exc.msg})") from None
        return GcsCredentials(service_account=sa, token=token)
    raise CredentialsError(
        "", f"unknown credentials type {kind!r}; use http_basic, http_bearer, s3 or gcs"
    )


def coerce_credentials(value: Credentials | Mapping[str, Any] | str | Path | None) -> Credentials | None:
    """Accept credential objects, the CLI's dicts, or a path to such a JSON file."""
    if value is None:
        return None
    if isinstance(value, HttpBasicAuth | HttpBearerToken | S3Credentials | GcsCredentials):
        return value
    if isinstance(value, str | Path):
        path = Path(value)
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise CredentialsError(str(path), f"cannot read credentials file ({exc.strerror})") from None
        except json.JSONDecodeError as exc:
            raise CredentialsError(str(path), f"credentials file is not valid JSON ({exc.msg})") from None
        return credentials_from_dict(data)
    if isinstance(value, Mapping):
        return credentials_from_dict(value)
    raise CredentialsError("", f"unsupported credentials of type {type(value).__name__}")
