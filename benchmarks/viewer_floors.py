"""What the browser benchmark's view costs before any browser work: the floors under
`browser_tiles.py --config analysis`.

- kernel cold read: the tile server reads the first view's target tiles (4 x 3 tiles of
  256^2 per layer, the uint8 image and the uint32 labels: 384 chunks of 64^3) with empty
  caches over the test HTTP server with --latency-ms, in this process, with no browser.
- kernel -> page message: a comm message of N bytes from the kernel to the page of a
  JupyterLab notebook (Jupyter's message path: kernel, ZMQ, Jupyter server, WebSocket),
  timed from the kernel's send to the page's WebSocket message event (both clocks are
  epoch milliseconds on this machine).

Medians over --runs.

    .venv/bin/python benchmarks/viewer_floors.py [--runs 9] [--latency-ms 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import browser_tiles as bt  # noqa: E402
from tests.support.jupyterlab import Browser, JupyterLab, NotebookPage  # noqa: E402
from tests.support.servers import HttpServer, isolate_cloud_env  # noqa: E402
from tests.support.widget_page import WidgetPage  # noqa: E402

MESSAGE_SIZES = (16 * 1024, 256 * 1024, 1024 * 1024)  # above any status or output message

# Records each WebSocket message event of the page (epoch ms, bytes) before JupyterLab sees it.
_WS_HOOK = """(() => {
  const desc = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
  Object.defineProperty(WebSocket.prototype, 'onmessage', {
    configurable: true,
    get() { return desc.get.call(this); },
    set(fn) {
      desc.set.call(this, (ev) => {
        const n = ev.data instanceof ArrayBuffer ? ev.data.byteLength : String(ev.data).length;
        (globalThis.__wkWs ??= []).push([performance.timeOrigin + performance.now(), n]);
        return fn.call(this, ev);
      });
    },
  });
})();"""


class _Host:
    """The tile server's view of a viewer: one dataset, replies collected."""

    def __init__(self, ds: Any, expected: int) -> None:
        self.ds, self.expected, self.tiles = ds, expected, 0
        self.done = threading.Event()

    def _target(self) -> Any:
        return self.ds

    def _reply(self, content: dict[str, Any], buffers: Any = None) -> None:
        self.tiles += len(content.get("tiles", []))
        if self.tiles >= self.expected:
            self.done.set()

    def _kernel_loop(self) -> None:
        return None

    def _error_message(self, exc: BaseException) -> str:
        return repr(exc)


def kernel_cold_read(url: str, labels_url: str, runs: int) -> dict[str, Any]:
    import wk_widget as wk
    from wk_widget.engine import CHUNK_CACHE
    from wk_widget.widget.tiles import TILE_SLABS, TileServer

    walls, cpus = [], []
    for _ in range(runs):
        CHUNK_CACHE.clear()
        TILE_SLABS.clear()
        hosts = []
        for source in (url, labels_url):
            ds = wk.explore(source)
            name = next(iter(ds)).name
            requests = [
                {"id": f"{name}-{i}-{j}", "layer": name, "plane": "xy", "mag": [1, 1, 1], "tile": [i, j],
                 "size": 256, "slice": 32, "format": "raw"}
                for i in range(4) for j in range(3)
            ]  # fmt: skip
            hosts.append((_Host(ds, len(requests)), requests))
        c0, t0 = time.process_time(), time.perf_counter()
        for host, requests in hosts:
            TileServer(host).handle_tiles({"requests": requests})
        for host, _ in hosts:
            if not host.done.wait(120):
                raise RuntimeError("tiles not read within 120 s")
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    return {"wall_ms": statistics.median(walls), "cpu_ms": statistics.median(cpus),
            "all_wall_ms": [round(w, 1) for w in walls], "chunks": 2 * 12 * 16}  # fmt: skip


def message_latency(url: str, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with JupyterLab() as lab, Browser() as browser:
        page = browser.new_page()
        page.add_init_script(_WS_HOOK)
        lab.write_notebook("floors.ipynb", bt.notebook_cells(url, 400, [1024.0, 1024.0, 32.0]))
        nb = NotebookPage(lab, "floors.ipynb", page)
        nb.open()
        nb.run_all()
        WidgetPage(page).wait_complete(timeout_ms=120_000)
        page.wait_for_timeout(3000)  # the margin tiles fetched after the view completed
        for size in MESSAGE_SIZES:
            lags = []
            for _ in range(runs):
                seen = int(page.evaluate("() => (globalThis.__wkWs || []).length"))
                code = f"import time as _t\n_t0 = _t.time() * 1000\nviewer.send({{'type': 'ping'}}, [bytes({size})])\nprint(_t0)"
                sent = float(lab.execute(nb.name, code).strip().splitlines()[-1])
                page.wait_for_timeout(300)
                events = page.evaluate("() => globalThis.__wkWs || []")[seen:]
                lags.extend([t - sent for t, n in events if n >= size][:1])
            out[f"{size} bytes"] = {
                "median_ms": round(statistics.median(lags), 1),
                "all_ms": [round(x, 1) for x in lags],
            }
        nb.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    isolate_cloud_env()
    data, labels = bt.write_dataset(), bt.write_labels()
    with HttpServer(bt.CACHE / "http-root", latency_ms=args.latency_ms) as http:
        url = f"{http.publish(data.parent, 'bench')}/{data.name}"
        labels_url = f"{url.rsplit('/', 1)[0]}/{labels.name}"
        cold = kernel_cold_read(url, labels_url, args.runs)
        print(f"kernel cold read of the first view (384 chunks, no browser): {cold['wall_ms']:.1f} ms"
              f" (CPU {cold['cpu_ms']:.1f} ms)  all: {cold['all_wall_ms']}")  # fmt: skip
        messages = message_latency(url, args.runs)
    for size, m in messages.items():
        print(f"kernel -> page message of {size}: {m['median_ms']} ms  all: {m['all_ms']}")
    if args.json:
        args.json.write_text(json.dumps({"latency_ms": args.latency_ms, "runs": args.runs,
                                         "kernel_cold_read": cold, "kernel_to_page": messages}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
