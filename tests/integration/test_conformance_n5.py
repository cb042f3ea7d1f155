"""Conformance of the N5 (plain, channels, COSEM, BigDataViewer) readers and explorers (``wk_widget.testing``) on the
generated datasets, served over HTTP with basic auth."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import conformance
from tests.support.datasets import Manifest
from tests.support.servers import HttpServer
from wk_widget.testing import ExplorerCase, ExplorerConformance, ReaderCase, ReaderConformance

READERS = [
    ("n5_uint16_gzip", None, 0),
    ("n5_uint8_raw", None, 0),
    ("n5_float32_blosc", None, 0),
    ("n5_int32_zstd", None, 0),
    ("n5_channels_uint8", "n5_channels_uint8_c1", 0),
    ("n5_multiscales_cosem", None, 0),
    ("n5_multiscales_cosem", None, 2),
    ("n5_multiscales_bdv", None, 0),
    ("n5_multiscales_bdv", None, 2),
]
EXPLORERS = [
    "n5_uint16_gzip",
    "n5_uint8_raw",
    "n5_float32_blosc",
    "n5_int32_zstd",
    "n5_channels_uint8",
    "n5_multiscales_cosem",
    "n5_multiscales_bdv",
]

# (test, case) pairs the suite found broken in the formats code (see known_defects)
KNOWN: dict[tuple[str, str], str] = {}


class TestN5Readers(ReaderConformance):
    @pytest.fixture(params=READERS, ids=conformance.case_id)
    def reader_case(
        self, request: pytest.FixtureRequest, datasets: Manifest, http_auth_server: HttpServer, tmp_path: Path
    ) -> ReaderCase:
        conformance.known_defects(request, KNOWN)
        return conformance.reader_case(datasets, http_auth_server, tmp_path, request.param)


class TestN5Explorers(ExplorerConformance):
    @pytest.fixture(params=EXPLORERS)
    def explorer_case(
        self, request: pytest.FixtureRequest, datasets: Manifest, http_auth_server: HttpServer, tmp_path: Path
    ) -> ExplorerCase:
        conformance.known_defects(request, KNOWN)
        return conformance.explorer_case(datasets, http_auth_server, tmp_path, request.param)
