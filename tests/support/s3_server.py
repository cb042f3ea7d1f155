"""moto's S3/IAM server app in its own process, wrapped by a request-counting middleware.

Run as ``python -m tests.support.s3_server --port P`` or by path. Set
``INITIAL_NO_AUTH_ACTION_COUNT`` in the environment *before* starting it to make moto
enforce signatures and IAM policies after that many requests.

Control endpoints (answered by the wrapper, never counted or passed to moto; bucket
names cannot contain ``_`` so they cannot clash): ``GET /__stats`` ->
``{"methods": {...}, "statuses": {...}, "requests": n, "bytes": n, "paths": [...]}``
(paths include the query string) and ``POST /__reset``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run by path or with -m
from http_server import Stats  # the same counters as the HTTP server and the GCS proxy

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class CountingMiddleware:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.lock = threading.Lock()  # werkzeug serves each request in its own thread
        self.stats = Stats()

    def reset(self) -> None:
        with self.lock:
            self.stats.clear()

    def snapshot(self) -> dict[str, object]:
        with self.lock:
            return self.stats.as_json()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ["REQUEST_METHOD"]
        if path == "/__stats" and method == "GET":
            return _json(start_response, self.snapshot())
        if path == "/__reset" and method == "POST":
            self.reset()
            return _json(start_response, {"ok": True})
        query = environ.get("QUERY_STRING", "")
        with self.lock:
            self.stats.methods[method] += 1
            self.stats.requests += 1
            self.stats.paths.append(f"{path}?{query}" if query else path)

        def counting_start_response(status: str, headers: Any, *exc: Any) -> Any:
            with self.lock:
                self.stats.statuses[status.split(" ", 1)[0]] += 1
            return start_response(status, headers, *exc)

        result = self.app(environ, counting_start_response)
        return self._count_body(result, method)

    def _count_body(self, result: Iterable[bytes], method: str) -> Iterator[bytes]:
        try:
            for chunk in result:
                if method != "HEAD":
                    with self.lock:
                        self.stats.bytes += len(chunk)
                yield chunk
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


def _json(start_response: Callable[..., Any], payload: object) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request log lines
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = CountingMiddleware(DomainDispatcherApplication(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
