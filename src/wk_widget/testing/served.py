"""Where a conformance case's data lives: a dataset folder served under a URL, and how the
tests that break things get a private writable copy of it."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServedCopy:
    """A private, writable copy of a dataset folder (`local_dir`) served under `url`."""

    local_dir: Path
    url: str  # no trailing slash

    def local_path(self, url: str) -> Path:
        """The file behind `url` (a URL below `self.url`)."""
        root = self.url.rstrip("/") + "/"
        if not url.startswith(root):
            raise ValueError(f"{url} is not below {root}")
        return self.local_dir / urllib.parse.unquote(url[len(root) :])


MakeCopy = Callable[[], ServedCopy]


def join_url(base: str, path: str) -> str:
    return "/".join(p for p in (base.rstrip("/"), path.strip("/")) if p)
