"""Safety in an open world, against real local servers: credentials stay on their origin,
remote input cannot exhaust memory, wrong ranges and outages are handled, saves are atomic,
secrets stay out of everything shown, and the Viewer obeys its browser_access mode."""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

import wk_widget as wk
from tests.support.fault import FaultServer, write
from tests.support.servers import S3Server
from wk_widget import cli
from wk_widget.errors import (
    AccessDeniedError,
    CorruptChunkError,
    LimitExceededError,
    MalformedMetadataError,
    RemoteDatasetError,
    ServerFaultError,
    SourceTimeoutError,
)
from wk_widget.formats import parse_uri
from wk_widget.storage import run_sync, storage_for
from wk_widget.storage.retry import set_retry_policy

PASSWORD = "origin-bound-pa55word"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FaultServer, FaultServer]]:
    with FaultServer(tmp_path_factory.mktemp("fault-a")) as a, FaultServer(tmp_path_factory.mktemp("fault-b")) as b:
        yield a, b


@pytest.fixture(autouse=True)
def _fresh(servers: tuple[FaultServer, FaultServer]) -> Iterator[None]:
    for s in servers:
        s.reset()
    yield
    set_retry_policy(budget=30.0, read_timeout=30.0, max_retry_after=10.0)
    wk.set_request_limit(4096)


def _zarr2(root: Path, rel: str, data: np.ndarray, chunks: tuple[int, ...], **kw: Any) -> Path:
    path = root / rel
    arr = zarr.create_array(store=str(path), shape=data.shape, chunks=chunks, dtype=data.dtype, zarr_format=2, **kw)
    arr[...] = data
    return path


def _datasource(mag_path: str, name: str = "img") -> str:
    return json.dumps(
        {
            "id": {"name": "ds", "team": ""},
            "scale": {"factor": [1, 1, 1], "unit": "nanometer"},
            "dataLayers": [
                {
                    "name": name,
                    "category": "color",
                    "dataFormat": "zarr",
                    "elementClass": "uint8",
                    "boundingBox": {"topLeft": [0, 0, 0], "width": 16, "height": 16, "depth": 1},
                    "mags": [{"mag": [1, 1, 1], "path": mag_path, "axisOrder": {"c": 0, "z": 1, "y": 2, "x": 3}}],
                    "numChannels": 1,
                }
            ],
            "version": 1,
        }
    )


DATA = np.arange(16 * 16, dtype=np.uint8).reshape(1, 1, 16, 16)  # c, z, y, x


# ------------------------------------------------------------------ 1. origins


def test_http_credentials_stay_on_their_origin(servers: tuple[FaultServer, FaultServer]) -> None:
    a, b = servers
    _zarr2(b.root, "cross/img", DATA, (1, 1, 8, 8))
    write(a.root, "cross/datasource-properties.json", _datasource(f"{b.url}/cross/img"))
    ds = wk.explore(f"{a.url}/cross", credentials=wk.HttpBasicAuth("alice", PASSWORD))
    assert np.array_equal(ds.layers["img"].read((0, 0, 0), (16, 16, 1)).squeeze(), DATA.squeeze().T)
    a_auth = [r["headers"].get("Authorization") for r in a.captured()]
    b_reqs = b.captured()
    assert a_auth and all(h and h.startswith("Basic ") for h in a_auth)
    assert b_reqs and not any("Authorization" in r["headers"] for r in b_reqs)


@pytest.mark.parametrize("path", ["file:///etc", "file:///etc/passwd"])
def test_remote_datasource_never_reads_local_files(servers: tuple[FaultServer, FaultServer], path: str) -> None:
    a, _ = servers
    write(a.root, "local/datasource-properties.json", _datasource(path))
    with pytest.raises(AccessDeniedError, match="local"):
        wk.explore(f"{a.url}/local")


def test_neuroglancer_link_cannot_name_local_files(servers: tuple[FaultServer, FaultServer], tmp_path: Path) -> None:
    _zarr2(tmp_path, "img", DATA, (1, 1, 8, 8))
    state = {"layers": [{"type": "image", "name": "x", "source": f"zarr2://file://{tmp_path}/img"}]}
    link = "https://neuroglancer-demo.appspot.com/#!" + json.dumps(state)
    with pytest.raises(RemoteDatasetError) as info:
        wk.explore(link)
    assert "file://" in str(info.value)


@pytest.fixture()
def ambient_s3(s3_auth_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The kernel's own AWS credentials (read-only IAM user) and endpoint in its environment."""
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)  # restored (removed) after the test
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_auth_server.access_key_id or "")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_auth_server.secret_access_key or "")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_auth_server.endpoint_url)
    return s3_auth_server


def _leaks(captured: list[dict[str, Any]], key_id: str) -> list[str]:
    found = []
    for r in captured:
        text = json.dumps(r)
        for needle in (key_id, "ambient-session-token", "AWS4-HMAC", "X-Amz-Credential"):
            if needle in text:
                found.append(f"{needle} in {r['path']}")
    return found


def test_ambient_s3_credentials_never_reach_a_foreign_endpoint(
    ambient_s3: S3Server, servers: tuple[FaultServer, FaultServer], tmp_path: Path
) -> None:
    a, capture = servers
    key_id = ambient_s3.access_key_id or ""
    # The kernel's own credentials work on their own endpoint (moto enforces signatures) ...
    _zarr2(tmp_path / "pub", "img", DATA, (1, 1, 8, 8))
    bucket_uri = ambient_s3.publish(tmp_path / "pub", "ambient-own")
    assert wk.explore(f"{bucket_uri}/img").layers
    # ... but a remote datasource naming an S3 "endpoint" of its choice gets nothing signed.
    os.environ["AWS_SESSION_TOKEN"] = "ambient-session-token-XYZ"  # (moto would refuse it above)
    host = capture.url.split("://", 1)[1]
    write(a.root, "s3leak/datasource-properties.json", _datasource(f"s3://{host}/bucket/img"))
    with pytest.raises(RemoteDatasetError):
        wk.explore(f"{a.url}/s3leak")
    # ... and neither does a Neuroglancer link.
    state = {"layers": [{"type": "image", "name": "x", "source": f"zarr2://s3://{host}/bucket/img"}]}
    with pytest.raises(RemoteDatasetError):
        wk.explore("https://neuroglancer-demo.appspot.com/#!" + json.dumps(state))
    captured = capture.captured()
    assert any(r["path"].startswith("/bucket/img") for r in captured)  # it did ask, anonymously
    assert _leaks(captured, key_id) == []


def test_explicit_s3_credentials_stay_with_endpoint_and_bucket(
    s3_auth_server: S3Server, servers: tuple[FaultServer, FaultServer], tmp_path: Path
) -> None:
    _, capture = servers
    _zarr2(tmp_path / "pub", "img", DATA, (1, 1, 8, 8))
    key = s3_auth_server.access_key_id or ""
    creds = wk.S3Credentials(key, s3_auth_server.secret_access_key or "", endpoint_url=s3_auth_server.endpoint_url)
    host = capture.url.split("://", 1)[1]
    doc = _datasource(f"s3://{host}/bucket/img")
    (tmp_path / "pub" / "datasource-properties.json").write_text(doc)
    uri = s3_auth_server.publish(tmp_path / "pub", "explicit-scope")
    with pytest.raises(RemoteDatasetError):
        wk.explore(uri, credentials=creds)
    assert _leaks(capture.captured(), key) == []


# ------------------------------------------------------------------ 3. bounded memory


def test_gzip_bomb_and_endless_body_are_refused(servers: tuple[FaultServer, FaultServer]) -> None:
    a, _ = servers
    storage = storage_for(parse_uri(a.url))
    t0 = time.monotonic()
    with pytest.raises(LimitExceededError, match="__gzipbomb"):
        run_sync(storage.get(f"{a.url}/__gzipbomb/256/zarr.json"))
    with pytest.raises(LimitExceededError, match="__endless"):
        run_sync(storage.get(f"{a.url}/__endless/zarr.json"))
    with pytest.raises(LimitExceededError):
        wk.explore(f"{a.url}/__endless/x")
    assert time.monotonic() - t0 < 60


def test_zstd_chunk_bomb_is_refused_before_allocating(servers: tuple[FaultServer, FaultServer]) -> None:
    import imagecodecs
    from numcodecs import Zstd

    a, _ = servers
    path = _zarr2(a.root, "zbomb/img", DATA, (1, 1, 8, 8), compressors=Zstd(level=1))
    (path / "0.0.0.0").write_bytes(imagecodecs.zstd_encode(bytes(1 << 30)))  # 1 GiB declared
    ds = wk.explore(f"{a.url}/zbomb/img")
    layer = next(iter(ds))
    with pytest.raises(CorruptChunkError, match="more than the 64 bytes"):
        layer.read((0, 0, 0), (16, 16, 1))


def test_hostile_metadata_numbers(servers: tuple[FaultServer, FaultServer]) -> None:
    a, _ = servers
    # 10^9 channels in a 200-byte zarr.json: refused at once (NGFF cost is linear, capped)
    meta = {
        "zarr_format": 3, "node_type": "array", "shape": [10**9, 64, 64], "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, 64, 64]}},
        "chunk_key_encoding": {"name": "default"}, "fill_value": 0,
        "codecs": [{"name": "bytes"}],
    }
    ome = {
        "zarr_format": 3, "node_type": "group",
        "attributes": {"ome": {"version": "0.5", "multiscales": [{
            "axes": [{"name": "c", "type": "channel"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
            "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}]}],
        }]}},
    }
    write(a.root, "chan/zarr.json", json.dumps(ome))
    write(a.root, "chan/0/zarr.json", json.dumps(meta))
    t0 = time.monotonic()
    with pytest.raises(LimitExceededError, match="channels"):
        wk.explore(f"{a.url}/chan")
    assert time.monotonic() - t0 < 20
    # Infinity voxel sizes: a clear metadata error, not ValueError
    inf = json.loads(json.dumps(ome))
    inf["attributes"]["ome"]["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"] = [1, 1e999, 1]
    meta["shape"] = [1, 64, 64]
    write(a.root, "inf/zarr.json", json.dumps(inf).replace("Infinity", "1e999"))
    write(a.root, "inf/0/zarr.json", json.dumps(meta))
    with pytest.raises(RemoteDatasetError):
        wk.explore(f"{a.url}/inf")
    # JSON nested 100 000 deep: MalformedMetadataError, not RecursionError
    write(a.root, "deep/zarr.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(MalformedMetadataError, match="nested"):
        wk.explore(f"{a.url}/deep")
    assert cli.main(["explore", f"{a.url}/deep"]) == 1


def test_n5_block_larger_than_block_size_is_refused(servers: tuple[FaultServer, FaultServer]) -> None:
    import struct

    a, _ = servers
    write(a.root, "n5/attributes.json", json.dumps({"n5": "2.5.1"}))
    attrs = {"dimensions": [16, 16], "blockSize": [8, 8], "dataType": "uint8", "compression": {"type": "raw"}}
    write(a.root, "n5/img/attributes.json", json.dumps(attrs))
    header = struct.pack(">HHII", 0, 2, 60000, 60000)  # claims 3.6 GB
    write(a.root, "n5/img/0/0", header + bytes(64))
    ds = wk.explore(f"{a.url}/n5/img")
    with pytest.raises(CorruptChunkError, match="exceed the block size"):
        next(iter(ds)).read((0, 0, 0), (16, 16, 1))


# ------------------------------------------------------------------ 4./5. ranges, retries


def test_wrong_content_range_is_retried_once_then_an_error(servers: tuple[FaultServer, FaultServer]) -> None:
    a, _ = servers
    payload = bytes(range(256)) * 8
    write(a.root, "blob.bin", payload)
    storage = storage_for(parse_uri(a.url))
    assert run_sync(storage.get_range(f"{a.url}/__wrongrange/1/blob.bin", 100, 50)) == payload[100:150]
    with pytest.raises(ServerFaultError, match="Content-Range"):
        run_sync(storage.get_range(f"{a.url}/__wrongrange/9/blob.bin", 100, 50))
    assert len([r for r in a.captured() if "wrongrange/9" in r["path"]]) == 2


@pytest.mark.parametrize("scheme", ["s3", "gs"])
def test_object_store_ranges_check_content_range(servers: tuple[FaultServer, FaultServer], scheme: str) -> None:
    """S3 (path-style GetObject) and GCS (media download) answers carry Content-Range too: a
    shifted 206 is retried once, then an error, never data."""
    a, _ = servers
    payload = bytes(range(256)) * 8
    write(a.root, "__wrongrange/blob.bin", payload)  # what the GCS route serves after the faults
    write(a.root, "blob.bin", payload)  # ... and the S3 one (the path after `<n>/`)
    if scheme == "s3":
        storage = storage_for(parse_uri(f"s3://{a.url.removeprefix('http://')}/__wrongrange/x"))
    else:
        from wk_widget.storage.credentials import GcsCredentials
        from wk_widget.storage.store import StorageConfig, get_storage

        storage = get_storage(StorageConfig(scheme="gs", endpoint_url=a.url, credentials=GcsCredentials(token="anon")))
    assert run_sync(storage.get_range("__wrongrange/1/blob.bin", 100, 50)) == payload[100:150]
    assert run_sync(storage.get_range("__wrongrange/0/blob.bin", -60, None)) == payload[-60:]
    with pytest.raises(ServerFaultError, match="Content-Range"):
        run_sync(storage.get_range("__wrongrange/9/blob.bin", 100, 50))
    ranged = [r for r in a.captured() if "wrongrange" in r["path"] and "9" in r["path"] and r["headers"].get("Range")]
    assert len(ranged) == 2  # asked once more, then refused


@pytest.mark.real_retry_budget  # two 2 s Retry-Afters need more than the suite's short budget
def test_retry_after_is_honoured_within_the_budget(servers: tuple[FaultServer, FaultServer]) -> None:
    a, _ = servers
    write(a.root, "ra.bin", b"recovered")
    storage = storage_for(parse_uri(a.url))
    assert run_sync(storage.get(f"{a.url}/__retryafter/2/2/ra.bin")) == b"recovered"
    times = [r["t"] for r in a.captured() if "retryafter" in r["path"]]
    assert len(times) == 3 and all(t1 - t0 >= 1.9 for t0, t1 in itertools.pairwise(times))
    set_retry_policy(budget=3.0)
    t0 = time.monotonic()
    with pytest.raises(ServerFaultError, match="503"):
        run_sync(storage.get(f"{a.url}/__retryafter/100/1/ra.bin"))
    assert time.monotonic() - t0 < 6


def test_stalled_body_times_out(servers: tuple[FaultServer, FaultServer]) -> None:
    a, _ = servers
    set_retry_policy(read_timeout=1.0, budget=2.0)
    storage = storage_for(parse_uri(a.url))
    t0 = time.monotonic()
    with pytest.raises(SourceTimeoutError):
        run_sync(storage.get(f"{a.url}/__stall/zarr.json"))
    assert time.monotonic() - t0 < 8


# ------------------------------------------------------------------ 7. atomic save


def test_save_is_atomic_and_never_follows_a_symlink(servers: tuple[FaultServer, FaultServer], tmp_path: Path) -> None:
    a, _ = servers
    _zarr2(a.root, "save/img", DATA, (1, 1, 8, 8))
    ds = wk.explore(f"{a.url}/save/img")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    ds.save(link)
    assert victim.read_text() == "keep me" and not link.is_symlink()
    assert json.loads(link.read_text())["dataLayers"]
    # (a failing write is in test_a_failed_write_leaves_the_old_file)
    old = tmp_path / "datasource-properties.json"
    old.write_text("old")
    assert cli.main(["explore", f"{a.url}/save/img", "-o", str(old)]) == 0
    assert json.loads(old.read_text())["dataLayers"]


# ------------------------------------------------------------------ 8. request limit


def test_tiny_chunks_are_refused_with_advice(servers: tuple[FaultServer, FaultServer]) -> None:
    a, _ = servers
    data = np.zeros((1, 1, 80, 80), dtype=np.uint8)
    _zarr2(a.root, "tiny/img", data, (1, 1, 1, 1), compressors=None)
    layer = next(iter(wk.explore(f"{a.url}/tiny/img")))
    with pytest.raises(LimitExceededError, match=r"6400 chunks of shape \(1, 1, 1, 1\).*coarser mag"):
        layer.read((0, 0, 0), (80, 80, 1))
    assert not [r for r in a.captured() if r["path"].startswith("/tiny/img/0")]
    wk.set_request_limit(100)
    with pytest.raises(LimitExceededError):
        layer.read((0, 0, 0), (11, 11, 1))
    assert layer.read((0, 0, 0), (10, 10, 1)).size == 100


# ------------------------------------------------------------------ 9. secrets in URLs


def test_userinfo_and_signatures_never_shown(servers: tuple[FaultServer, FaultServer], capsys: pytest.CaptureFixture[str]) -> None:
    a, _ = servers
    _zarr2(a.root, "secret/img", DATA, (1, 1, 8, 8))
    host = a.url.split("://", 1)[1]
    ds = wk.explore(f"http://alice:{PASSWORD}@{host}/secret/img")
    layer = next(iter(ds))
    shown = [ds.to_json(), ds.to_neuroglancer_url(), layer.mags[0].path, repr(ds), json.dumps([r.to_json() for r in ds.reports])]
    assert all(PASSWORD not in s for s in shown)
    assert layer.read((0, 0, 0), (16, 16, 1)).size == 256
    sent = [r["headers"].get("Authorization", "") for r in a.captured()]
    assert sent and all(h.startswith("Basic ") for h in sent)  # the source still uses them
    assert cli.main(["explore", f"http://alice:{PASSWORD}@{host}/secret/img"]) == 0
    out = capsys.readouterr()
    assert PASSWORD not in out.out + out.err
    signed = f"{a.url}/secret/img/.zarray?X-Amz-Signature=deadbeefsig&X-Amz-Credential=AKIDX"
    uri = parse_uri(signed)
    assert "deadbeefsig" not in uri.url and "AKIDX" not in uri.url and "deadbeefsig" in uri.fs_path


# ------------------------------------------------------------------ 6. CLI never "internal error"


def test_cli_reports_hostile_input_without_internal_error(servers: tuple[FaultServer, FaultServer], capsys: pytest.CaptureFixture[str]) -> None:
    a, _ = servers
    write(a.root, "deep2/zarr.json", "{\"a\":" * 50_000 + "1" + "}" * 50_000)
    for uri in (f"{a.url}/deep2", f"{a.url}/__gzipbomb/256/x", f"{a.url}/__endless/x"):
        assert cli.main(["explore", uri]) == 1
        err = capsys.readouterr().err
        assert "internal error" not in err and a.url.split("://")[1] in err


def test_a_failed_read_cancels_its_sibling_fetches(servers: tuple[FaultServer, FaultServer]) -> None:
    a, _ = servers
    path = _zarr2(a.root, "siblings/img", np.ones((1, 1, 32, 32), np.uint8), (1, 1, 8, 8))
    layer = next(iter(wk.explore(f"{a.url}/siblings/img")))
    for key in sorted(p.name for p in path.iterdir() if p.name[0].isdigit()):
        (path / f"{key}.stall").write_text("")
    (path / "0.0.0.0.stall").unlink()
    (path / "0.0.0.0.status").write_text("403")
    storage = storage_for(parse_uri(f"{a.url}/siblings/img"))
    t0 = time.monotonic()
    with pytest.raises(AccessDeniedError):
        layer.read((0, 0, 0), (32, 32, 1))
    assert time.monotonic() - t0 < 10  # not the 30 s read timeout of the stalled siblings
    deadline = time.monotonic() + 5
    while storage._semaphore._value != storage.config.concurrency and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.05)
    assert storage._semaphore._value == storage.config.concurrency  # no fetch still holds a slot


MEMORY_LIMIT_MIB = 3072  # the unbounded code needed 5.9 GB (gzip) and 6 GB (endless body)


def _probe(case: str, url: str) -> dict[str, Any]:
    import subprocess
    import sys

    probe = Path(__file__).resolve().parents[1] / "support" / "memory_probe.py"
    out = subprocess.run(
        [sys.executable, str(probe), str(MEMORY_LIMIT_MIB), case, url],
        capture_output=True, text=True, timeout=300, env=os.environ.copy(),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"memory probe {case}: peak RSS {result['peak_rss_mib']} MiB; {result['error'][:120]}")
    return result


def test_bombs_and_endless_bodies_under_a_memory_limit(servers: tuple[FaultServer, FaultServer]) -> None:
    import imagecodecs
    from numcodecs import Zstd

    a, _ = servers
    _zarr2(a.root, "membase/img", DATA, (1, 1, 8, 8))
    path = _zarr2(a.root, "memzstd/img", DATA, (1, 1, 8, 8), compressors=Zstd(level=1))
    (path / "0.0.0.0").write_bytes(imagecodecs.zstd_encode(bytes(1 << 30)))
    base = _probe("baseline", f"{a.url}/membase/img")
    assert base["error"] == ""
    cases = {
        "gzipbomb": (f"{a.url}/__gzipbomb/4096/zarr.json", "LimitExceededError"),
        "endless": (f"{a.url}/__endless/zarr.json", "LimitExceededError"),
        "zstdbomb": (f"{a.url}/memzstd/img", "CorruptChunkError"),
    }
    for case, (url, error) in cases.items():
        result = _probe(case, url)
        assert result["error"].startswith(error), result
        # what the refusal cost beyond an ordinary small read: a few caps' worth, not GBs
        assert result["peak_rss_mib"] - base["peak_rss_mib"] < 200, result


def test_a_failed_write_leaves_the_old_file(servers: tuple[FaultServer, FaultServer], tmp_path: Path) -> None:
    """Writes fail in a child limited to 200-byte files (RLIMIT_FSIZE): as root too."""
    import subprocess
    import sys

    a, _ = servers
    _zarr2(a.root, "fsize/img", DATA, (1, 1, 8, 8))
    old = tmp_path / "datasource-properties.json"
    old.write_text("old")
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "import wk_widget as wk\n"
        "from wk_widget import cli\n"
        f"ds = wk.explore({a.url + '/fsize/img'!r})\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))\n"
        "try:\n"
        f"    ds.save({str(old)!r})\n"
        "    print('saved')\n"
        "except OSError as exc:\n"
        "    print('save failed', exc.errno)\n"
        f"print('cli', cli.main(['explore', {a.url + '/fsize/img'!r}, '-o', {str(old)!r}]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert "save failed" in out.stdout and "cli 1" in out.stdout, out.stdout + out.stderr
    assert "internal error" not in out.stderr
    assert old.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["datasource-properties.json"]  # no temp file left
