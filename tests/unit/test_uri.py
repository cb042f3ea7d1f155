"""URI parsing: schemes, format prefixes, metadata file names, path-style S3."""

from __future__ import annotations

from pathlib import Path

import pytest

from wk_widget.errors import InvalidURIError, RemoteDatasetError
from wk_widget.formats import parse_uri


@pytest.mark.parametrize(
    ("text", "url", "fs_path", "hint", "endpoint"),
    [
        ("https://host/a/b", "https://host/a/b", "https://host/a/b", None, None),
        ("https://host/a/b/", "https://host/a/b", "https://host/a/b", None, None),
        ("http://127.0.0.1:8000/ds.zarr/.zattrs", "http://127.0.0.1:8000/ds.zarr", "http://127.0.0.1:8000/ds.zarr", None, None),
        ("https://h/x/.zarray", "https://h/x", "https://h/x", None, None),
        ("https://h/x/.zgroup", "https://h/x", "https://h/x", None, None),
        ("https://h/x/zarr.json", "https://h/x", "https://h/x", None, None),
        ("https://h/x/attributes.json", "https://h/x", "https://h/x", None, None),
        ("https://h/x/info", "https://h/x", "https://h/x", None, None),
        ("https://h/x/datasource-properties.json", "https://h/x", "https://h/x", "webknossos", None),
        ("zarr://https://h/x", "https://h/x", "https://h/x", "zarr", None),
        ("zarr2://s3://b/k", "s3://b/k", "b/k", "zarr2", None),
        ("zarr3://gs://b/k/zarr.json", "gs://b/k", "b/k", "zarr3", None),
        ("n5://https://h/n5/ds", "https://h/n5/ds", "https://h/n5/ds", "n5", None),
        ("precomputed://gs://b/seg", "gs://b/seg", "b/seg", "precomputed", None),
        ("https://h/p|zarr2:", "https://h/p", "https://h/p", "zarr2", None),
        ("gs://b/p|neuroglancer-precomputed:", "gs://b/p", "b/p", "precomputed", None),
        ("s3://bucket/key/ds", "s3://bucket/key/ds", "bucket/key/ds", None, None),
        ("s3://127.0.0.1:9000/bucket/key", "s3://127.0.0.1:9000/bucket/key", "bucket/key", None, "http://127.0.0.1:9000"),
        (
            "s3://s3.eu-central-1.amazonaws.com/b/k",
            "s3://s3.eu-central-1.amazonaws.com/b/k",
            "b/k",
            None,
            "https://s3.eu-central-1.amazonaws.com",
        ),
        ("s3://mybucket.s3.amazonaws.com/k", "s3://mybucket/k", "mybucket/k", None, None),
        ("file:///tmp/a/b", "file:///tmp/a/b", "/tmp/a/b", None, None),
    ],
)
def test_parse_uri(text: str, url: str, fs_path: str, hint: str | None, endpoint: str | None) -> None:
    uri = parse_uri(text)
    assert uri.url == url
    assert uri.fs_path == fs_path
    assert uri.format_hint == hint
    assert uri.endpoint_url == endpoint


def test_local_paths(tmp_path: Path) -> None:
    uri = parse_uri(str(tmp_path / "ds.zarr" / ".zattrs"))
    assert uri.scheme == "file"
    assert uri.fs_path == str(tmp_path / "ds.zarr")
    rel = parse_uri("data/x", base_dir=tmp_path)
    assert rel.fs_path == str(tmp_path / "data" / "x")


def test_join_and_parent() -> None:
    uri = parse_uri("https://h/a/b")
    assert uri.join("s0").url == "https://h/a/b/s0"
    assert uri.join("../c").url == "https://h/a/c"
    assert uri.parent().url == "https://h/a"
    assert parse_uri("s3://127.0.0.1:9000/bk/k").join("s0", "zarr.json").url == "s3://127.0.0.1:9000/bk/k/s0/zarr.json"


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ftp://host/x", "unknown URI scheme 'ftp'"),
        ("graphene://https://h/x", "unknown URI scheme 'graphene'"),
        ("https:///nohost", "no host"),
        ("zarr://", "only a format prefix"),
        ("https://h/p|graphene:", "unsupported data source kind"),
    ],
)
def test_bad_uris(text: str, cause: str) -> None:
    with pytest.raises(InvalidURIError) as info:
        parse_uri(text)
    assert cause in str(info.value)
    assert isinstance(info.value, RemoteDatasetError)
