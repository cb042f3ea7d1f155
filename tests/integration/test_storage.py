"""The storage layer against real servers: same bytes everywhere, auth, errors, read-only."""

from __future__ import annotations

from pathlib import Path

import pytest

import wk_widget as wk
from tests.support.servers import HTTP_AUTH, GcsServer, HttpServer, S3Server
from wk_widget.errors import (
    AccessDeniedError,
    RemoteDatasetError,
    ServerFaultError,
    SourceUnreachableError,
)
from wk_widget.formats import parse_uri
from wk_widget.storage import RequestMeter, run_sync, storage_for

PAYLOAD = bytes(range(256)) * 40 + b"tail-marker"


@pytest.fixture(scope="module")
def blob_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("blobs")
    (root / "sub").mkdir()
    (root / "sub" / "data.bin").write_bytes(PAYLOAD)
    (root / "other.txt").write_text("hello")
    return root


@pytest.fixture(scope="module")
def published(blob_dir: Path, http_server: HttpServer, s3_server: S3Server, s3_auth_server: S3Server, gcs_server: GcsServer) -> dict[str, tuple[str, object]]:
    http_url = http_server.publish(blob_dir, "blobs")
    s3_uri = s3_server.publish(blob_dir, "storage-anon", "blobs")
    s3_auth_uri = s3_auth_server.publish(blob_dir, "storage-auth", "blobs")
    gs_uri = gcs_server.publish(blob_dir, "storage-gcs", "blobs")
    host = s3_server.endpoint_url.split("://", 1)[1]
    creds = wk.S3Credentials(
        s3_auth_server.access_key_id or "",
        s3_auth_server.secret_access_key or "",
        endpoint_url=s3_auth_server.endpoint_url,
    )
    return {
        "http": (http_url, None),
        "s3-anonymous": (s3_uri.replace("s3://", f"s3://{host}/"), None),
        "s3-credentials": (s3_auth_uri, creds),
        "gcs": (gs_uri, None),
    }


@pytest.mark.parametrize("kind", ["http", "s3-anonymous", "s3-credentials", "gcs"])
def test_same_bytes_everywhere(published: dict[str, tuple[str, object]], kind: str) -> None:
    url, creds = published[kind]
    uri = parse_uri(url).join("sub", "data.bin")
    storage = storage_for(uri, creds)  # type: ignore[arg-type]
    meter = RequestMeter()
    assert run_sync(storage.get(uri.fs_path, meters=[meter])) == PAYLOAD
    assert run_sync(storage.get_range(uri.fs_path, 256, 10)) == PAYLOAD[256:266]
    assert run_sync(storage.get_range(uri.fs_path, -11, None)) == b"tail-marker"
    assert run_sync(storage.get(parse_uri(url).join("sub", "missing.bin").fs_path)) is None
    snap = meter.snapshot()
    assert snap["requests"] == 1 and snap["bytes"] == len(PAYLOAD)
    if storage.can_list:
        entries = run_sync(storage.list_dir(parse_uri(url).fs_path))
        assert entries is not None
        assert ("sub", True) in entries and ("other.txt", False) in entries


def test_no_write_method_ever_reaches_a_server(
    published: dict[str, tuple[str, object]], http_server: HttpServer, s3_server: S3Server, gcs_server: GcsServer
) -> None:
    for server in (http_server, s3_server, gcs_server):
        server.reset_stats()
    for kind in ("http", "s3-anonymous", "gcs"):
        url, creds = published[kind]
        uri = parse_uri(url).join("sub", "data.bin")
        storage = storage_for(uri, creds)  # type: ignore[arg-type]
        run_sync(storage.get(uri.fs_path))
        run_sync(storage.get_range(uri.fs_path, -4, None))
    for server in (http_server, s3_server, gcs_server):
        methods = server.stats()["methods"]
        assert methods, "the server saw no request"
        assert set(methods) <= {"GET", "HEAD"}, methods
    # No HEAD at all from the storage layer on HTTP (a GET per object, suffix ranges direct).
    assert set(http_server.stats()["methods"]) == {"GET"}


def test_s3_wrong_secret_is_access_denied(published: dict[str, tuple[str, object]], s3_auth_server: S3Server) -> None:
    url, _ = published["s3-credentials"]
    bad = wk.S3Credentials(
        s3_auth_server.access_key_id or "", "definitely-wrong-secret-123", endpoint_url=s3_auth_server.endpoint_url
    )
    uri = parse_uri(url).join("sub", "data.bin")
    with pytest.raises(AccessDeniedError) as info:
        run_sync(storage_for(uri, bad).get(uri.fs_path))
    text = str(info.value)
    assert "access denied" in text and "storage-auth/blobs/sub/data.bin" in text
    assert "definitely-wrong-secret-123" not in text and "definitely-wrong-secret-123" not in repr(bad)


def test_http_basic_auth(blob_dir: Path, http_auth_server: HttpServer) -> None:
    url = http_auth_server.publish(blob_dir, "blobs-auth")
    uri = parse_uri(url).join("sub", "data.bin")
    good = wk.HttpBasicAuth(*HTTP_AUTH)
    assert run_sync(storage_for(uri, good).get(uri.fs_path)) == PAYLOAD
    with pytest.raises(AccessDeniedError) as info:
        run_sync(storage_for(uri).get(uri.fs_path))
    assert "401" in str(info.value)
    wrong = wk.HttpBasicAuth(HTTP_AUTH[0], "not-the-password-xyz")
    with pytest.raises(AccessDeniedError) as info2:
        run_sync(storage_for(uri, wrong).get(uri.fs_path))
    assert "not-the-password-xyz" not in str(info2.value)
    assert HTTP_AUTH[1] not in repr(good)


def test_http_faults(blob_dir: Path, http_server: HttpServer) -> None:
    http_server.publish(blob_dir, "blobs-faults")
    base = parse_uri(http_server.url)
    storage = storage_for(base)
    forbidden = base.join("__status/403/blobs-faults/sub/data.bin")
    with pytest.raises(AccessDeniedError, match="403"):
        run_sync(storage.get(forbidden.fs_path))
    broken = base.join("__status/500/blobs-faults/sub/data.bin")
    meter = RequestMeter()
    with pytest.raises(ServerFaultError, match="500") as info:
        run_sync(storage.get(broken.fs_path, meters=[meter]))
    assert "__status/500/blobs-faults/sub/data.bin" in str(info.value)
    assert meter.snapshot()["retries"] >= 3  # retried with backoff before giving up
    # 503 twice, then served: retries make it succeed.
    http_server.reset_stats()
    flaky = base.join("__flaky/2/blobs-faults/sub/data.bin")
    assert run_sync(storage.get(flaky.fs_path)) == PAYLOAD
    # 4xx is never retried.
    http_server.reset_stats()
    with pytest.raises(AccessDeniedError):
        run_sync(storage.get(base.join("__status/403/x").fs_path))
    assert http_server.stats()["requests"] == 1


def test_unreachable_host_is_clear() -> None:
    from tests.support.servers import free_port

    uri = parse_uri(f"http://127.0.0.1:{free_port()}/nothing/here")
    with pytest.raises(SourceUnreachableError) as info:
        run_sync(storage_for(uri).get(uri.fs_path))
    assert "cannot reach" in str(info.value) and "127.0.0.1" in str(info.value)
    assert isinstance(info.value, RemoteDatasetError)


def test_repr_of_storage_has_no_secret(published: dict[str, tuple[str, object]]) -> None:
    url, creds = published["s3-credentials"]
    storage = storage_for(parse_uri(url), creds)  # type: ignore[arg-type]
    assert creds is not None
    secret = creds.secret_access_key  # type: ignore[attr-defined]
    assert secret not in repr(storage) and secret not in repr(storage.config)
