"""Conformance of the WEBKNOSSOS (datasource-properties.json over sharded zarr3) readers and explorers (``wk_widget.testing``) on the
generated datasets, served over HTTP with basic auth."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import conformance
from tests.support.datasets import Manifest
from tests.support.servers import HttpServer
from wk_widget.testing import ExplorerCase, ExplorerConformance, ReaderCase, ReaderConformance

READERS = [
    ("webknossos_zarr3", "color", 0),
    ("webknossos_zarr3", "color", 1),
    ("webknossos_zarr3", "segmentation", 0),
]
EXPLORERS = [
    "webknossos_zarr3",
]

# (test, case) pairs the suite found broken in the formats code (see known_defects)
KNOWN: dict[tuple[str, str], str] = {}


class TestWebknossosReaders(ReaderConformance):
    @pytest.fixture(params=READERS, ids=conformance.case_id)
    def reader_case(
        self, request: pytest.FixtureRequest, datasets: Manifest, http_auth_server: HttpServer, tmp_path: Path
    ) -> ReaderCase:
        conformance.known_defects(request, KNOWN)
        return conformance.reader_case(datasets, http_auth_server, tmp_path, request.param)


class TestWebknossosExplorers(ExplorerConformance):
    @pytest.fixture(params=EXPLORERS)
    def explorer_case(
        self, request: pytest.FixtureRequest, datasets: Manifest, http_auth_server: HttpServer, tmp_path: Path
    ) -> ExplorerCase:
        conformance.known_defects(request, KNOWN)
        return conformance.explorer_case(datasets, http_auth_server, tmp_path, request.param)
