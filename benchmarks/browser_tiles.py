"""Browser benchmark: time from a pan or zoom to the new tiles on screen, in JupyterLab.

Setup: a 2048 x 2048 x 64 uint8 OME-NGFF 0.4 volume (64^3 chunks, blosc-zstd, mags
1, 2-2-1, 4-4-1; cached under .cache/bench-browser/) served by the test HTTP server
(a real aiohttp process) with --latency-ms per request; JupyterLab + headless Chromium
(tests/support/jupyterlab.py); one Viewer showing only the XY plane with a canvas of
1024 x 768 CSS pixels at zoom 1 (one mag-1 voxel per pixel).

Measured in the page with performance.now(), using the widget's debug hooks: the
``__wk.setView(position, zoom)`` call starts the clock; the widget's ``completeAt``
(the paint at which every visible tile of the target mag is drawn, ``data-complete``)
stops it. Kinds:

- cold first paint: a fresh kernel (new notebook) displays the viewer; from the moment
  the view got its dataset (``infoAt``) to complete. Nothing cached anywhere.
- cold pan / cold zoom: a jump to a region (or mag) never seen before in this kernel.
- warm pan / warm zoom (tiles cached): back to a region the browser's tile cache holds.
- warm pan (data cached): the browser's tile cache cleared (``__wk.clearCache()``), the
  chunks are still in the kernel's cache: tiles are read, rendered and sent again.

Goals: warm < 50 ms, cold first paint < 500 ms. Medians over --runs.

``--config analysis`` measures the same with the analysis tools busy: a uint32
segmentation layer over the volume (same chunks and mags) with 3 selected segments, the
colour layer in the viridis map with gamma 0.8, and 300 annotations (points, lines and
boxes) spread over the regions visited.

    .venv/bin/python benchmarks/browser_tiles.py [--runs 5] [--latency-ms 20] [--config plain|analysis] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.jupyterlab import Browser, JupyterLab, NotebookPage  # noqa: E402
from tests.support.servers import HttpServer, isolate_cloud_env  # noqa: E402
from tests.support.widget_page import WidgetPage  # noqa: E402

CACHE = ROOT / ".cache" / "bench-browser"
SHAPE_ZYX = (64, 2048, 2048)
CHUNK = (64, 64, 64)
VOXEL_SIZE_ZYX = (28.0, 11.24, 11.24)
VIEW = (1024, 768)  # CSS pixels of the XY canvas
GOALS_MS = {"warm": 50.0, "cold first paint": 500.0}

_MEASURE_JS = """
async (el, [position, zoom, clear, timeout]) => {
  let host = el;
  while (host && !host.__wk) host = host.parentElement;
  const api = host.__wk;
  const d = el.dataset;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));  // idle frame
  if (clear) api.clearCache();
  if (clear) await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const before = { received: Number(d.tilesReceived), requested: Number(d.tilesRequested) };
  if (api.resetTiming) api.resetTiming();
  const gen0 = Number(d.viewGen);
  const t0 = performance.now();
  api.setView(position, zoom);
  // woken by the widget's own attribute writes (a MutationObserver), not by polling: the
  // measurement must not take CPU from what it measures; the time is the widget's completeAt
  return await new Promise((resolve, reject) => {
    const observer = new MutationObserver(() => check());
    const timer = setTimeout(() => check(), timeout + 1);
    const done = (fn) => { observer.disconnect(); clearTimeout(timer); fn(); };
    const check = () => {
      const gen = Number(d.viewGen);
      if (gen > gen0 && d.complete === '1' && Number(d.completeGen) === gen) {
        done(() => resolve({
          ms: Number(d.completeAt) - t0,
          tiles_requested: Number(d.tilesRequested) - before.requested,
          tiles_received: Number(d.tilesReceived) - before.received,
          frame_ms_max: Number(d.frameMsMax),
          ...(() => {
            const t = (api.state().timing) || { n: 0 };
            return t.n && Number(d.tilesReceived) > before.received ? { tile_rtt_ms: t.rttSum / t.n, tile_rtt_max_ms: t.rttMax,
                           tile_server_ms: t.serverSum / t.n, tile_decode_ms: t.decodeSum / t.n } : {};
          })(),
        }));
      } else if (performance.now() - t0 > timeout) {
        done(() => reject(new Error('not complete after ' + timeout + ' ms: ' + JSON.stringify({ ...d }))));
      }
    };
    observer.observe(el, { attributes: true, attributeFilter: ['data-complete', 'data-complete-gen'] });
    check();
  });
}
"""


# --------------------------------------------------------------------------- data


def multiscales(name: str) -> list[dict[str, Any]]:
    """NGFF 0.4 multiscales metadata of the benchmark's arrays (mags 1, 2-2-1, 4-4-1)."""
    return [
        {
            "version": "0.4",
            "name": name,
            "axes": [{"name": a, "type": "space", "unit": "nanometer"} for a in "zyx"],
            "datasets": [
                {
                    "path": f"s{level}",
                    "coordinateTransformations": [
                        {"type": "scale", "scale": [VOXEL_SIZE_ZYX[0], VOXEL_SIZE_ZYX[1] * f, VOXEL_SIZE_ZYX[2] * f]}
                    ],
                }
                for level, f in enumerate((1, 2, 4))
            ],
        }
    ]


def _new_group(path: Path) -> tuple[Path, Any]:
    """An empty zarr v2 group beside `path`, renamed to it once written."""
    import shutil

    import zarr

    tmp = path.with_suffix(".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    print(f"writing {path} (once) ...", flush=True)
    return tmp, zarr.open_group(str(tmp), mode="w", zarr_format=2)


def write_dataset() -> Path:
    """The benchmark volume as OME-NGFF 0.4 (written once, then reused)."""
    import numcodecs

    path = CACHE / "volume.ome.zarr"
    if (path / ".zattrs").exists():
        return path
    tmp, root = _new_group(path)
    rng = np.random.default_rng(3)
    nz, ny, nx = SHAPE_ZYX
    y = np.arange(ny, dtype=np.float32)[:, None]
    x = np.arange(nx, dtype=np.float32)[None, :]
    compressor = numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.BITSHUFFLE)
    levels = []
    for level, f in enumerate((1, 2, 4)):
        arr = root.create_array(
            f"s{level}", shape=(nz, ny // f, nx // f), chunks=CHUNK, dtype="uint8",
            compressors=compressor, chunk_key_encoding={"name": "v2", "separator": "/"},
        )  # fmt: skip
        levels.append((arr, f))
    for z0 in range(0, nz, CHUNK[0]):
        slab = np.empty((CHUNK[0], ny, nx), np.uint8)
        for dz in range(CHUNK[0]):
            z = z0 + dz
            pattern = 110 + 60 * np.sin(x / 41.0 + z / 9.0) * np.cos(y / 57.0) + 40 * np.sin((x + y) / 300.0)
            cells = ((np.sin(x / 23.0) * np.sin(y / 19.0 + z / 7.0)) > 0.85) * 80
            slab[dz] = np.clip(pattern + cells + rng.integers(0, 12, (ny, nx)), 0, 255).astype(np.uint8)
        for arr, f in levels:
            arr[z0 : z0 + CHUNK[0]] = slab[:, ::f, ::f]
    root.attrs["multiscales"] = multiscales("bench")
    tmp.rename(path)
    return path


def write_labels() -> Path:
    """A uint32 segmentation over the benchmark volume: blocks of 96 x 80 x 16 voxels with
    one id each (written once, then reused)."""
    import numcodecs

    path = CACHE / "labels.ome.zarr"
    if (path / ".zattrs").exists():
        return path
    tmp, root = _new_group(path)
    nz, ny, nx = SHAPE_ZYX
    compressor = numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
    for level, f in enumerate((1, 2, 4)):
        arr = root.create_array(
            f"s{level}", shape=(nz, ny // f, nx // f), chunks=CHUNK, dtype="uint32",
            compressors=compressor, chunk_key_encoding={"name": "v2", "separator": "/"},
        )  # fmt: skip
        for z0 in range(0, nz, CHUNK[0]):
            for y0 in range(0, ny // f, 256):
                z = np.arange(z0, z0 + CHUNK[0])[:, None, None]
                y = (np.arange(y0, min(y0 + 256, ny // f)) * f)[None, :, None]
                x = (np.arange(nx // f) * f)[None, None, :]
                ids = (x // 96) + 32 * (y // 80) + 1024 * (z // 16) + 1
                arr[z0 : z0 + CHUNK[0], y0 : y0 + ids.shape[1]] = ids.astype(np.uint32)
    root.attrs["multiscales"] = multiscales("labels")
    tmp.rename(path)
    return path


# --------------------------------------------------------------------------- browser


def analysis_setup(labels_url: str) -> str:
    """Notebook code that turns the analysis tools on (config "analysis")."""
    return (
        f"viewer.add_layers({labels_url!r})\n"
        "_seg = [l.name for l in viewer.dataset if l.category == 'segmentation'][0]\n"
        "_img = [l.name for l in viewer.dataset if l.category == 'color'][0]\n"
        "viewer.selected_segments = {_seg: [1 + 5 + 32 * 4 + 1024 * 2, 1 + 12 + 32 * 9 + 1024 * 2, 1 + 20 + 32 * 14 + 1024 * 2]}\n"
        "viewer.update_layer(_img, colormap='viridis', gamma=0.8)\n"
        "import random as _r\n_r.seed(1)\n"
        "viewer.annotations = [{'type': t, 'points': [[_r.randrange(2048), _r.randrange(2048), _r.randrange(28, 36)] for _ in range(1 if t == 'point' else 2)]}"
        " for t in ['point', 'line', 'box'] * 100]\n"
    )


def notebook_cells(url: str, height: int, position: list[float], setup: str = "") -> list[str]:
    return [
        "import wk_widget as wk\n"
        f"ds = wk.explore({url!r})\n"
        f"viewer = wk.Viewer(ds, plane='xy', height={height})\n"
        + setup
        + f"viewer.position = {position!r}\n"
        "viewer.zoom = 1.0\n"
        "viewer",
    ]


def open_viewer(lab: JupyterLab, browser: Browser, page: Any, name: str, cells: list[str]) -> tuple[NotebookPage, WidgetPage]:
    lab.write_notebook(name, cells)
    nb = NotebookPage(lab, name, page)
    nb.open()
    nb.run_all()
    widget = WidgetPage(nb.page)
    widget.wait_ready()
    widget.wait_complete(timeout_ms=120_000)
    return nb, widget


def canvas_size(widget: WidgetPage) -> tuple[int, int]:
    box = widget.canvas("xy").bounding_box()
    return round(box["width"]), round(box["height"])


def calibrate(lab: JupyterLab, browser: Browser, url: str) -> tuple[dict[str, int], int]:
    """Viewport and Viewer.height that give a 1024 x 768 XY canvas."""
    viewport = {"width": 1500, "height": 1200}
    height = VIEW[1]
    page = browser.new_page()
    page.set_viewport_size(viewport)
    nb, widget = open_viewer(lab, browser, page, "calibrate.ipynb", notebook_cells(url, height, [1024, 1024, 32]))
    try:
        for _ in range(4):
            w, h = canvas_size(widget)
            if (w, h) == VIEW:
                return viewport, height
            viewport["width"] += VIEW[0] - w
            height += VIEW[1] - h
            page.set_viewport_size(viewport)
            lab.execute(nb.name, f"viewer.height = {height}")
            deadline = time.monotonic() + 10
            while canvas_size(widget)[1] == h and h != VIEW[1] and time.monotonic() < deadline:
                page.wait_for_timeout(50)
            widget.wait_complete()
        raise RuntimeError(f"cannot size the canvas to {VIEW}: got {canvas_size(widget)}")
    finally:
        nb.close()


def measure(
    widget: WidgetPage, http: HttpServer, position: list[float], zoom: float, clear: bool = False
) -> dict[str, float]:
    before = http.stats()["requests"]
    out = dict(widget.root.evaluate(_MEASURE_JS, [position, zoom, clear, 120_000]))
    out["http_requests"] = http.stats()["requests"] - before  # includes prefetch still running
    return out


def run(runs: int, latency_ms: float, config: str = "plain") -> dict[str, Any]:
    isolate_cloud_env()
    data = write_dataset()
    labels = write_labels() if config == "analysis" else None
    results: dict[str, list[float]] = {}
    details: dict[str, list[dict[str, float]]] = {}

    def record(kind: str, value: dict[str, float]) -> None:
        results.setdefault(kind, []).append(value["ms"])
        details.setdefault(kind, []).append(value)

    with HttpServer(CACHE / "http-root", latency_ms=latency_ms) as http, JupyterLab() as lab, Browser() as browser:
        url = f"{http.publish(data.parent, 'bench')}/{data.name}"
        setup = analysis_setup(f"{url.rsplit('/', 1)[0]}/{labels.name}") if labels is not None else ""
        viewport, height = calibrate(lab, browser, url)
        # Regions of 1024 x 768 mag-1 voxels that do not overlap (centers), z in the middle.
        regions = [[512.0 + 1024 * (i % 2), 384.0 + 768 * (i // 2), 32.0] for i in range(4)]
        regions.append([1024.0, 1664.0, 32.0])
        for run_index in range(runs):
            page = browser.new_page()
            page.set_viewport_size(viewport)
            name = f"bench-{run_index}.ipynb"
            before = http.stats()["requests"]
            nb, widget = open_viewer(lab, browser, page, name, notebook_cells(url, height, regions[0], setup))
            try:
                assert canvas_size(widget) == VIEW, canvas_size(widget)
                d = widget.data()
                record("cold first paint", {"ms": float(d["completeAt"]) - float(d["infoAt"]),
                                            "tiles_received": float(d["tilesReceived"]),
                                            "http_requests": http.stats()["requests"] - before})  # fmt: skip
                for region in regions[1:4]:
                    record("cold pan", measure(widget, http, region, 1.0))
                record("cold zoom (out, mag 2)", measure(widget, http, regions[3], 2.0))
                record("warm zoom (in, tiles cached)", measure(widget, http, regions[3], 1.0))
                for region in (regions[1], regions[2], regions[0]):
                    record("warm pan (tiles cached)", measure(widget, http, region, 1.0))
                for region in (regions[1], regions[2]):
                    record("warm pan (data cached)", measure(widget, http, region, 1.0, clear=True))
                record("small pan (64 px, cached)", measure(widget, http, [regions[2][0] + 64, regions[2][1], 32.0], 1.0))
            finally:
                nb.close()
        stats = http.stats()
    summary = {kind: round(statistics.median(values), 1) for kind, values in results.items()}
    return {
        "view": VIEW,
        "config": config,
        "latency_ms": latency_ms,
        "runs": runs,
        "median_ms": summary,
        "all_ms": {k: [round(v, 1) for v in vs] for k, vs in results.items()},
        "details": details,
        "http_requests": stats["requests"],
        "goals_ms": GOALS_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh kernels (each: all kinds)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--config", choices=("plain", "analysis"), default="plain",
                        help="analysis: a segmentation layer with selected segments, a colour map, 300 annotations")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    out = run(args.runs, args.latency_ms, args.config)
    print(f"\nXY view {VIEW[0]}x{VIEW[1]} px, zoom 1, HTTP latency {args.latency_ms:g} ms, config {args.config}, {args.runs} runs (medians):")
    for kind, ms in out["median_ms"].items():
        goal = GOALS_MS["warm"] if kind.startswith(("warm", "small")) else GOALS_MS.get(kind)
        verdict = "" if goal is None else ("  ok" if ms < goal else f"  MISSES goal < {goal:g} ms")
        runs_text = ", ".join(f"{v:g}" for v in out["all_ms"][kind])
        details = out["details"][kind]
        tiles = statistics.median(d.get("tiles_received", 0) for d in details)
        requests = statistics.median(d.get("http_requests", 0) for d in details)
        def med(key: str, details: list[dict[str, float]] = details) -> str:
            values = [d[key] for d in details if key in d]
            return f"{statistics.median(values):6.1f}" if values else "     -"

        print(
            f"  {kind:30} {ms:7.1f} ms{verdict:28} tiles {tiles:4g}, HTTP requests {requests:4g}, per tile:"
            f" round trip {med('tile_rtt_ms')} ms (kernel {med('tile_server_ms')}, decode {med('tile_decode_ms')})"
            f"   all: [{runs_text}]"
        )
    print(f"  HTTP requests in total: {out['http_requests']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
