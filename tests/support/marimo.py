"""marimo for browser tests: a notebook served read-only by ``marimo run`` (no pytest).

    server = Marimo(root_dir)
    app = server.write_app("viewer.py", CODE)   # before start: marimo lists the folder then
    with server:
        page.goto(server.app_url(app))   # each page load: a new session (kernel) running every cell

``marimo run`` is a real server process (127.0.0.1, no token, no browser, no update
check, a temporary home so that no user config is read); its kernels inherit this
environment (PYTHONPATH included), so they import the wk_widget under test. Widgets are
shown through ``mo.ui.anywidget``, the way marimo's documentation does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Self

from tests.support.servers import ServerProcess, StartStop, start_on_free_port


def marimo_app(code: str, width: str = "compact") -> str:
    """The source of a marimo notebook with one cell running ``code``; the cell shows the
    value of its last line (an expression), as marimo does."""
    body = textwrap.indent(textwrap.dedent(code).strip() + "\nreturn\n", " " * 4)
    return (
        "import marimo\n\n"
        f"app = marimo.App(width={width!r})\n\n\n"
        "@app.cell\n"
        f"def _():\n{body}\n\n"
        'if __name__ == "__main__":\n    app.run()\n'
    )


class Marimo(StartStop):
    """``marimo run`` over one notebook folder (``root``); notebooks are written into it."""

    def __init__(self, root: Path | None = None, env: dict[str, str] | None = None) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="wk-marimo-"))
        self.root = Path(root) if root is not None else self._tmp / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.extra_env = dict(env or {})
        self.process: ServerProcess | None = None
        self.port = 0

    def write_app(self, name: str, code: str, width: str = "compact") -> str:
        (self.root / name).write_text(marimo_app(code, width))
        return name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app_url(self, name: str) -> str:
        # marimo run over a folder serves each notebook at ?file=<name>
        return f"{self.url}/?file={name}"

    def start(self) -> Self:
        home = self._tmp / "home"
        home.mkdir(exist_ok=True)
        env = dict(os.environ)
        env.update(
            {
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home / ".config"),
                "XDG_STATE_HOME": str(home / ".state"),
                "XDG_CACHE_HOME": str(home / ".cache"),
                "MARIMO_SKIP_UPDATE_CHECK": "1",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        self.process = start_on_free_port(
            "marimo",
            lambda port: [
                sys.executable, "-m", "marimo", "run", str(self.root), "--headless",
                "--host", "127.0.0.1", "--port", str(port), "--no-token",
                "--no-sandbox", "--no-check", "--session-ttl", "0",
            ],
            "/health",
            env,
            timeout=90,
        )  # fmt: skip
        self.port = self.process.port
        return self

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(Exception):
                self.process.stop()
            self.process = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def log(self) -> str:
        return self.process.output() if self.process else ""
