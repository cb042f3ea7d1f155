"""Conformance of the N5 (plain, channels, COSEM, BigDataViewer) readers and explorers (``wk_widget.testing``) on the
generated datasets, served over HTTP with basic auth."""

from __future__ import annotations

from tests.support import conformance

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


TestN5Readers = conformance.reader_suite("TestN5Readers", READERS, KNOWN)
TestN5Explorers = conformance.explorer_suite("TestN5Explorers", EXPLORERS, KNOWN)
