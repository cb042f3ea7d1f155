"""Runs INSIDE the fresh virtualenv of ``scripts/check-wheel`` (only the wheel and its declared
dependencies installed): serves datasets over HTTP with ``http_server.py`` (aiohttp, a runtime
dependency), explores and reads each with the installed ``wk_widget`` and compares with the
values the independent writers wrote (the manifest's truth arrays, written beforehand by the
project's venv), then constructs a ``wk.Viewer``.

Usage: python wheel_smoke.py MANIFEST_ROOT [REALWORLD_ROOT]
Only numpy, the standard library and the installed package are imported here.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

# Generated cases covering every format and codec of the check (see tests/support/datasets.py).
CASES = (
    "zarr3_sharded_uint8",  # sharding_indexed, bytes + crc32c index
    "zarr2_uint8_blosc",
    "n5_uint16_gzip",
    "ngff05_multiscale_uint8",  # OME-Zarr 0.5
    "precomputed_raw_multiscale_uint8",
    "precomputed_jpeg_uint8",
    "precomputed_segmentation_cseg_uint64",
    "precomputed_sharded_murmur_gzip_uint16",
    "cloudvolume_compresso_uint32",  # the compresso package
    "precomputed_jxl_uint8",  # imagecodecs' JPEG XL
)
# Third-party data (../shared/realworld): (folder under data/, truth file, layer, mag, offset, size)
REALWORLD = (
    ("neuroglancer/zarr_v3/data.zarr/3d.chunked.compressed.sharded.i2", "ng_zarr_v3_3d.chunked.compressed.sharded.i2.npy"),
    ("webknossos-libs/simple_zarr3_dataset", "wk_simple_rgb.npy"),
)


def _not_from_the_fresh_venv() -> list[str]:
    """Loaded modules whose files lie outside this venv and the interpreter's own standard
    library: anything borrowed from the project's .venv, a PYTHONPATH, user or system
    site-packages would show up here."""
    venv = Path(sys.prefix).resolve()
    base = {"base": sys.base_prefix, "platbase": sys.base_prefix}
    stdlib = {Path(sysconfig.get_paths(vars=base)[k]).resolve() for k in ("stdlib", "platstdlib")}
    borrowed = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not file or name == "__main__":
            continue
        path = Path(file).resolve()
        if path.is_relative_to(venv):
            continue
        in_stdlib = any(path.is_relative_to(root) for root in stdlib)
        if in_stdlib and not {"site-packages", "dist-packages"} & set(path.parts):
            continue
        borrowed.append(f"{name} ({path})")
    return borrowed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    server = Path(__file__).with_name("http_server.py")
    proc = subprocess.Popen([sys.executable, "-I", str(server), "--root", str(root), "--port", str(port)])
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/__stats", timeout=1).read()
            return proc, base
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the HTTP server did not start")


def _check_level(layer, level: dict, truth: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    mag = tuple(level["mag"])
    offset = [o * m for o, m in zip(level["offset"], mag, strict=True)]
    size = [s * m for s, m in zip(truth.shape[-3:], mag, strict=True)]
    got = layer.read(offset, size, mag=mag)
    assert got.shape == truth.shape, (layer.name, mag, got.shape, truth.shape)
    if level.get("lossy"):
        diff = np.abs(got.astype(np.int64) - truth.astype(np.int64)).max()
        assert diff <= level["tolerance"], (layer.name, mag, diff)
    else:
        assert np.array_equal(got, truth), (layer.name, mag)


def main(manifest_root: Path, realworld: Path | None) -> None:
    import wk_widget as wk

    assert "site-packages" in wk.__file__, f"not the installed wheel: {wk.__file__}"
    assert sys.flags.isolated and not sys.flags.no_site, "run with python -I in the fresh venv"
    manifest = json.loads((manifest_root / "manifest.json").read_text())
    cases = {c["id"]: c for c in manifest["cases"]}
    root = Path(tempfile.mkdtemp())
    (root / "gen").symlink_to(manifest_root, target_is_directory=True)
    if realworld is not None:
        (root / "rw").symlink_to(realworld / "data", target_is_directory=True)
    proc, base = _serve(root)
    try:
        for case_id in CASES:
            case = cases[case_id]
            ds = wk.explore(f"{base}/gen/{case['relpath']}{case['uri_suffix']}")
            for expected in case["layers"]:
                layer = ds.layers[expected["name"]]
                assert layer.data_format == expected["data_format"], (case_id, layer.data_format)
                levels = expected["truth"]
                for level in {id(x): x for x in (levels[0], levels[-1])}.values():
                    _check_level(layer, level, np.load(manifest_root / level["npy"]))
            print(f"  ok {case_id}: {', '.join(ds.layers)}")
        if realworld is None:
            print("  realworld corpus absent: third-party datasets not checked")
        else:
            for folder, truth_file in REALWORLD:
                ds = wk.explore(f"{base}/rw/{folder}")
                (layer,) = ds.layers.values()
                truth = np.load(realworld / "truth" / truth_file)
                bb = layer.bounding_box
                got = layer.read(bb[0], bb[1])
                assert np.array_equal(got, truth), folder
                print(f"  ok realworld {folder}: {layer.element_class} x {layer.num_channels}")
        viewer = wk.Viewer(ds)
        assert viewer.dataset is ds
        print("  ok wk.Viewer constructed")
        borrowed = _not_from_the_fresh_venv()
        assert not borrowed, f"modules from outside the fresh venv: {borrowed}"
        print(f"  ok all {len(sys.modules)} loaded modules come from the fresh venv or the standard library")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    rw = Path(sys.argv[2]) if len(sys.argv) > 2 and Path(sys.argv[2], "data").is_dir() else None
    main(Path(sys.argv[1]), rw)
