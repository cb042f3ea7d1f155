"""One step of benchmarks/scale.py in a fresh process; prints one JSON line."""

from __future__ import annotations

import json
import math
import resource
import sys
import time
import tracemalloc

import dask.array  # noqa: F401  (imports are not the step's cost)
import xarray  # noqa: F401

import wk_widget as wk


def main() -> None:
    url, step = sys.argv[1], sys.argv[2]
    ds = None if step == "explore" else wk.explore(url)
    layer = None if ds is None else next(iter(ds.layers.values()))
    tracemalloc.start()
    t0 = time.perf_counter()
    if step == "explore":
        ds = wk.explore(url)
        layer = next(iter(ds.layers.values()))
    elif step == "data":
        _ = layer.mags[0].data  # type: ignore[union-attr]
    elif step == "to_xarray":
        layer.to_xarray(mag=(1, 1, 1))  # type: ignore[union-attr]
    else:
        n = layer.bounding_box.size[0]  # type: ignore[union-attr]
        if step == "slice300":
            s = min(300, n)
            c = (n - s) // 2
            layer.mags[0].data[0, c : c + s, c : c + s, c : c + s].sum().compute()  # type: ignore[union-attr]
        else:
            s = min(1024, n)
            c = (n - s) // 2
            layer.read((c, c, n // 2), (s, s, 1))  # type: ignore[union-attr]
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert layer is not None
    n = layer.bounding_box.size[0]
    print(json.dumps({
        "seconds": seconds,
        "traced_peak_mb": peak / 1e6,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "requests": layer.meter.snapshot()["requests"],
        "chunks": math.ceil(n / 64) ** 3,
    }))


if __name__ == "__main__":
    main()
