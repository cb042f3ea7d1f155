"""Conformance of the OME-NGFF 0.4/0.5 (zarr v2/v3 levels) readers and explorers (``wk_widget.testing``) on the
generated datasets, served over HTTP with basic auth."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import conformance
from tests.support.datasets import Manifest
from tests.support.servers import HttpServer
from wk_widget.testing import ExplorerCase, ExplorerConformance, ReaderCase, ReaderConformance

READERS = [
    ("ngff04_multiscale_uint16", "nuclei", 0),
    ("ngff04_multiscale_uint16", "nuclei", 2),
    ("ngff04_multiscale_uint16", "cells", 1),
    ("ngff04_two_channels_uint8", "DAPI", 0),
    ("ngff04_two_channels_uint8", "GFP1", 1),
    ("ngff04_timelapse_float32", None, 0),
    ("ngff04_translation_uint8", None, 1),
    ("ngff04_2d_uint16", None, 0),
    ("ngff04_2d_uint16", None, 1),
    ("ngff05_multiscale_uint8", None, 0),
    ("ngff05_multiscale_uint8", None, 1),
]
EXPLORERS = [
    "ngff04_multiscale_uint16",
    "ngff04_two_channels_uint8",
    "ngff04_timelapse_float32",
    "ngff04_translation_uint8",
    "ngff04_2d_uint16",
    "ngff05_multiscale_uint8",
]

# (test, case) pairs the suite found broken in the formats code (see known_defects)
KNOWN: dict[tuple[str, str], str] = {}


class TestNgffReaders(ReaderConformance):
    @pytest.fixture(params=READERS, ids=conformance.case_id)
    def reader_case(
        self, request: pytest.FixtureRequest, datasets: Manifest, http_auth_server: HttpServer, tmp_path: Path
    ) -> ReaderCase:
        conformance.known_defects(request, KNOWN)
        return conformance.reader_case(datasets, http_auth_server, tmp_path, request.param)


class TestNgffExplorers(ExplorerConformance):
    @pytest.fixture(params=EXPLORERS)
    def explorer_case(
        self, request: pytest.FixtureRequest, datasets: Manifest, http_auth_server: HttpServer, tmp_path: Path
    ) -> ExplorerCase:
        conformance.known_defects(request, KNOWN)
        return conformance.explorer_case(datasets, http_auth_server, tmp_path, request.param)
