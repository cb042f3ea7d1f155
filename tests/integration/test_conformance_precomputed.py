"""Conformance of the Neuroglancer precomputed (raw, jpeg, jxl, compressed_segmentation, compresso, sharded) readers and explorers (``wk_widget.testing``) on the
generated datasets, served over HTTP with basic auth."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import conformance
from tests.support.datasets import Manifest
from tests.support.servers import HttpServer
from wk_widget.testing import ExplorerCase, ExplorerConformance, ReaderCase, ReaderConformance

READERS = [
    ("precomputed_raw_multiscale_uint8", None, 0),
    ("precomputed_raw_multiscale_uint8", None, 1),
    ("precomputed_jpeg_uint8", None, 0),
    ("precomputed_segmentation_cseg_uint64", None, 0),
    ("precomputed_segmentation_cseg_uint64", None, 1),
    ("precomputed_sharded_identity_uint8", None, 0),
    ("precomputed_sharded_murmur_gzip_uint16", None, 0),
    ("precomputed_sharded_murmur_gzip_uint16", None, 1),
    ("precomputed_two_channels_uint16", None, 0),
    ("cloudvolume_segmentation_offset_uint32", None, 0),
    ("cloudvolume_segmentation_offset_uint32", None, 1),
    ("cloudvolume_compresso_uint32", None, 0),
    ("cloudvolume_compresso_uint32", None, 1),
    ("precomputed_jxl_uint8", None, 0),
]
EXPLORERS = [
    "precomputed_raw_multiscale_uint8",
    "precomputed_jpeg_uint8",
    "precomputed_segmentation_cseg_uint64",
    "precomputed_sharded_identity_uint8",
    "precomputed_sharded_murmur_gzip_uint16",
    "precomputed_two_channels_uint16",
    "cloudvolume_segmentation_offset_uint32",
    "cloudvolume_compresso_uint32",
    "precomputed_jxl_uint8",
]

# (test, case) pairs the suite found broken in the formats code (see known_defects)
KNOWN: dict[tuple[str, str], str] = {}


class TestPrecomputedReaders(ReaderConformance):
    @pytest.fixture(params=READERS, ids=conformance.case_id)
    def reader_case(
        self, request: pytest.FixtureRequest, datasets: Manifest, http_auth_server: HttpServer, tmp_path: Path
    ) -> ReaderCase:
        conformance.known_defects(request, KNOWN)
        return conformance.reader_case(datasets, http_auth_server, tmp_path, request.param)


class TestPrecomputedExplorers(ExplorerConformance):
    @pytest.fixture(params=EXPLORERS)
    def explorer_case(
        self, request: pytest.FixtureRequest, datasets: Manifest, http_auth_server: HttpServer, tmp_path: Path
    ) -> ExplorerCase:
        conformance.known_defects(request, KNOWN)
        return conformance.explorer_case(datasets, http_auth_server, tmp_path, request.param)
