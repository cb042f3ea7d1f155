"""The test storage servers themselves, exercised with plain clients (no wk_widget)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import aiohttp
import boto3
import botocore.exceptions
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from tests.support.servers import HTTP_AUTH, GcsServer, HttpServer, S3Server

FILE = "nested/dir/data.bin"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("servers-dataset")
    (root / "nested" / "dir").mkdir(parents=True)
    (root / FILE).write_bytes(random.Random(42).randbytes(10_000))
    (root / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')
    return root


@pytest.fixture(scope="module")
def http_url(http_server: HttpServer, dataset: Path) -> str:
    return http_server.publish(dataset, "test-servers/ds")


async def fetch(method: str, url: str, **kwargs: object) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session, session.request(method, url, **kwargs) as r:  # type: ignore[arg-type]
        return r.status, dict(r.headers), await r.read()


# --------------------------------------------------------------------------- HTTP


async def test_http_get_range_suffix_range_and_head(http_url: str, dataset: Path) -> None:
    data = (dataset / FILE).read_bytes()
    status, _, body = await fetch("GET", f"{http_url}/{FILE}")
    assert (status, body) == (200, data)

    status, headers, body = await fetch(
        "GET", f"{http_url}/{FILE}", headers={"Range": "bytes=10-19"}
    )
    assert (status, body) == (206, data[10:20])
    assert headers["Content-Range"] == f"bytes 10-19/{len(data)}"

    status, headers, body = await fetch("GET", f"{http_url}/{FILE}", headers={"Range": "bytes=-7"})
    assert (status, body) == (206, data[-7:])
    assert headers["Content-Range"] == f"bytes {len(data) - 7}-{len(data) - 1}/{len(data)}"

    status, headers, body = await fetch("HEAD", f"{http_url}/{FILE}")
    assert (status, body, int(headers["Content-Length"])) == (200, b"", len(data))


async def test_http_missing_file_and_directory_are_404(http_url: str) -> None:
    assert (await fetch("GET", f"{http_url}/nope.bin"))[0] == 404
    assert (await fetch("GET", f"{http_url}/nested"))[0] == 404  # no directory listings
    assert (await fetch("GET", f"{http_url}/nested/"))[0] == 404


async def test_http_counts_methods_bytes_and_paths(http_server: HttpServer, http_url: str) -> None:
    http_server.reset_stats()
    url = f"{http_url}/zarr.json"
    size = len((http_server.root / "test-servers/ds/zarr.json").read_bytes())
    sent = 0
    for method in ("GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"):
        status, _, body = await fetch(
            method, url, data=b"x" if method not in ("GET", "HEAD") else None
        )
        assert status == (405 if method not in ("GET", "HEAD") else 200)
        sent += len(body)
    http_server.stats()  # control endpoints are not counted
    stats = http_server.stats()
    assert stats["methods"] == {"GET": 1, "HEAD": 1, "PUT": 1, "POST": 1, "DELETE": 1, "PATCH": 1}
    assert stats["requests"] == 6
    assert stats["bytes"] == sent > size  # every body sent, error bodies included
    assert stats["paths"] == ["/test-servers/ds/zarr.json"] * 6
    assert stats["statuses"] == {"200": 2, "405": 4}


async def test_http_basic_auth(http_auth_server: HttpServer, dataset: Path) -> None:
    import fsspec

    url = http_auth_server.publish(dataset, "ds") + f"/{FILE}"
    wrong = {"Authorization": aiohttp.encode_basic_auth("alice", "wrong")}
    assert (await fetch("GET", url))[0] == 401
    assert (await fetch("GET", url, headers=wrong))[0] == 401
    right = {"Authorization": aiohttp.encode_basic_auth(*HTTP_AUTH)}
    assert right == http_auth_server.auth_headers()
    status, _, body = await fetch("GET", url, headers=right)
    assert (status, body) == (200, (dataset / FILE).read_bytes())
    http = fsspec.filesystem("http", **http_auth_server.storage_options())
    assert http.cat_file(url) == (dataset / FILE).read_bytes()


async def test_http_never_swaps_in_precompressed_sibling(
    http_server: HttpServer, tmp_path: Path
) -> None:
    (tmp_path / "meta.json").write_bytes(b'{"plain": true}')
    (tmp_path / "meta.json.gz").write_bytes(b"not this one")
    url = http_server.publish(tmp_path, "test-servers/gz-sibling") + "/meta.json"
    status, headers, body = await fetch("GET", url, headers={"Accept-Encoding": "gzip, br"})
    assert (status, body) == (200, b'{"plain": true}')
    assert "Content-Encoding" not in headers


async def test_http_latency_and_bearer_token(tmp_path: Path, dataset: Path) -> None:
    with HttpServer(tmp_path, latency_ms=150, bearer_token="tok") as server:
        url = server.publish(dataset, "ds") + "/zarr.json"
        assert (await fetch("GET", url))[0] == 401
        assert (await fetch("GET", url, headers={"Authorization": "Bearer bad"}))[0] == 401
        t0 = time.perf_counter()
        status, _, _ = await fetch("GET", url, headers={"Authorization": "Bearer tok"})
        assert status == 200
        assert time.perf_counter() - t0 >= 0.15
        assert server.stats()["methods"] == {"GET": 3}


async def test_http_fault_injection(http_server: HttpServer, http_url: str, dataset: Path) -> None:
    data = (dataset / FILE).read_bytes()
    base, path = http_server.url, http_url.removeprefix(http_server.url) + f"/{FILE}"
    for code in (403, 500, 503):
        assert (await fetch("GET", f"{base}/__status/{code}{path}"))[0] == code

    http_server.reset_stats()  # also resets the flaky counters
    flaky = f"{base}/__flaky/2{path}"
    assert [(await fetch("GET", flaky))[0] for _ in range(2)] == [503, 503]
    status, _, body = await fetch("GET", flaky)
    assert (status, body) == (200, data)
    assert (await fetch("GET", f"{base}/__flaky/2{http_url.removeprefix(base)}/zarr.json"))[
        0
    ] == 503

    corrupt = f"{base}/__corrupt{path}"
    status, _, body = await fetch("GET", corrupt)
    assert (status, body) == (200, bytes(b ^ 0xFF for b in data))
    status, _, body = await fetch("GET", corrupt, headers={"Range": "bytes=-3"})
    assert (status, body) == (206, bytes(b ^ 0xFF for b in data[-3:]))


# --------------------------------------------------------------------------- S3


def _boto(server: S3Server, key: str | None, secret: str | None) -> object:
    config = Config(retries={"max_attempts": 1})
    if key is None:
        config = config.merge(Config(signature_version=UNSIGNED))
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=config,
    )


def test_s3_anonymous_reads_and_counts(s3_server: S3Server, dataset: Path) -> None:
    url = s3_server.publish(dataset, "anon-bucket", prefix="ds")
    assert url == "s3://anon-bucket/ds"
    assert s3_server.stats()["requests"] == 0  # publishing is not counted
    s3 = _boto(s3_server, None, None)
    s3.head_object(Bucket="anon-bucket", Key=f"ds/{FILE}")  # type: ignore[attr-defined]
    body = s3.get_object(Bucket="anon-bucket", Key=f"ds/{FILE}", Range="bytes=-5")["Body"].read()  # type: ignore[attr-defined]
    assert body == (dataset / FILE).read_bytes()[-5:]
    stats = s3_server.stats()
    assert stats["methods"] == {"HEAD": 1, "GET": 1}
    assert stats["paths"] == [f"/anon-bucket/ds/{FILE}"] * 2
    assert stats["bytes"] == 5


def test_s3_enforcing_auth(s3_auth_server: S3Server, dataset: Path) -> None:
    s3_auth_server.publish(dataset, "auth-bucket")
    key, secret = s3_auth_server.access_key_id, s3_auth_server.secret_access_key
    assert key and secret
    reader = _boto(s3_auth_server, key, secret)
    body = reader.get_object(Bucket="auth-bucket", Key=FILE)["Body"].read()  # type: ignore[attr-defined]
    assert body == (dataset / FILE).read_bytes()
    listed = reader.list_objects_v2(Bucket="auth-bucket")["Contents"]  # type: ignore[attr-defined]
    assert sorted(o["Key"] for o in listed) == [FILE, "zarr.json"]

    with pytest.raises(botocore.exceptions.ClientError) as err:
        _boto(s3_auth_server, key, "wrong-secret").get_object(Bucket="auth-bucket", Key=FILE)  # type: ignore[attr-defined]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch"

    with pytest.raises(botocore.exceptions.ClientError) as err:  # read-only user
        reader.put_object(Bucket="auth-bucket", Key="new", Body=b"x")  # type: ignore[attr-defined]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    with pytest.raises(botocore.exceptions.ClientError) as err:  # unsigned
        _boto(s3_auth_server, None, None).get_object(Bucket="auth-bucket", Key=FILE)  # type: ignore[attr-defined]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert s3_auth_server.stats()["methods"] == {"GET": 4, "PUT": 1}


# --------------------------------------------------------------------------- all servers


def test_same_bytes_from_every_server(
    http_url: str,
    s3_server: S3Server,
    s3_auth_server: S3Server,
    gcs_server: GcsServer,
    dataset: Path,
) -> None:
    import fsspec
    import gcsfs
    import s3fs

    expected = (dataset / FILE).read_bytes()
    s3_url = s3_server.publish(dataset, "same-bytes")
    s3_auth_url = s3_auth_server.publish(dataset, "same-bytes")
    gs_url = gcs_server.publish(dataset, "same-bytes", prefix="a/b")
    assert gs_url == "gs://same-bytes/a/b"

    http = fsspec.filesystem("http")
    s3_anon = s3fs.S3FileSystem(**s3_server.storage_options())
    s3_auth = s3fs.S3FileSystem(**s3_auth_server.storage_options())
    gcs = gcsfs.GCSFileSystem(**gcs_server.storage_options())
    assert http.cat_file(f"{http_url}/{FILE}") == expected
    assert s3_anon.cat_file(f"{s3_url}/{FILE}") == expected
    assert s3_auth.cat_file(f"{s3_auth_url}/{FILE}") == expected
    assert gcs.cat_file(f"{gs_url}/{FILE}") == expected
    assert gcs.cat_file(f"{gs_url}/{FILE}", start=100, end=110) == expected[100:110]
    assert sorted(gcs.ls(f"{gs_url}/nested/dir", detail=False)) == [f"same-bytes/a/b/{FILE}"]

    for server in (s3_server, s3_auth_server, gcs_server):
        methods = server.stats()["methods"]
        assert methods and set(methods) <= {"GET", "HEAD"}, methods
