"""Static HTTP test server (aiohttp) that behaves like cloud static hosting.

Run as ``python -m tests.support.http_server --root DIR --port P`` or by path.
It uses only aiohttp and the standard library, so it can run in its own process.

Behaviour:

* ``GET``/``HEAD`` of files below ``--root`` via ``web.FileResponse`` (Range, suffix
  ranges ``bytes=-N``, 206, 416, ETag, HEAD). Missing files and directories: 404
  (no directory listings). Every other method: 405 (counted).
* ``--latency-ms``: sleep before answering each counted request.
* ``--basic-auth USER:PASSWORD`` and/or ``--bearer-token TOKEN``: 401 unless the
  request carries one of the configured credentials.
* Fault injection: ``/__status/<code>/<any>`` answers ``<code>``;
  ``/__flaky/<n>/<path>`` answers 503 to the first ``n`` requests for each distinct
  path, then serves ``<path>``; ``/__corrupt/<path>`` serves ``<path>`` with every
  byte xor 0xFF (Range supported).
* Control endpoints, never counted, no auth, no latency: ``GET /__stats`` ->
  ``{"methods": {...}, "statuses": {...}, "requests": n, "bytes": n, "paths": [...]}``
  and ``POST /__reset`` (also resets the flaky counters).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hmac
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

CONTROL_PATHS = frozenset({"/__stats", "/__reset"})
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Range, Content-Length, ETag, Accept-Ranges",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Stats:
    methods: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    bytes: int = 0
    paths: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.methods.clear()
        self.statuses.clear()
        self.requests = self.bytes = 0
        self.paths.clear()

    def as_json(self) -> dict[str, object]:
        return {
            "methods": dict(self.methods),
            "statuses": dict(self.statuses),
            "requests": self.requests,
            "bytes": self.bytes,
            "paths": list(self.paths),
        }


@dataclass
class Config:
    root: Path
    latency_ms: float = 0.0
    basic_auth: tuple[str, str] | None = None
    bearer_token: str | None = None


STATS = web.AppKey("stats", Stats)
CONFIG = web.AppKey("config", Config)
FLAKY = web.AppKey("flaky", Counter)


def _is_control(request: web.Request) -> bool:
    return request.path in CONTROL_PATHS


def _authorized(config: Config, header: str) -> bool:
    if config.basic_auth is None and config.bearer_token is None:
        return True
    scheme, _, value = header.partition(" ")
    if config.bearer_token is not None and scheme.lower() == "bearer":
        return hmac.compare_digest(value.strip(), config.bearer_token)
    if config.basic_auth is not None and scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except ValueError:
            return False
        expected = "{}:{}".format(*config.basic_auth)
        return hmac.compare_digest(decoded, expected)
    return False


@web.middleware
async def counting_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _is_control(request):
        return await handler(request)
    stats = request.app[STATS]
    config = request.app[CONFIG]
    stats.methods[request.method] += 1
    stats.requests += 1
    stats.paths.append(request.path)
    if config.latency_ms > 0:
        await asyncio.sleep(config.latency_ms / 1000)
    if request.method != "OPTIONS" and not _authorized(
        config, request.headers.get("Authorization", "")
    ):
        challenge = 'Basic realm="wk-test"' if config.basic_auth else "Bearer"
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": challenge})
    return await handler(request)


async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(CORS_HEADERS)
    if _is_control(request):
        return
    stats = request.app[STATS]
    stats.statuses[str(response.status)] += 1
    if request.method != "HEAD" and response.content_length:
        stats.bytes += response.content_length


def _resolve(root: Path, tail: str) -> Path:
    parts = [p for p in tail.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise web.HTTPNotFound()
    path = root.joinpath(*parts)
    if not path.is_file():  # directories: no listings, like static hosting
        raise web.HTTPNotFound()
    return path


class _PlainFileResponse(web.FileResponse):
    """FileResponse that never swaps in a sibling ``<file>.gz``/``.br``.

    aiohttp serves ``x.gz`` with ``Content-Encoding: gzip`` for ``x`` when the client
    accepts gzip and the sibling exists; real static hosting does not do that.
    """

    def _get_file_path_stat_encoding(self, accept_encoding: str):  # type: ignore[no-untyped-def]
        return super()._get_file_path_stat_encoding("")


async def serve_file(request: web.Request) -> web.StreamResponse:
    return _PlainFileResponse(_resolve(request.app[CONFIG].root, request.match_info["tail"]))


async def status_fault(request: web.Request) -> web.StreamResponse:
    code = int(request.match_info["code"])
    return web.Response(status=code, text=f"injected status {code}\n")


async def flaky_fault(request: web.Request) -> web.StreamResponse:
    n = int(request.match_info["n"])
    tail = request.match_info["tail"]
    seen = request.app[FLAKY]
    key = f"{n}/{tail}"
    seen[key] += 1
    if seen[key] <= n:
        return web.Response(status=503, text="injected flaky 503\n")
    return _PlainFileResponse(_resolve(request.app[CONFIG].root, tail))


async def corrupt_fault(request: web.Request) -> web.StreamResponse:
    path = _resolve(request.app[CONFIG].root, request.match_info["tail"])
    data = bytes(b ^ 0xFF for b in path.read_bytes())
    if "Range" not in request.headers:
        return web.Response(body=data, content_type="application/octet-stream")
    try:
        rng = request.http_range
    except ValueError as exc:
        raise web.HTTPRequestRangeNotSatisfiable() from exc
    start, stop = rng.start or 0, rng.stop
    if start < 0:  # suffix range bytes=-N
        start = max(len(data) + start, 0)
    stop = len(data) if stop is None else min(stop, len(data))
    if start >= len(data) or start >= stop:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{len(data)}"})
    return web.Response(
        status=206,
        body=data[start:stop],
        content_type="application/octet-stream",
        headers={"Content-Range": f"bytes {start}-{stop - 1}/{len(data)}"},
    )


async def preflight(request: web.Request) -> web.StreamResponse:
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
            "Access-Control-Allow-Headers": "Range, Authorization",
        },
    )


async def get_stats(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[STATS].as_json())


async def reset_stats(request: web.Request) -> web.StreamResponse:
    request.app[STATS].clear()
    if FLAKY in request.app:  # counting_proxy.py shares these control endpoints
        request.app[FLAKY].clear()
    return web.json_response({"ok": True})


def make_app(config: Config) -> web.Application:
    app = web.Application(middlewares=[counting_middleware])
    app[CONFIG] = config
    app[STATS] = Stats()
    app[FLAKY] = Counter()
    app.on_response_prepare.append(on_prepare)
    app.router.add_get("/__stats", get_stats)
    app.router.add_post("/__reset", reset_stats)
    app.router.add_get(r"/__status/{code:\d{3}}/{tail:.*}", status_fault)
    app.router.add_get(r"/__flaky/{n:\d+}/{tail:.*}", flaky_fault)
    app.router.add_get("/__corrupt/{tail:.*}", corrupt_fault)
    app.router.add_get("/{tail:.*}", serve_file)  # add_get also registers HEAD
    app.router.add_route("OPTIONS", "/{tail:.*}", preflight)
    # Write methods are registered so they reach the middleware (counted), then refused.
    for method in ("PUT", "POST", "DELETE", "PATCH"):
        app.router.add_route(method, "/{tail:.*}", _refuse)
    return app


async def _refuse(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD", "OPTIONS"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--basic-auth", metavar="USER:PASSWORD")
    parser.add_argument("--bearer-token")
    args = parser.parse_args(argv)
    basic = None
    if args.basic_auth:
        user, sep, password = args.basic_auth.partition(":")
        if not sep:
            parser.error("--basic-auth needs USER:PASSWORD")
        basic = (user, password)
    config = Config(args.root.resolve(), args.latency_ms, basic, args.bearer_token)
    web.run_app(make_app(config), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
