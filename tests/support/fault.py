"""`FaultServer`: the fault-injecting HTTP server (``fault_server.py``) in its own process."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.servers import HttpServer, ServerProcess, _python, free_port


class FaultServer(HttpServer):
    """Serves ``root`` with switchable faults; records every request's headers."""

    def _spawn(self) -> list[ServerProcess]:
        self.root.mkdir(parents=True, exist_ok=True)
        port = free_port()
        argv = _python("fault_server.py", "--root", str(self.root), "--port", str(port))
        return [ServerProcess("fault", argv, port, "/__stats", None)]

    def captured(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/__captured", timeout=10) as response:
            return list(json.loads(response.read()))

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/__reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()


def write(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path
