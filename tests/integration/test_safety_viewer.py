"""The Viewer's message handler driven with hostile messages in each browser_access mode,
against real local servers (what a Voila page or a shared notebook's browser could send)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

import wk_widget as wk
from tests.support.fault import FaultServer, write
from wk_widget.storage import origins
from wk_widget.widget.viewer import Viewer

HOSTILE_NAMES = ["../evil.json", "~/.bashrc", ".bashrc", "sub/x.json", "/tmp/abs-wk.json", "a\\\\b.json", "..", "x\\x00y"]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FaultServer, FaultServer]]:
    with FaultServer(tmp_path_factory.mktemp("v-a")) as a, FaultServer(tmp_path_factory.mktemp("v-b")) as b:
        arr = zarr.create_array(store=str(a.root / "img"), shape=(1, 1, 16, 16), chunks=(1, 1, 8, 8), dtype="uint8", zarr_format=2)
        arr[...] = np.arange(256, dtype=np.uint8).reshape(1, 1, 16, 16)
        write(a.root, "hostile/.zarray", json.dumps({
            "zarr_format": 2, "shape": [8, 8], "chunks": [8, 8], "dtype": "SECRET-FIELD-VALUE",
            "compressor": None, "fill_value": 0, "order": "C", "filters": None,
        }))
        yield a, b


@pytest.fixture(autouse=True)
def _reset(servers: tuple[FaultServer, FaultServer]) -> Iterator[None]:
    for s in servers:
        s.reset()
    yield
    origins.EXTRA_PUBLIC_HOSTS.clear()


class Browser:
    """Sends messages the way ipywidgets delivers them and records the replies."""

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.sent: list[dict[str, Any]] = []
        viewer.send = lambda content, buffers=None: self.sent.append(json.loads(json.dumps(content)))  # type: ignore[method-assign]

    def __call__(self, content: dict[str, Any]) -> dict[str, Any]:
        self.viewer._on_msg(self.viewer, dict(content), [])
        return self.result(str(content.get("id")))

    async def explore(self, uri: str, rid: str, credentials: Any = None) -> dict[str, Any]:
        self.viewer._on_msg(self.viewer, {"type": "explore", "id": rid, "uri": uri, "credentials": credentials}, [])
        await self.viewer._idle()
        return self.result(rid)

    def result(self, rid: str) -> dict[str, Any]:
        found = [c for c in self.sent if c.get("type") == "result" and c.get("id") == rid]
        return found[-1] if found else {}


async def test_notebook_mode_exports_plain_names_into_export_dir(servers: tuple[FaultServer, FaultServer], tmp_path: Path) -> None:
    a, _ = servers
    export_dir = tmp_path / "exports"
    export_dir.mkdir()
    v = Viewer(export_dir=export_dir)
    b = Browser(v)
    assert (await b.explore(f"{a.url}/img", "e1"))["ok"]
    assert b({"type": "import", "id": "i1"})["ok"]
    # a dataset name chosen by the browser does not choose the file
    assert b({"type": "edit", "id": "n1", "name": "../../.bashrc"})["ok"]
    before = {p for p in tmp_path.rglob("*")}
    for i, name in enumerate(HOSTILE_NAMES):
        res = b({"type": "export", "id": f"x{i}", "path": name})
        assert res["ok"] is False, name
    assert {p for p in tmp_path.rglob("*")} == before
    assert not Path("/tmp/abs-wk.json").exists()
    res = b({"type": "export", "id": "ok", "path": "mine.json"})
    assert res["ok"] and Path(res["path"]) == (export_dir / "mine.json").resolve()
    assert json.loads((export_dir / "mine.json").read_text())["dataLayers"]
    # credentials only as values, never a path on the kernel's disk
    creds_file = tmp_path / "creds.json"
    creds_file.write_text(json.dumps({"type": "http_basic", "username": "u", "password": "p"}))
    res = await b.explore(f"{a.url}/img", "c1", credentials=str(creds_file))
    assert res["ok"] is False and "values" in res["error"]
    res = await b.explore(f"{a.url}/img", "c2", credentials={"type": "http_basic", "username": "u", "password": "p"})
    assert res["ok"]


@pytest.mark.parametrize(
    "uri",
    [
        "file:///etc",
        "/etc",
        "http://127.0.0.1:{a}/img",
        "https://localhost:{a}/img",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]:{a}/img",
        "s3://127.0.0.1:{a}/bucket/img",
        "zarr2://https://10.0.0.1/img",
    ],
)
async def test_public_mode_refuses_local_and_private_addresses(servers: tuple[FaultServer, FaultServer], uri: str) -> None:
    a, _ = servers
    port = a.url.rsplit(":", 1)[1]
    v = Viewer(browser_access="public")
    b = Browser(v)
    res = await b.explore(uri.format(a=port), "p1")
    assert res["ok"] is False
    assert "not allowed" in res["error"] or "refused" in res["error"].lower()
    assert a.captured() == []  # nothing reached the server


async def test_public_mode_neuroglancer_link_to_loopback_is_refused(servers: tuple[FaultServer, FaultServer]) -> None:
    a, _ = servers
    state = {"layers": [{"type": "image", "name": "x", "source": f"zarr2://{a.url}/img"}]}
    v = Viewer(browser_access="public")
    res = await Browser(v).explore("https://neuroglancer-demo.appspot.com/#!" + json.dumps(state), "n1")
    assert res["ok"] is False
    assert a.captured() == []


async def test_public_mode_rechecks_redirects_and_never_echoes_content(servers: tuple[FaultServer, FaultServer]) -> None:
    a, other = servers
    origins.EXTRA_PUBLIC_HOSTS.add("127.0.0.1")  # pretend the first server is on the internet
    v = Viewer(browser_access="public")
    b = Browser(v)
    other_port = other.url.rsplit(":", 1)[1]
    res = await b.explore(f"{a.url}/__redirect/localhost/{other_port}/img", "r1")
    assert res["ok"] is False
    assert other.captured() == []  # the redirect to a loopback name was not followed
    res = await b.explore(f"{a.url}/__redirect/169.254.169.254/80/latest", "r2")
    assert res["ok"] is False
    # the notebook mode shows the fetched field; the public mode does not
    res = await b.explore(f"{a.url}/hostile", "h1")
    assert res["ok"] is False and "SECRET-FIELD-VALUE" not in json.dumps(b.sent)
    nb = Browser(Viewer())
    res = await nb.explore(f"{a.url}/hostile", "h2")
    assert res["ok"] is False and "SECRET-FIELD-VALUE" in res["error"]
    # public sources work, and export is refused (Download only)
    assert (await b.explore(f"{a.url}/img", "ok1"))["ok"]
    assert b({"type": "import", "id": "i1"})["ok"]
    assert b({"type": "export", "id": "x1", "path": "datasource-properties.json"})["ok"] is False


async def test_public_mode_never_uses_the_kernels_credentials(
    servers: tuple[FaultServer, FaultServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, capture = servers
    origins.EXTRA_PUBLIC_HOSTS.add("127.0.0.1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAKERNELOWNKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "kernel-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", capture.url)  # the kernel's own endpoint
    host = capture.url.split("://", 1)[1]
    res = await Browser(Viewer(browser_access="public")).explore(f"s3://{host}/bucket/img", "s1")
    assert res["ok"] is False
    public = capture.captured()
    assert public and "AKIAKERNELOWNKEY" not in json.dumps(public)
    capture.reset()
    # the notebook mode does use them (there, the kernel's owner is the one asking)
    await Browser(Viewer()).explore(f"s3://{host}/bucket/img", "s2")
    assert "AKIAKERNELOWNKEY" in json.dumps(capture.captured())


async def test_none_mode_only_views(servers: tuple[FaultServer, FaultServer], tmp_path: Path) -> None:
    a, _ = servers
    ds = wk.explore(f"{a.url}/img")
    v = Viewer(ds, browser_access="none", export_dir=tmp_path)
    b = Browser(v)
    assert v.browser_access == "none"
    for rid, content in {
        "e": {"type": "explore", "uri": f"{a.url}/img"},
        "d": {"type": "edit", "name": "x"},
        "i": {"type": "import"},
        "r": {"type": "discard"},
        "x": {"type": "export", "path": "a.json"},
    }.items():
        assert b({**content, "id": rid})["ok"] is False
    assert list(tmp_path.iterdir()) == [] and ds.name != "x"
    v._on_msg(v, {"type": "stats", "id": "s"}, [])
    assert any(c.get("type") == "stats" for c in b.sent)
    await asyncio.sleep(0)


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="browser_access"):
        Viewer(browser_access="everything")


async def test_userinfo_never_reaches_traits_or_messages(servers: tuple[FaultServer, FaultServer]) -> None:
    a, _ = servers
    host = a.url.split("://", 1)[1]
    v = Viewer()
    b = Browser(v)
    assert (await b.explore(f"http://reader:Us3rinfo-Secret@{host}/img?sig=Sig-Secret", "u1"))["ok"]
    assert b({"type": "import", "id": "i1"})["ok"]
    state = json.dumps({k: val for k, val in v.get_state().items() if k not in ("_esm", "_css")}, default=str)
    for secret in ("Us3rinfo-Secret", "Sig-Secret"):
        assert secret not in state and secret not in json.dumps(b.sent) and secret not in v.status
    assert any("Authorization" in r["headers"] for r in a.captured())  # used for its own requests
