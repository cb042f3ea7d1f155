"""JupyterLab / Notebook 7 + headless Chromium for browser tests and benchmarks (no pytest).

    with JupyterLab(root_dir) as lab, Browser(artifacts_dir) as browser:
        lab.write_notebook("demo.ipynb", ["import wk_widget as wk", "wk.Viewer()"])
        nb = browser.open_notebook(lab, "demo.ipynb")   # page loaded, kernel idle
        nb.run_all()                                     # Run > Run All Cells, waits
        nb.page.wait_for_selector("[data-testid=wk-root]")
        lab.execute("demo.ipynb", "print(1 + 1)")        # in the notebook's own kernel

``JupyterLab(app="notebook")`` is Notebook 7 (same server, same notebook page widgets, its
own URLs). JupyterLab runs as a real server process (``--allow-root``, no token, 127.0.0.1, a
temporary config/settings/runtime dir, news and update checks off, widget state saved
into notebooks) with the current interpreter, so its ``python3`` kernel is this venv.
Chromium is the system one (``/usr/bin/chromium``) driven by Playwright; Playwright
never downloads a browser here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Self

from tests.support.servers import ServerProcess, StartStop, start_on_free_port
from tests.support.widget_checks import watch_external_requests

CHROMIUM = os.environ.get("WK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    # Store widget state in saved notebooks, so that tests can check what it holds.
    "@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True},
    # No "Select kernel" dialog, no autosave racing the tests' own saves.
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    # Every cell fully rendered, also off screen.
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}
# News and update checks off (both would reach the internet).
_NEWS_OFF = {
    "lab": ["--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
    "notebook": [],
}
DEFAULT_TIMEOUT_S = 60.0
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class NotebookError(AssertionError):
    """A cell raised, or the notebook did not finish in time."""


def _code_cell(source: str) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def notebook_json(cells: Sequence[str]) -> dict[str, Any]:
    """An nbformat 4 notebook of code cells (markdown cells: start the source with '%%md\\n')."""
    out = []
    for source in cells:
        if source.startswith("%%md\n"):
            out.append({"cell_type": "markdown", "metadata": {}, "source": source[5:]})
        else:
            out.append(_code_cell(source))
    return {
        "cells": out,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


# --------------------------------------------------------------------------- JupyterLab


class JupyterLab(StartStop):
    """A JupyterLab (or, with ``app="notebook"``, Notebook 7) server process over ``root``
    (a temporary directory by default)."""

    def __init__(
        self, root: Path | None = None, env: dict[str, str] | None = None, app: str = "lab"
    ) -> None:
        if app not in ("lab", "notebook"):
            raise ValueError(f"app must be 'lab' or 'notebook', not {app!r}")
        self.app = app
        self._tmp = Path(tempfile.mkdtemp(prefix="wk-jupyterlab-"))
        self.root = Path(root) if root is not None else self._tmp / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.runtime_dir = self._tmp / "runtime"
        self.extra_env = dict(env or {})
        self.process: ServerProcess | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> Self:
        app_settings = self._tmp / "app-settings"
        app_settings.mkdir(exist_ok=True)
        (app_settings / "overrides.json").write_text(json.dumps(LAB_SETTINGS, indent=2))
        env = dict(os.environ)
        env.update(
            {
                "JUPYTER_CONFIG_DIR": str(self._tmp / "config"),
                "JUPYTER_RUNTIME_DIR": str(self.runtime_dir),
                "JUPYTERLAB_SETTINGS_DIR": str(self._tmp / "user-settings"),
                "JUPYTERLAB_WORKSPACES_DIR": str(self._tmp / "workspaces"),
                "JUPYTER_PLATFORM_DIRS": "1",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        self.process = start_on_free_port(
            f"jupyter-{self.app}",
            lambda port: [
                sys.executable, "-m", "jupyter", self.app, "--no-browser", "--allow-root",
                "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0", "--IdentityProvider.token=",
                "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                f"--ServerApp.root_dir={self.root}", f"--LabServerApp.app_settings_dir={app_settings}",
                *_NEWS_OFF[self.app],
                "--ServerApp.log_level=WARN", "--MappingKernelManager.cull_idle_timeout=0",
            ],
            "/api/status",
            env,
            timeout=90,
        )  # fmt: skip
        self.port = self.process.port
        return self

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(Exception):
                for session in self.sessions():
                    self._api("DELETE", f"/api/sessions/{session['id']}")
            self.process.stop()
            self.process = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def log(self) -> str:
        return self.process.output() if self.process else ""

    # -- REST ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, name: str) -> str:
        if self.app == "notebook":
            return f"{self.url}/notebooks/{urllib.parse.quote(name)}"
        return f"{self.url}/lab/tree/{urllib.parse.quote(name)}?reset"

    def _api(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with _OPENER.open(request, timeout=30) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def sessions(self) -> list[dict[str, Any]]:
        return list(self._api("GET", "/api/sessions"))

    def session_for(self, name: str) -> dict[str, Any] | None:
        for session in self.sessions():
            if session.get("path") == name:
                return session
        return None

    def shutdown_kernel(self, name: str) -> None:
        session = self.session_for(name)
        if session is not None:
            with contextlib.suppress(urllib.error.URLError):
                self._api("DELETE", f"/api/sessions/{session['id']}")

    # -- files ------------------------------------------------------------------------------
    def write_notebook(self, name: str, cells: Sequence[str]) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(notebook_json(cells), indent=1))
        return path

    def copy_notebook(self, source: Path, name: str | None = None) -> Path:
        target = self.root / (name or Path(source).name)
        shutil.copyfile(source, target)
        return target

    # -- the notebook's kernel -----------------------------------------------------------------
    @contextlib.contextmanager
    def kernel_client(self, name: str) -> Iterator[Any]:
        from jupyter_client import BlockingKernelClient

        session = self.session_for(name)
        if session is None:
            raise NotebookError(f"no kernel session for {name}")
        client = BlockingKernelClient()
        client.load_connection_file(str(self.runtime_dir / f"kernel-{session['kernel']['id']}.json"))
        client.start_channels()
        try:
            client.wait_for_ready(timeout=30)
            yield client
        finally:
            client.stop_channels()

    def execute(self, name: str, code: str, timeout: float = DEFAULT_TIMEOUT_S) -> str:
        """Run ``code`` in the kernel of notebook ``name``; returns stdout (raises on error).

        Uses a second client on the same kernel: variables of the notebook are visible.
        The kernel processes no widget messages while this runs.
        """
        out: list[str] = []
        errors: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                out.append(content["data"].get("text/plain", "") + "\n")
            elif kind == "error":
                errors.append("\n".join(content.get("traceback", [])) or content.get("evalue", ""))

        with self.kernel_client(name) as client:
            client.execute_interactive(code, timeout=timeout, output_hook=hook, store_history=False, allow_stdin=False)
        if errors:
            raise NotebookError(f"kernel error running {code!r}:\n{errors[0]}")
        return "".join(out)

    def evaluate(self, name: str, expression: str, timeout: float = DEFAULT_TIMEOUT_S) -> Any:
        """JSON value of a Python expression evaluated in the notebook's kernel."""
        marker = "__WK_JSON__"
        text = self.execute(name, f"import json as _j; print({marker!r} + _j.dumps({expression}))", timeout)
        for line in text.splitlines():
            if line.startswith(marker):
                return json.loads(line[len(marker) :])
        raise NotebookError(f"no value from {expression!r}: {text!r}")


# --------------------------------------------------------------------------- browser


class Browser(StartStop):
    """Playwright's sync API driving the system Chromium with a fresh profile."""

    def __init__(self, artifacts: Path | None = None, viewport: tuple[int, int] = (1400, 1000)) -> None:
        self.artifacts = Path(artifacts) if artifacts else None
        self.viewport = viewport
        self._profile = Path(tempfile.mkdtemp(prefix="wk-chromium-"))
        self._pw: Any = None
        self.context: Any = None

    def start(self) -> Self:
        from playwright.sync_api import sync_playwright

        if not Path(CHROMIUM).exists():
            raise FileNotFoundError(f"{CHROMIUM} not found: apt-get install chromium (or set WK_CHROMIUM)")
        self._pw = sync_playwright().start()
        try:
            self.context = self._pw.chromium.launch_persistent_context(
                str(self._profile),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": self.viewport[0], "height": self.viewport[1]},
            )
        except BaseException:
            self._pw.stop()
            raise
        self.context.set_default_timeout(DEFAULT_TIMEOUT_S * 1000)
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            if self.context is not None:
                self.context.close()
        with contextlib.suppress(Exception):
            if self._pw is not None:
                self._pw.stop()
        self.context = self._pw = None
        shutil.rmtree(self._profile, ignore_errors=True)

    def new_page(self) -> Any:
        return self.context.new_page()

    def open_notebook(self, lab: JupyterLab, name: str, page: Any = None) -> NotebookPage:
        nb = NotebookPage(lab, name, page if page is not None else self.new_page())
        nb.open()
        return nb


# --------------------------------------------------------------------------- one notebook


_CELL_STATE_JS = """
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell.jp-CodeCell')];
  const prompts = cells.map((c) => (c.querySelector('.jp-InputPrompt')?.textContent || '').trim());
  const errors = [...panel.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')]
    .map((e) => e.textContent || '');
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status') || '';
  return { prompts, errors, status };
}
"""


class NotebookPage:
    """A notebook opened in JupyterLab in one browser page."""

    def __init__(self, lab: JupyterLab, name: str, page: Any) -> None:
        self.lab, self.name, self.page = lab, name, page
        self.console: list[str] = []
        page.on("console", lambda m: self.console.append(f"[{m.type}] {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"[pageerror] {e}"))
        self.external = watch_external_requests(page)  # must stay empty

    def open(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.page.goto(self.lab.notebook_url(self.name))
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=timeout * 1000)
        self.wait_kernel_idle(timeout)

    def wait_kernel_idle(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """The notebook's kernel exists, the server says it is idle, and so does the page."""
        deadline = time.monotonic() + timeout
        while True:
            session = self.lab.session_for(self.name)
            state = (session or {}).get("kernel", {}).get("execution_state")
            if state == "idle":
                cells = self.page.evaluate(_CELL_STATE_JS)
                if cells and cells["status"] == "idle":
                    return
            if time.monotonic() > deadline:
                raise NotebookError(f"kernel of {self.name} not idle after {timeout:.0f} s (state {state!r})")
            time.sleep(0.1)

    def command(self, menu: str, item: str) -> None:
        """Click a main-menu item, e.g. ``command("Run", "Run All Cells")``."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
        entry = self.page.locator(".lm-Menu-content .lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel")
        entry.filter(has_text=item).first.click()

    def run_all(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Run > Run All Cells, then wait until every code cell ran (raises on an error)."""
        self.command("Run", "Run All Cells")
        self.wait_executed(timeout)

    def wait_executed(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while True:
            state = self.page.evaluate(_CELL_STATE_JS) or {"prompts": [], "errors": [], "status": ""}
            if state["errors"]:
                raise NotebookError(f"{self.name}: a cell raised:\n{state['errors'][0][-3000:]}")
            prompts = state["prompts"]
            if prompts and all(p not in ("[ ]:", "[*]:", "") for p in prompts) and state["status"] == "idle":
                return
            if time.monotonic() > deadline:
                raise NotebookError(f"{self.name}: not executed after {timeout:.0f} s (prompts {prompts})")
            time.sleep(0.1)

    def save(self, timeout: float = DEFAULT_TIMEOUT_S) -> dict[str, Any]:
        """Ctrl+S (with the notebook focused); waits until the file on disk is rewritten."""
        path = self.lab.root / self.name
        before = path.stat().st_mtime_ns if path.exists() else 0
        self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").first.click(
            position={"x": 5, "y": 5}
        )
        self.page.keyboard.press("Escape")  # command mode: Ctrl+S saves the notebook
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + timeout
        while True:
            dirty = self.page.locator(".jp-mod-current.jp-mod-dirty, .lm-TabBar-tab.lm-mod-current.jp-mod-dirty").count()
            if path.exists() and path.stat().st_mtime_ns != before and not dirty:
                with contextlib.suppress(json.JSONDecodeError):
                    return dict(json.loads(path.read_text()))
            if time.monotonic() > deadline:
                raise NotebookError(f"{self.name} was not saved within {timeout:.0f} s")
            time.sleep(0.1)

    def screenshot(self, name: str, directory: Path | None) -> Path | None:
        if directory is None:
            return None
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.png"
        with contextlib.suppress(Exception):
            self.page.screenshot(path=str(path), full_page=False)
            return path
        return None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.page.close()
        self.lab.shutdown_kernel(self.name)
