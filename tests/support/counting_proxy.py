"""Tiny counting reverse proxy (aiohttp), used in front of fake-gcs-server.

Run as ``python -m tests.support.counting_proxy --upstream http://127.0.0.1:P --port Q``
or by path. Every request is forwarded unchanged (method, path, query, headers
including ``Host``, body) and the answer streamed back byte for byte
(no decompression). Requests are counted like in ``http_server``; the control
endpoints ``GET /__stats`` and ``POST /__reset`` are answered by the proxy itself
and never counted or forwarded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run by path or with -m
from http_server import STATS, Stats, get_stats, reset_stats

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


UPSTREAM = web.AppKey("upstream", str)
SESSION = web.AppKey("session", aiohttp.ClientSession)


async def forward(request: web.Request) -> web.StreamResponse:
    stats = request.app[STATS]
    stats.methods[request.method] += 1
    stats.requests += 1
    stats.paths.append(request.path_qs)
    headers = {
        k: v
        for k, v in request.headers.items()
        if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
    }
    body = await request.read()
    url = request.app[UPSTREAM] + request.raw_path
    async with request.app[SESSION].request(
        request.method,
        url,
        headers=headers,
        data=body if body else None,
        allow_redirects=False,
    ) as upstream:
        stats.statuses[str(upstream.status)] += 1
        response = web.StreamResponse(
            status=upstream.status,
            reason=upstream.reason,
            headers={k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP},
        )
        await response.prepare(request)
        if request.method != "HEAD":
            async for chunk in upstream.content.iter_chunked(1 << 16):
                stats.bytes += len(chunk)
                await response.write(chunk)
        await response.write_eof()
        return response


async def _session_ctx(app: web.Application):  # type: ignore[no-untyped-def]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)
    ) as session:
        app[SESSION] = session
        yield


def make_app(upstream: str) -> web.Application:
    app = web.Application(client_max_size=1 << 30)
    app[UPSTREAM] = upstream.rstrip("/")
    app[STATS] = Stats()
    app.cleanup_ctx.append(_session_ctx)
    app.router.add_get("/__stats", get_stats)
    app.router.add_post("/__reset", reset_stats)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(
        make_app(args.upstream), host=args.host, port=args.port, print=None, access_log=None
    )


if __name__ == "__main__":
    main()
