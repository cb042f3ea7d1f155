"""Datasets written by independent writers, published on every real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.datasets import Manifest, generate_all
from tests.support.servers import GcsServer, HttpServer, S3Server

CACHE_ROOT = Path(__file__).resolve().parents[2] / ".cache" / "test-datasets"
TRANSPORTS = ("http", "s3", "gcs")
_manifest: Manifest | None = None


def manifest() -> Manifest:
    """Generated once per process (and cached on disk across runs)."""
    global _manifest
    if _manifest is None:
        _manifest = generate_all(CACHE_ROOT)
    return _manifest


@pytest.fixture(scope="session")
def datasets() -> Manifest:
    return manifest()


@pytest.fixture(scope="session")
def served_bases(datasets: Manifest, http_server: HttpServer, s3_server: S3Server, gcs_server: GcsServer) -> dict[str, str]:
    """Where the datasets root is served, per transport, as a URI prefix users would write."""
    http = http_server.publish(datasets.root, "datasets")
    s3 = s3_server.publish(datasets.root, "datasets")  # s3://datasets
    host = s3_server.endpoint_url.split("://", 1)[1]
    gcs = gcs_server.publish(datasets.root, "datasets")  # gs://datasets
    return {"http": http, "s3": s3.replace("s3://", f"s3://{host}/", 1), "gcs": gcs}
