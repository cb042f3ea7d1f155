"""One cold read of the plane z=Z of a zarr v3 array in a fresh process (benchmark child).

Prints one JSON line: {"reader", "open_s", "cold_s", "warm_s", "checksum"}.
The array is (z, y, x); the plane is arr[Z, :, :].
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def wk_read(url: str, z: int) -> dict[str, float | int | str | None]:
    import wk_widget as wk

    t0 = time.perf_counter()
    ds = wk.explore(url)
    layer = next(iter(ds.layers.values()))
    bb = layer.bounding_box
    t1 = time.perf_counter()
    plane = layer.read((0, 0, z), (bb.size[0], bb.size[1], 1))
    t2 = time.perf_counter()
    warm = []
    for _ in range(5):
        s = time.perf_counter()
        again = layer.read((0, 0, z), (bb.size[0], bb.size[1], 1))
        warm.append(time.perf_counter() - s)
    assert np.array_equal(plane, again)
    # (c, x, y, z) -> (y, x) like the others
    yx = plane[0, :, :, 0].T
    return {
        "open_s": t1 - t0,
        "cold_s": t2 - t1,
        "warm_s": float(np.median(warm)),
        "checksum": int(yx.astype(np.uint64).sum() + (yx[::7, ::5].astype(np.uint64) * 3).sum()),
        "meter_bytes": layer.meter.snapshot()["bytes"],
        "meter_requests": layer.meter.snapshot()["requests"],
    }


def tensorstore_read(url: str, z: int) -> dict[str, float | int | str | None]:
    import tensorstore as ts

    t0 = time.perf_counter()
    arr = ts.open({"driver": "zarr3", "kvstore": url.rstrip("/") + "/"}, read=True).result()
    t1 = time.perf_counter()
    yx = arr[z, :, :].read().result()
    t2 = time.perf_counter()
    return {
        "open_s": t1 - t0,
        "cold_s": t2 - t1,
        "warm_s": None,
        "checksum": int(yx.astype(np.uint64).sum() + (yx[::7, ::5].astype(np.uint64) * 3).sum()),
    }


def zarr_read(url: str, z: int) -> dict[str, float | int | str | None]:
    import zarr
    from zarr.storage import FsspecStore

    t0 = time.perf_counter()
    store = FsspecStore.from_url(url, read_only=True)
    arr = zarr.open_array(store=store, mode="r")
    t1 = time.perf_counter()
    yx = arr[z, :, :]
    t2 = time.perf_counter()
    return {
        "open_s": t1 - t0,
        "cold_s": t2 - t1,
        "warm_s": None,
        "checksum": int(yx.astype(np.uint64).sum() + (yx[::7, ::5].astype(np.uint64) * 3).sum()),
    }


READERS = {"wk_widget": wk_read, "tensorstore": tensorstore_read, "zarr-python": zarr_read}

if __name__ == "__main__":
    reader, url, z = sys.argv[1], sys.argv[2], int(sys.argv[3])
    result = READERS[reader](url, z)
    result["reader"] = reader
    print(json.dumps(result))
