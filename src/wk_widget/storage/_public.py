"""HTTP for pages shown to people who cannot run code: public addresses only.

Names are checked after resolution, by the resolver the connection itself uses (no gap
for DNS rebinding between check and connect); IP literals and every redirect hop are
checked before the request is sent.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urljoin, urlsplit

from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

from ..errors import AccessDeniedError
from ._http import RedirectTo, bounded_get
from .origins import EXTRA_PUBLIC_HOSTS, check_public_ips
from .uri import redact_url

MAX_REDIRECTS = 5


class PublicResolver(AbstractResolver):
    """Resolves like aiohttp's default and refuses any non-public address."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: Any = 0) -> list[Any]:
        infos = await self._inner.resolve(host, port, family)
        if host not in EXTRA_PUBLIC_HOSTS:
            check_public_ips(host, [str(i["host"]) for i in infos], host)
        return infos

    async def close(self) -> None:
        await self._inner.close()


def check_public_url(url: str) -> None:
    parts = urlsplit(url)
    display = redact_url(url)
    if parts.scheme != "https" and parts.hostname not in EXTRA_PUBLIC_HOSTS:
        raise AccessDeniedError(display, "refused: only https:// addresses can be opened here")
    host = parts.hostname or ""
    if host in EXTRA_PUBLIC_HOSTS:
        return
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return  # a name: checked by the resolver when connecting
    check_public_ips(host, [host], display)


async def public_get(
    session: Any, url: str, headers: dict[str, str], display: str, cap: int, span: tuple[int, int | None] | None
) -> bytes:
    """`bounded_get` that follows redirects itself, checking every hop."""
    import yarl

    for _ in range(MAX_REDIRECTS + 1):
        check_public_url(url)
        try:
            return await bounded_get(
                session, yarl.URL(url, encoded=True), headers, display, cap, span, follow_redirects=False
            )
        except RedirectTo as hop:
            url = urljoin(url, hop.location)
            # Credentials stay with their origin: no Authorization header to another host.
            if urlsplit(url).netloc != urlsplit(hop.origin_url).netloc:
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    raise AccessDeniedError(display, "refused: too many redirects")
