"""Flat cost in the number of chunks: explore, mag.data, to_xarray, a 300^3 slice compute and
a 1024^2 plane read on metadata-only arrays of 10^3 ... 10^6 voxels per axis.

Formats: zarr v3 (64^3 chunks), sharded zarr v3 (1024^3 shards of 64^3), N5 (64^3 blocks,
raw) and Neuroglancer precomputed (64^3 chunks, raw); no chunk is written, so every chunk
reads as the fill value (a 404 per chunk, or per shard index). Served by the test HTTP
server. Every measurement runs in a fresh process (`_scale_once.py`): time of the step
alone, Python's peak allocation during it (tracemalloc) and the process's peak RSS.

    .venv/bin/python benchmarks/scale.py [--runs 1] [--json benchmarks/results/scale.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import HttpServer, isolate_cloud_env  # noqa: E402

SIZES = (1_000, 10_000, 100_000, 1_000_000)
FORMATS = ("zarr3", "zarr3-sharded", "n5", "precomputed")
STEPS = ("explore", "data", "to_xarray", "slice300", "plane1024")
CHUNK = 64
SHARD = 1024


def write_array(root: Path, fmt: str, n: int) -> Path:
    """A metadata-only array of n^3 uint8 in `fmt` below `root`; returns the URL path."""
    folder = root / f"{fmt}-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    if fmt.startswith("zarr3"):
        codecs: list[dict[str, Any]] = [{"name": "bytes"}]
        grid = CHUNK
        if fmt == "zarr3-sharded":
            grid = SHARD
            codecs = [{"name": "sharding_indexed", "configuration": {
                "chunk_shape": [CHUNK] * 3, "codecs": [{"name": "bytes"}],
                "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            }}]
        doc: dict[str, Any] = {
            "zarr_format": 3, "node_type": "array", "shape": [n] * 3, "data_type": "uint8",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [grid] * 3}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0, "codecs": codecs, "dimension_names": ["x", "y", "z"],
        }
        (folder / "zarr.json").write_text(json.dumps(doc))
    elif fmt == "n5":
        (folder / "attributes.json").write_text(json.dumps({
            "dimensions": [n] * 3, "blockSize": [CHUNK] * 3, "dataType": "uint8", "compression": {"type": "raw"},
        }))
    elif fmt == "precomputed":
        (folder / "info").write_text(json.dumps({
            "@type": "neuroglancer_multiscale_volume", "type": "image", "data_type": "uint8", "num_channels": 1,
            "scales": [{"key": "1_1_1", "size": [n] * 3, "resolution": [1, 1, 1], "voxel_offset": [0, 0, 0],
                        "chunk_sizes": [[CHUNK] * 3], "encoding": "raw"}],
        }))
    return folder


def run_once(url: str, step: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("_scale_once.py")), url, step],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1][:300]}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "scale.json"))
    parser.add_argument("--table-from", nargs="*", help="JSON-lines logs of earlier runs: merge, write --json, print")
    args = parser.parse_args()
    if args.table_from:
        rows: dict[tuple[str, int, str], dict[str, Any]] = {}
        for log in args.table_from:
            for line in Path(log).read_text().splitlines():
                if line.startswith("{"):
                    row = json.loads(line)
                    rows[(row["format"], row["n"], row["step"])] = row
        merged = list(rows.values())
        Path(args.json).write_text(json.dumps({"results": merged}, indent=1) + "\n")
        print_table(merged)
        return
    isolate_cloud_env()
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = args.formats.split(",")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, HttpServer(Path(tmp)) as server:
        for fmt in formats:
            for n in sizes:
                folder = write_array(Path(tmp), fmt, n)
                url = f"{server.url}/{folder.name}"
                for step in STEPS:
                    runs = [run_once(url, step) for _ in range(args.runs)]
                    ok = [r for r in runs if "error" not in r]
                    row: dict[str, Any] = {"format": fmt, "n": n, "step": step, "runs": runs}
                    if ok:
                        for key in ("seconds", "traced_peak_mb", "rss_peak_mb", "requests"):
                            row[key] = statistics.median(r[key] for r in ok)
                        row["chunks"] = ok[0].get("chunks")
                    else:
                        row["error"] = runs[0]["error"]
                    results.append(row)
                    print(json.dumps({k: v for k, v in row.items() if k != "runs"}), flush=True)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"sizes": sizes, "formats": formats, "results": results}, indent=1) + "\n")
    print_table(results)


def print_table(results: list[dict[str, Any]]) -> None:
    print("| format | n per axis | chunks | " + " | ".join(f"{s} s / MB" for s in STEPS) + " |")
    print("|---|---|---|" + "---|" * len(STEPS))
    keys = sorted({(r["format"], r["n"]) for r in results}, key=lambda k: (FORMATS.index(k[0]), k[1]))
    for fmt, n in keys:
        cells = []
        chunks = None
        for step in STEPS:
            row = next((r for r in results if (r["format"], r["n"], r["step"]) == (fmt, n, step)), {"error": "not run"})
            chunks = row.get("chunks") or chunks
            cells.append(row["error"][:20] if "error" in row else f"{row['seconds']:.3f} / {row['traced_peak_mb']:.1f}")
        print(f"| {fmt} | {n:.0e} | {chunks:.1e} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
