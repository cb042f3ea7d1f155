"""HTTP test server with switchable misbehaviour, in its own process (aiohttp only).

Serves files below ``--root`` like ``http_server.py`` and adds faults, chosen per URL so
that one server covers every case:

* ``/__gzipbomb/<MiB>/<any>``: a gzip ``Content-Encoding`` body that decodes to MiB
  mebibytes of zeros (~1000x compression).
* ``/__endless/<any>``: a chunked JSON body that never ends.
* ``/__stall/<any>``: headers and a few bytes, then silence.
* ``/__wrongrange/<n>/<path>``: the first ``n`` ranged requests of each path get a 206
  whose ``Content-Range`` (and body) is shifted by one byte; later ones are correct. The same
  path answers S3's path-style GetObject (bucket ``__wrongrange``), and GCS's media download
  of bucket ``__wrongrange`` misbehaves the same way.
* ``/__retryafter/<n>/<seconds>/<path>``: the first ``n`` requests of each path get 503
  with ``Retry-After: <seconds>``, then ``<path>`` is served.
* ``/__redirect/<host>/<port>/<path>``: 302 to ``http://<host>:<port>/<path>``.
* A file ``<path>.status`` (holding e.g. ``403``) makes ``<path>`` answer that status;
  a file ``<path>.stall`` makes it stall.
* Every request's headers are recorded: ``GET /__captured`` lists
  ``{"path", "query", "headers"}``, ``POST /__reset`` clears it and the counters.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import sys
import time
import urllib.parse
import zlib
from collections import Counter
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_server import _PlainFileResponse, _resolve

ROOT = web.AppKey("root", Path)
SEEN = web.AppKey("seen", Counter)
CAPTURED = web.AppKey("captured", list)
BOMBS: dict[int, bytes] = {}


@web.middleware
async def capture(request: web.Request, handler):  # type: ignore[no-untyped-def]
    if request.path not in ("/__captured", "/__reset"):
        request.app[CAPTURED].append(
            {"path": request.path, "query": request.query_string, "headers": dict(request.headers), "t": time.time()}
        )
    return await handler(request)


def _file(request: web.Request, tail: str) -> web.StreamResponse:
    return _PlainFileResponse(_resolve(request.app[ROOT], tail))


def _zero_bomb(mib: int) -> bytes:
    """A valid gzip stream of `mib` MiB of zeros, built from one fully flushed deflate
    block repeated (each decodes on its own), so making it costs no time or memory."""
    zeros = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)  # the steady-state block
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)
    return header + block * mib + c.flush() + trailer


async def gzip_bomb(request: web.Request) -> web.StreamResponse:
    mib = int(request.match_info["mib"])
    if mib not in BOMBS:
        BOMBS[mib] = _zero_bomb(mib)
    return web.Response(body=BOMBS[mib], headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})


async def endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(b'{"zarr_format": 3, "padding": "')
    block = b"x" * (1 << 16)
    try:
        while True:
            await response.write(block)
    except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
        pass
    return response


async def stall(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "1000"})
    await response.prepare(request)
    await response.write(b'{"zarr')
    await asyncio.sleep(3600)
    return response


async def wrong_range(request: web.Request) -> web.StreamResponse:
    return _wrong_range(request, int(request.match_info["n"]), request.match_info["tail"])


async def gcs_media(request: web.Request) -> web.StreamResponse:
    """GCS's media download (``/download/storage/v1/b/<bucket>/o/<object>?alt=media``) of
    ``<bucket>/<object>``; bucket ``__wrongrange`` with object ``<n>/<path>`` misbehaves as above."""
    bucket, name = request.match_info["bucket"], urllib.parse.unquote(request.match_info["name"])
    if bucket == "__wrongrange":
        n, _, tail = name.partition("/")
        return _wrong_range(request, int(n), tail)
    return _file(request, f"{bucket}/{name}")


def _wrong_range(request: web.Request, n: int, tail: str) -> web.StreamResponse:
    if "Range" not in request.headers:
        return _file(request, tail)
    key = f"range/{tail}"
    request.app[SEEN][key] += 1
    if request.app[SEEN][key] > n:
        return _file(request, tail)
    data = _resolve(request.app[ROOT], tail).read_bytes()
    rng = request.http_range
    start = rng.start or 0
    if start < 0:
        start = max(len(data) + start, 0)
    stop = len(data) if rng.stop is None else min(rng.stop, len(data))
    s, e = min(start + 1, len(data) - 1), min(stop + 1, len(data))  # off by one byte
    return web.Response(
        status=206, body=data[s:e], headers={"Content-Range": f"bytes {s}-{e - 1}/{len(data)}"}
    )


async def retry_after(request: web.Request) -> web.StreamResponse:
    n = int(request.match_info["n"])
    tail = request.match_info["tail"]
    key = f"retry/{n}/{tail}"
    request.app[SEEN][key] += 1
    if request.app[SEEN][key] <= n:
        return web.Response(status=503, text="busy", headers={"Retry-After": request.match_info["secs"]})
    return _file(request, tail)


async def redirect(request: web.Request) -> web.StreamResponse:
    m = request.match_info
    raise web.HTTPFound(f"http://{m['host']}:{m['port']}/{m['tail']}")


async def captured(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[CAPTURED])


async def reset(request: web.Request) -> web.StreamResponse:
    request.app[CAPTURED].clear()
    request.app[SEEN].clear()
    return web.json_response({"ok": True})


async def serve(request: web.Request) -> web.StreamResponse:
    tail = request.match_info["tail"]
    marker = request.app[ROOT] / (tail + ".status")
    if marker.is_file():  # a per-file fault: answer with the status written in it
        return web.Response(status=int(marker.read_text()), text="injected")
    if (request.app[ROOT] / (tail + ".stall")).is_file():
        return await stall(request)
    return _file(request, tail)


def make_app(root: Path) -> web.Application:
    app = web.Application(middlewares=[capture])
    app[ROOT] = root
    app[SEEN] = Counter()
    app[CAPTURED] = []
    app.router.add_get("/__captured", captured)
    app.router.add_post("/__reset", reset)
    app.router.add_get("/__stats", captured)  # readiness probe of ServerProcess
    app.router.add_get(r"/__gzipbomb/{mib:\d+}/{tail:.*}", gzip_bomb)
    app.router.add_get("/__endless/{tail:.*}", endless)
    app.router.add_get("/__stall/{tail:.*}", stall)
    app.router.add_get(r"/__wrongrange/{n:\d+}/{tail:.*}", wrong_range)
    app.router.add_get("/download/storage/v1/b/{bucket}/o/{name:.*}", gcs_media)
    app.router.add_get(r"/__retryafter/{n:\d+}/{secs:\d+}/{tail:.*}", retry_after)
    app.router.add_get(r"/__redirect/{host}/{port:\d+}/{tail:.*}", redirect)
    app.router.add_get("/{tail:.*}", serve)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(make_app(args.root.resolve()), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
