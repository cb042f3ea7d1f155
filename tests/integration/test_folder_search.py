"""Folder search where the store can list (S3, GCS, local): every layer found down to
depth 3, not only the first. HTTP cannot list: metadata navigation only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import wk_widget as wk
from tests.integration.conftest import manifest
from tests.support.servers import GcsServer, HttpServer, S3Server
from wk_widget.errors import SourceNotFoundError

LAYOUT = {
    "a/image": "ngff05_multiscale_uint8",  # 8x8x40 nm, like b
    "b/seg": "cloudvolume_segmentation_offset_uint32",  # 1 layer
    "c/deeper/n5": "n5_uint16_gzip",  # 1 layer, at depth 3
}


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    m = manifest()
    root = tmp_path_factory.mktemp("collection") / "collection"
    for rel, case_id in LAYOUT.items():
        shutil.copytree(m.path(case_id), root / rel)
    (root / "README.txt").write_text("not a dataset")
    (root / "empty").mkdir()
    return root


def _check(ds: wk.Dataset) -> None:
    # Names may get suffixes when two folders share a layer name; categories and count matter.
    assert len(ds.layers) == 3, list(ds.layers)
    assert {layer.category for layer in ds.layers.values()} == {"color", "segmentation"}
    formats = sorted(layer.data_format for layer in ds.layers.values())
    assert formats == ["n5", "neuroglancerPrecomputed", "zarr3"]
    report = ds.reports[0]
    assert any("subfolders" in note for note in report.notes), report.notes


def test_local_folder_search(collection: Path) -> None:
    _check(wk.explore(str(collection)))


def test_s3_folder_search(collection: Path, s3_server: S3Server) -> None:
    uri = s3_server.publish(collection, "search-bucket", "collection")
    host = s3_server.endpoint_url.split("://", 1)[1]
    _check(wk.explore(uri.replace("s3://", f"s3://{host}/", 1)))


def test_gcs_folder_search(collection: Path, gcs_server: GcsServer) -> None:
    uri = gcs_server.publish(collection, "search-bucket", "collection")
    _check(wk.explore(uri))


def test_http_does_not_list(collection: Path, http_server: HttpServer) -> None:
    url = http_server.publish(collection, "search-collection")
    http_server.reset_stats()
    with pytest.raises(SourceNotFoundError) as info:
        wk.explore(url)
    assert "search-collection" in str(info.value)
    # Only the metadata probes at the URI itself: no listing, no guessing of subfolders.
    paths = http_server.stats()["paths"]
    assert all(p.startswith("/search-collection/") and p.count("/") == 2 for p in paths), paths
    # The datasets themselves explore fine when addressed directly.
    assert len(wk.explore(f"{url}/a/image").layers) == 1
