"""Run one hostile read in this process under an address-space limit; print peak RSS.

``python memory_probe.py LIMIT_MIB CASE URL``; CASE is ``baseline`` (import and one small
read), ``gzipbomb``, ``endless`` or ``zstdbomb``. Prints one JSON line:
``{"case", "error", "peak_rss_mib"}``.
"""

from __future__ import annotations

import json
import resource
import sys


def _peak_rss_mib() -> float:
    """VmHWM: this process's own peak (ru_maxrss would include the forking parent's)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    limit_mib, case, url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    limit = limit_mib << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import wk_widget as wk
    from wk_widget.formats import parse_uri
    from wk_widget.storage import run_sync, storage_for

    error = ""
    try:
        if case in ("gzipbomb", "endless"):
            storage = storage_for(parse_uri(url))
            run_sync(storage.get(url))
        else:
            layer = next(iter(wk.explore(url)))
            layer.read((0, 0, 0), (16, 16, 1))
    except Exception as exc:  # the type is what the test checks
        error = f"{type(exc).__name__}: {exc}"[:300]
    print(json.dumps({"case": case, "error": error, "peak_rss_mib": round(_peak_rss_mib(), 1)}))


if __name__ == "__main__":
    main()
