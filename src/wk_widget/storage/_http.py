"""One bounded HTTP GET: body size capped before memory is spent, content-encoding decoded
within the same cap, `Content-Range` checked against the range asked for, and statuses
turned into exceptions that carry `Retry-After`."""

from __future__ import annotations

import re
import zlib
from typing import Any

from ..errors import LimitExceededError, RemoteDatasetError
from .retry import parse_retry_after

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_READ_BLOCK = 1 << 16


class HttpStatusError(Exception):
    """An HTTP error status (>= 400, not 404) with the server's `Retry-After`, if any."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class RedirectTo(Exception):
    """A redirect the caller follows itself (public mode checks every hop)."""

    def __init__(self, location: str, origin_url: str) -> None:
        super().__init__(location)
        self.location = location
        self.origin_url = origin_url


class RangeMismatch(Exception):
    """A 206 whose Content-Range is not the range asked for."""

    def __init__(self, asked: str, got: str) -> None:
        super().__init__(f"asked for {asked}, the server answered Content-Range {got!r}")


def too_large(display: str, limit: int, what: str = "response") -> LimitExceededError:
    return LimitExceededError(display, f"{what} larger than the {limit} bytes the metadata allows for; refused")


def _decoder(encoding: str, display: str) -> Any:
    enc = encoding.strip().lower()
    if enc in ("", "identity"):
        return None
    if enc in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if enc == "deflate":
        return zlib.decompressobj()
    raise RemoteDatasetError(display, f"unsupported Content-Encoding {encoding!r}")


async def _read_capped(response: Any, cap: int, display: str) -> bytes:
    """The (decoded) body, refusing as soon as it would exceed `cap` bytes."""
    encoding = response.headers.get("Content-Encoding", "")
    decoder = _decoder(encoding, display)
    length = response.content_length
    if decoder is None and length is not None:
        if length > cap:
            raise too_large(display, cap)
        return bytes(await response.read())
    out = bytearray()
    raw_total = 0
    async for block in response.content.iter_chunked(_READ_BLOCK):
        raw_total += len(block)
        if decoder is None:
            out += block
        else:
            # max_length bounds what one step may allocate: a bomb stops at the cap.
            out += decoder.decompress(block, cap + 1 - len(out))
            if decoder.unconsumed_tail:
                raise too_large(display, cap, "decoded response")
        if len(out) > cap or raw_total > cap:
            raise too_large(display, cap)
    if decoder is not None:
        try:
            out += decoder.flush()
        except zlib.error as exc:
            raise RemoteDatasetError(display, f"corrupt {encoding} encoding ({exc})") from None
        if len(out) > cap:
            raise too_large(display, cap, "decoded response")
    return bytes(out)


def check_content_range(header: str | None, start: int, end: int | None, asked: str) -> None:
    """`end` exclusive (None: to the end of the object; start < 0: a suffix range)."""
    m = _CONTENT_RANGE.match(header or "")
    if m is None:
        raise RangeMismatch(asked, header or "")
    first, last = int(m.group(1)), int(m.group(2))
    total = None if m.group(3) == "*" else int(m.group(3))
    if start < 0:
        ok = total is not None and last == total - 1 and first == max(0, total + start)
    elif end is None:
        ok = first == start and (total is None or last == total - 1)
    else:
        ok = first == start and (last == end - 1 or (total is not None and last == total - 1 and last < end - 1))
    if not ok:
        raise RangeMismatch(asked, header or "")


async def bounded_get(
    session: Any,
    url: Any,
    headers: dict[str, str],
    display: str,
    cap: int,
    span: tuple[int, int | None] | None = None,
    follow_redirects: bool = True,
) -> bytes:
    """GET `url`; `span` = (start, end exclusive or None) asks for a byte range."""
    asked = ""
    if span is not None:
        start, end = span
        asked = f"bytes={start}" if start < 0 else (f"bytes={start}-" if end is None else f"bytes={start}-{end - 1}")
        headers = {**headers, "Range": asked}
    async with session.get(url, headers=headers, allow_redirects=follow_redirects) as response:
        status = response.status
        if not follow_redirects and status in (301, 302, 303, 307, 308):
            location = response.headers.get("Location")
            if location:
                raise RedirectTo(location, str(url))
        if status == 404:
            raise FileNotFoundError(display)
        if status >= 400:
            raise HttpStatusError(status, parse_retry_after(response.headers.get("Retry-After")))
        if span is None:
            return await _read_capped(response, cap, display)
        start, end = span
        if status == 206:
            check_content_range(response.headers.get("Content-Range"), start, end, asked)
            return await _read_capped(response, cap, display)
        # 200: the server ignored Range and sends the whole object; read only what is needed.
        if start < 0:
            return (await _read_capped(response, cap * 4 + (1 << 20), display))[start:]
        if end is None:
            return (await _read_capped(response, start + cap, display))[start:]
        body = await _read_capped_prefix(response, end, display)
        return body[start:end]


async def _read_capped_prefix(response: Any, need: int, display: str) -> bytes:
    if response.headers.get("Content-Encoding", "").strip().lower() not in ("", "identity"):
        return await _read_capped(response, need, display)
    out = bytearray()
    async for block in response.content.iter_chunked(_READ_BLOCK):
        out += block
        if len(out) >= need:
            break
    return bytes(out[:need])
