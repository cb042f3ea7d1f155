"""Distributed reads: workers resolve credentials by reference; no secret in any pickle."""

from __future__ import annotations

import base64
import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

import wk_widget as wk
from tests.support.servers import HTTP_AUTH, HttpServer, S3Server
from wk_widget.storage import CredentialRef


def _data() -> np.ndarray:
    return np.random.default_rng(21).integers(0, 200, size=(64, 48, 40), dtype=np.uint8)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import zarr

    root = tmp_path_factory.mktemp("dist") / "vol.zarr"
    arr = zarr.create_array(store=str(root), shape=(64, 48, 40), chunks=(16, 16, 16), dtype="uint8",
                            compressors=zarr.codecs.ZstdCodec(), dimension_names=["x", "y", "z"])
    arr[...] = _data()
    return root


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None, memory_limit="2GB"
    ) as cluster, distributed.Client(cluster) as c:
        yield c


def _pickles(arr: object) -> list[bytes]:
    graph = arr.__dask_graph__()  # type: ignore[attr-defined]
    out = [pickle.dumps(arr), cloudpickle.dumps(arr), cloudpickle.dumps(graph)]
    tasks = dict(graph)  # small array: a handful of blocks
    out.extend(cloudpickle.dumps(t) for t in tasks.values())
    return out


def _assert_no_secret(blobs: list[bytes], secrets: list[str]) -> None:
    for blob in blobs:
        for secret in secrets:
            assert secret.encode() not in blob
            assert base64.b64encode(secret.encode()) not in blob


def test_s3_on_local_cluster_by_reference(written: Path, s3_auth_server: S3Server, client: object) -> None:
    uri = s3_auth_server.publish(written, "dist-auth", "vol.zarr")
    key, secret = s3_auth_server.access_key_id or "", s3_auth_server.secret_access_key or ""
    creds = wk.S3Credentials(key, secret, endpoint_url=s3_auth_server.endpoint_url)
    ref = wk.register_credentials("lab-s3", creds)
    assert ref == CredentialRef("lab-s3", "s3", ref.public) and secret not in repr(ref)
    layer = next(iter(wk.explore(uri, credentials=creds).layers.values()))
    arr = layer.mags[0].data_with_chunks((1, 32, 32, 40))
    _assert_no_secret(_pickles(arr), [secret])
    _assert_no_secret([cloudpickle.dumps(layer.to_xarray())], [secret])

    # Workers know nothing yet: the reference cannot be resolved there.
    with pytest.raises(Exception, match="register_credentials"):
        client.compute(arr.sum()).result()  # type: ignore[attr-defined]
    # A provider registered on the workers under that name (the dict form, sent once on purpose).
    client.run(wk.register_credentials, "lab-s3", {  # type: ignore[attr-defined]
        "type": "s3", "access_key_id": key, "secret_access_key": secret,
        "endpoint_url": s3_auth_server.endpoint_url,
    })
    total = client.compute(arr.astype("uint64").sum()).result()  # type: ignore[attr-defined]
    assert int(total) == int(_data().astype(np.uint64).sum())
    region = client.compute(arr[0, 5:40, 7:30, 3:33]).result()  # type: ignore[attr-defined]
    np.testing.assert_array_equal(region, _data()[5:40, 7:30, 3:33])
    # In the registering process the same graph computes with no setup at all.
    assert int(arr.astype("uint64").sum().compute(scheduler="threads")) == int(_data().astype(np.uint64).sum())


def test_http_basic_on_local_cluster_by_reference(written: Path, http_auth_server: HttpServer, client: object) -> None:
    url = http_auth_server.publish(written, "dist-basic")
    creds = wk.HttpBasicAuth(*HTTP_AUTH)
    layer = next(iter(wk.explore(url, credentials=creds).layers.values()))
    arr = layer.mags[0].data
    _assert_no_secret(_pickles(arr), [HTTP_AUTH[1], f"{HTTP_AUTH[0]}:{HTTP_AUTH[1]}"])
    name = wk.register_credentials("lab-http", creds).name  # names the credentials in pickles from now on
    arr = layer.mags[0].data_with_chunks((1, 32, 32, 40))
    assert name == "lab-http"
    client.run(wk.register_credentials, name, _BasicFromFile(str(written.parent / "basic.json")))  # type: ignore[attr-defined]
    (written.parent / "basic.json").write_text(
        json.dumps({"type": "http_basic", "username": HTTP_AUTH[0], "password": HTTP_AUTH[1]})
    )
    total = client.compute(arr.astype("uint64").sum()).result()  # type: ignore[attr-defined]
    assert int(total) == int(_data().astype(np.uint64).sum())


class _BasicFromFile:
    """A provider as a user would write one: reads the secret where the worker runs."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self) -> dict[str, str]:
        return dict(json.loads(Path(self.path).read_text()))


def test_reference_resolves_from_the_standard_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from wk_widget.storage.credential_refs import lookup

    ref = CredentialRef("elsewhere-s3", "s3", (("endpoint_url", "http://127.0.0.1:9"), ("region", "eu-west-1")))
    assert lookup(ref) is None  # tests run with a blind cloud environment
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value")
    found = lookup(ref)
    assert isinstance(found, wk.S3Credentials)
    assert (found.access_key_id, found.endpoint_url, found.region) == ("AKIAENVKEY", "http://127.0.0.1:9", "eu-west-1")
    with pytest.raises(wk.RemoteDatasetError, match="register_credentials"):
        from wk_widget.storage.credential_refs import resolve

        resolve(CredentialRef("nobody", "http_basic"))
