"""Memory under load: a 4 GB region summed through dask on a LocalCluster of 2 worker
processes, with the decoded-chunk cache budget set on every worker.

The volume is a zarr v3 array of 1600^3 uint8 in 64^3 chunks (15 625 chunks, 4.1 GB
decoded) whose chunk files are links to one zstd-compressed chunk, so that the disk holds
one chunk; the test HTTP server serves it (every request reads a real, decodable chunk).
Reported per worker: peak RSS before and after (ru_maxrss), the cache's bytes, and the
bound: RSS at start + cache budget + blocks in flight (threads x block bytes x 2: the
block being assembled and the one being reduced).

    .venv/bin/python benchmarks/memory_dask.py [--budget-mb 256] [--json benchmarks/results/memory_dask.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
# Worker processes import this checkout's wk_widget too.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)

from tests.support.servers import HttpServer, isolate_cloud_env  # noqa: E402

N = 1600
CHUNK = 64


def write_volume(folder: Path) -> int:
    import numcodecs

    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "zarr_format": 3, "node_type": "array", "shape": [N] * 3, "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [CHUNK] * 3}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0, "codecs": [{"name": "bytes"}, {"name": "zstd", "configuration": {"level": 1, "checksum": False}}],
    }
    (folder / "zarr.json").write_text(json.dumps(doc))
    chunk = np.random.default_rng(1).integers(0, 4, size=(CHUNK,) * 3, dtype=np.uint8)
    blob = folder / "the-chunk"
    blob.write_bytes(numcodecs.Zstd(level=1).encode(chunk.tobytes()))
    per_axis = math.ceil(N / CHUNK)
    for i in range(per_axis):
        for j in range(per_axis):
            d = folder / "c" / str(i) / str(j)
            d.mkdir(parents=True, exist_ok=True)
            for k in range(per_axis):
                os.symlink(blob, d / str(k))
    return int(chunk.astype(np.uint64).sum())


def _worker_state() -> dict[str, Any]:
    import resource

    from wk_widget import engine

    return {"maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "cache": engine.CHUNK_CACHE.stats()}


def _import_reader() -> None:
    import importlib

    importlib.import_module("wk_widget._dask")
    importlib.import_module("dask.array")


def _rss_now() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget-mb", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "memory_dask.json"))
    args = parser.parse_args()
    isolate_cloud_env()
    from distributed import Client, LocalCluster

    import wk_widget as wk

    with tempfile.TemporaryDirectory() as tmp:
        per_chunk_sum = write_volume(Path(tmp) / "vol")
        with HttpServer(Path(tmp)) as server, LocalCluster(
            n_workers=2, threads_per_worker=args.threads, processes=True, dashboard_address=None, memory_limit="8GB"
        ) as cluster, Client(cluster) as client:
            layer = next(iter(wk.explore(f"{server.url}/vol").layers.values()))
            data = layer.mags[0].data
            budget = args.budget_mb << 20
            client.run(wk.set_cache_budget, budget)
            client.run(_import_reader)  # imports are not what the read holds
            start_rss = client.run(_rss_now)
            t0 = time.perf_counter()
            total = int(client.compute(data.sum(dtype="uint64")).result())
            seconds = time.perf_counter() - t0
            after = client.run(_worker_state)
    block_bytes = int(np.prod(data.chunksize)) * data.dtype.itemsize
    chunks = math.ceil(N / CHUNK) ** 3
    workers = []
    for addr, state in after.items():
        bound = start_rss[addr] + (budget + args.threads * 2 * block_bytes) / 1e6
        workers.append({
            "worker": addr,
            "rss_at_start_mb": round(start_rss[addr], 1),
            "peak_rss_mb": round(state["maxrss_mb"], 1),
            "cache_bytes_mb": round(state["cache"]["bytes"] / 1e6, 1),
            "bound_mb": round(bound, 1),
            "within_bound": state["maxrss_mb"] <= bound,
        })
    result = {
        "decoded_gb": N**3 / 1e9,
        "chunks": chunks,
        "block_shape": list(data.chunksize),
        "block_mb": block_bytes / 1e6,
        "budget_mb": budget / 1e6,
        "threads_per_worker": args.threads,
        "seconds": round(seconds, 1),
        "sum_ok": total == per_chunk_sum * chunks,
        "workers": workers,
        "note": "bound = RSS at start + cache budget + threads x 2 blocks (the block being assembled, the one being summed)",
    }
    print(json.dumps(result, indent=1))
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
