"""Conformance of the zarr v2/v3 (plain, sharded) readers and explorers (``wk_widget.testing``) on the
generated datasets, served over HTTP with basic auth."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import conformance
from tests.support.datasets import Manifest
from tests.support.servers import HttpServer
from wk_widget.testing import ExplorerCase, ExplorerConformance, ReaderCase, ReaderConformance

READERS = [
    ("zarr2_uint8_blosc", None, 0),
    ("zarr2_uint16_forder_slash", None, 0),
    ("zarr3_int16_gzip", None, 0),
    ("zarr3_uint16_transpose_crc32c", None, 0),
    ("zarr3_sharded_uint8", None, 0),
    ("zarr3_v2_chunk_keys_uint32", None, 0),
    ("zarr3_float64", None, 0),
]
EXPLORERS = [
    "zarr2_uint8_blosc",
    "zarr2_uint16_forder_slash",
    "zarr3_int16_gzip",
    "zarr3_uint16_transpose_crc32c",
    "zarr3_sharded_uint8",
    "zarr3_v2_chunk_keys_uint32",
    "zarr3_float64",
]

# (test, case) pairs the suite found broken in the formats code (see known_defects)
KNOWN: dict[tuple[str, str], str] = {}


class TestZarrReaders(ReaderConformance):
    @pytest.fixture(params=READERS, ids=conformance.case_id)
    def reader_case(
        self, request: pytest.FixtureRequest, datasets: Manifest, http_auth_server: HttpServer, tmp_path: Path
    ) -> ReaderCase:
        conformance.known_defects(request, KNOWN)
        return conformance.reader_case(datasets, http_auth_server, tmp_path, request.param)


class TestZarrExplorers(ExplorerConformance):
    @pytest.fixture(params=EXPLORERS)
    def explorer_case(
        self, request: pytest.FixtureRequest, datasets: Manifest, http_auth_server: HttpServer, tmp_path: Path
    ) -> ExplorerCase:
        conformance.known_defects(request, KNOWN)
        return conformance.explorer_case(datasets, http_auth_server, tmp_path, request.param)
