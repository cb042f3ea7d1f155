"""Where credentials may go: origins, access policies and public-address checks.

Credentials are given for one origin (HTTP: scheme, host and port; S3: endpoint and
bucket; GCS: bucket) and used only there. Paths found in remote metadata (datasources,
Neuroglancer links, NGFF) on another origin are read anonymously, never with the user's
or the kernel's own (ambient) credentials, and never lead to local files.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import AccessDeniedError
from .uri import SourceURI

_AWS_DEFAULT = "aws"
# Test seam: host names treated as public (the suite's servers all live on loopback).
EXTRA_PUBLIC_HOSTS: set[str] = set()


@dataclass(frozen=True)
class Access:
    """What a source may use besides the credentials given with it (picklable).

    `origin`: the origin the credentials were given for (None: no scoping known yet).
    `ambient`: the kernel's own credentials (environment, profiles, metadata servers)
    may be used. `public_only`: only https/s3/gs on public addresses (checked after name
    resolution and on every redirect).
    """

    origin: str | None = None
    ambient: bool = True
    public_only: bool = False


NOTEBOOK = Access()
PUBLIC = Access(ambient=False, public_only=True)


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def s3_endpoint_key(endpoint: str | None) -> str:
    if not endpoint:
        return _AWS_DEFAULT
    parts = urlsplit(endpoint)
    port = parts.port or _default_port(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def ambient_s3_endpoint() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def origin_of(uri: SourceURI, credentials: object = None) -> str:
    """The origin credentials for `uri` are scoped to (S3: the credentials' endpoint, if
    they name one, else the URI's, else the environment's)."""
    if uri.scheme in ("http", "https"):
        parts = urlsplit(f"{uri.scheme}://{uri.authority}")
        port = parts.port or _default_port(uri.scheme)
        return f"{uri.scheme}://{(parts.hostname or '').lower()}:{port}"
    if uri.scheme == "s3":
        endpoint = getattr(credentials, "endpoint_url", None) or uri.endpoint_url or ambient_s3_endpoint()
        return f"s3://{s3_endpoint_key(endpoint)}/{uri.authority}"
    if uri.scheme == "gs":
        return f"gs://{uri.authority}"
    return "file://"


def scoped(uri: SourceURI, credentials: object, access: Access) -> tuple[object, Access, str]:
    """(credentials, access, note) to use for `uri`: the given ones on their own origin,
    none (anonymous, no ambient credentials) elsewhere; `note` says what was withheld."""
    if access.origin is None or origin_of(uri, credentials) == access.origin:
        return credentials, access, ""
    note = f"credentials given for {access.origin} are not sent to another origin"
    return None, Access(origin=access.origin, ambient=False, public_only=access.public_only), note


def access_for(uri: SourceURI, credentials: object, access: Access) -> Access:
    """`access` scoped to the origin of the URI the user gave (with its credentials)."""
    if access.origin is not None:
        return access
    return Access(origin=origin_of(uri, credentials), ambient=access.ambient, public_only=access.public_only)


def check_metadata_path(source: SourceURI, target: SourceURI, where: str) -> None:
    """A path named in metadata read from `source` must not lead to local files."""
    if target.scheme == "file" and source.scheme != "file":
        raise AccessDeniedError(
            where, f"refused: remote metadata names a local path ({target.url}); remote datasets cannot read local files"
        )


def _public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved)


def check_public_ips(host: str, addresses: list[str], display: str) -> None:
    """Refuse a host that resolves to any non-public address (loopback, private, link-local,
    metadata servers such as 169.254.169.254, ...)."""
    if not addresses:
        raise AccessDeniedError(display, f"refused: {host} does not resolve")
    for text in addresses:
        try:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            raise AccessDeniedError(display, f"refused: {host} resolves to an invalid address") from None
        if not _public_ip(ip):
            raise AccessDeniedError(
                display, f"refused: {host} is not a public address; this viewer only reads public sources"
            )


def resolve_public(host: str, port: int, display: str) -> None:
    """Resolve `host` (blocking) and refuse it unless every address is public."""
    if host in EXTRA_PUBLIC_HOSTS:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise AccessDeniedError(display, f"refused: cannot resolve {host}") from None
    check_public_ips(host, [str(info[4][0]) for info in infos], display)


def check_public_uri(uri: SourceURI) -> None:
    """Schemes allowed in public mode (https, s3, gs); addresses are checked when connecting."""
    host = urlsplit(f"//{uri.authority}").hostname or ""
    if uri.scheme == "http" and host in EXTRA_PUBLIC_HOSTS:
        return
    if uri.scheme not in ("https", "s3", "gs"):
        raise AccessDeniedError(uri.url, f"refused: only https://, s3:// and gs:// sources can be opened here, not {uri.scheme}://")
