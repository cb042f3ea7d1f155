"""Cold and warm plane reads against tensorstore and zarr-python over HTTP with latency.

A 1024x1024x256 uint8 volume as zarr v3 with 64^3 chunks, and as zarr v3 sharded (256^3
shards of 64^3 chunks), served by the test HTTP server with 20 ms latency per request.
Each cold read runs in a fresh process; readers alternate; medians over --runs.
Also: the warm (cached) read, and bytes fetched / bytes of the chunks the plane touches.

    .venv/bin/python benchmarks/read_plane.py [--runs 7] [--latency-ms 20] [--json out.json]
        [--baseline-src OTHER_CHECKOUT/src]

``--baseline-src`` adds a fourth reader, "wk_widget@baseline": the same child with another
checkout's sources first on PYTHONPATH (e.g. the code before a refactor), interleaved with
the others in the same run, so "not slower than before" is measured on one machine state.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import HttpServer, isolate_cloud_env  # noqa: E402

SHAPE = (256, 1024, 1024)  # (z, y, x): x is the last dim, as WEBKNOSSOS reads plain arrays
CHUNK = (64, 64, 64)
SHARD = (256, 256, 256)
PLANE_Z = 100
READERS = ("wk_widget", "tensorstore", "zarr-python")


def make_volume() -> np.ndarray:
    rng = np.random.default_rng(42)
    z, y, x = np.meshgrid(
        np.arange(SHAPE[0], dtype=np.float32),
        np.arange(SHAPE[1], dtype=np.float32),
        np.arange(SHAPE[2], dtype=np.float32),
        indexing="ij",
        sparse=True,
    )
    smooth = 96 + 60 * np.sin(x / 37.0) * np.cos(y / 53.0) + 30 * np.sin(z / 11.0)
    noise = rng.integers(0, 40, size=SHAPE, dtype=np.uint8)
    return (smooth + noise).clip(0, 255).astype(np.uint8)


def write_datasets(cache: Path) -> dict[str, Path]:
    import zarr

    paths = {"chunked": cache / "vol_chunked.zarr", "sharded": cache / "vol_sharded.zarr"}
    if all((p / "zarr.json").exists() for p in paths.values()):
        return paths
    data = make_volume()
    for variant, path in paths.items():
        tmp = path.with_suffix(".tmp")
        if tmp.exists():
            import shutil

            shutil.rmtree(tmp)
        kwargs: dict[str, Any] = {"shards": SHARD} if variant == "sharded" else {}
        arr = zarr.create_array(store=str(tmp), shape=SHAPE, chunks=CHUNK, dtype="uint8", zarr_format=3, **kwargs)
        arr[...] = data
        tmp.rename(path)
    return paths


def plane_chunk_bytes(path: Path, variant: str) -> int:
    """Stored bytes of the chunks that intersect the plane (what an ideal reader fetches)."""
    zc = PLANE_Z // CHUNK[0]
    total = 0
    if variant == "chunked":
        for f in (path / "c" / str(zc)).rglob("*"):
            if f.is_file():
                total += f.stat().st_size
        return total
    # Sharded: sum the index entries of inner chunks with z index zc.
    per_shard = tuple(s // c for s, c in zip(SHARD, CHUNK, strict=True))
    zs, zi = divmod(zc, per_shard[0])
    n_inner = per_shard[0] * per_shard[1] * per_shard[2]
    for f in (path / "c" / str(zs)).rglob("*"):
        if not f.is_file():
            continue
        raw = f.read_bytes()
        index = np.frombuffer(raw[-(n_inner * 16 + 4) : -4], dtype="<u8").reshape((*per_shard, 2))
        sizes = index[zi, :, :, 1]
        total += int(sizes[sizes != 2**64 - 1].sum())
    return total


BASELINE = "wk_widget@baseline"


def run_child(reader: str, url: str, baseline_src: Path | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    if reader == BASELINE:
        assert baseline_src is not None
        env["PYTHONPATH"] = os.pathsep.join([str(baseline_src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    elif baseline_src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    child = "wk_widget" if reader == BASELINE else reader
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "_read_once.py"), child, url, str(PLANE_Z)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{reader} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--baseline-src", type=Path, default=None, help="another checkout's src/ to run as a 4th reader")
    args = parser.parse_args()
    readers = READERS + ((BASELINE,) if args.baseline_src else ())
    isolate_cloud_env()
    cache = ROOT / ".cache" / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    paths = write_datasets(cache)
    results: dict[str, Any] = {"latency_ms": args.latency_ms, "runs": args.runs, "variants": {}}
    with HttpServer(cache, latency_ms=args.latency_ms) as http:
        for variant, path in paths.items():
            url = f"{http.url}/{path.name}"
            ideal = plane_chunk_bytes(path, variant)
            samples: dict[str, list[dict[str, Any]]] = {r: [] for r in readers}
            for run in range(args.runs):
                order = readers if run % 2 == 0 else tuple(reversed(readers))
                for reader in order:
                    http.reset_stats()
                    res = run_child(reader, url, args.baseline_src)
                    stats = http.stats()
                    res["server_bytes"] = stats.get("bytes")
                    res["server_requests"] = stats.get("requests")
                    res["server_methods"] = stats.get("methods")
                    samples[reader].append(res)
            checksums = {r: {s["checksum"] for s in samples[r]} for r in readers}
            assert len(set().union(*checksums.values())) == 1, f"readers disagree: {checksums}"
            med = {r: statistics.median(s["cold_s"] for s in samples[r]) for r in readers}
            wk_samples = samples["wk_widget"]
            warm = statistics.median(s["warm_s"] for s in wk_samples)
            wk_bytes = statistics.median(s["meter_bytes"] for s in wk_samples)
            results["variants"][variant] = {
                "cold_median_s": med,
                "cold_samples_ms": {r: [round(x["cold_s"] * 1000, 1) for x in samples[r]] for r in readers},
                "ratio_vs_tensorstore": med["wk_widget"] / med["tensorstore"],
                "ratio_vs_zarr_python": med["wk_widget"] / med["zarr-python"],
                **(
                    {
                        "baseline_src": str(args.baseline_src),
                        "baseline_ratio_vs_tensorstore": med[BASELINE] / med["tensorstore"],
                        "ratio_vs_baseline": med["wk_widget"] / med[BASELINE],
                    }
                    if args.baseline_src
                    else {}
                ),
                "warm_median_s": warm,
                "wk_bytes": wk_bytes,
                "ideal_bytes": ideal,
                "bytes_ratio": wk_bytes / ideal,
                "wk_requests_median": statistics.median(s["meter_requests"] for s in wk_samples),
                "server_requests_median": {r: statistics.median(s["server_requests"] for s in samples[r]) for r in readers},
                "wk_server_methods": wk_samples[-1]["server_methods"],
            }
            v = results["variants"][variant]
            print(f"\n== {variant} (zarr v3, 64^3 chunks{', 256^3 shards' if variant == 'sharded' else ''}; "
                  f"{args.latency_ms:g} ms latency; {args.runs} runs, medians)")
            for r in readers:
                print(f"  cold read {r:12s} {med[r] * 1000:8.1f} ms   (server requests {v['server_requests_median'][r]})")
            print(f"  ratio wk_widget / tensorstore  {v['ratio_vs_tensorstore']:.2f}x")
            print(f"  ratio wk_widget / zarr-python  {v['ratio_vs_zarr_python']:.2f}x")
            if args.baseline_src:
                print(f"  ratio baseline / tensorstore   {v['baseline_ratio_vs_tensorstore']:.2f}x")
                print(f"  ratio wk_widget / baseline     {v['ratio_vs_baseline']:.2f}x")
            print(f"  warm read wk_widget            {warm * 1000:8.2f} ms")
            print(f"  bytes fetched / plane chunks   {v['bytes_ratio']:.3f} ({wk_bytes} / {ideal})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
