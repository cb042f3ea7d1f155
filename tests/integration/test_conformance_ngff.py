"""Conformance of the OME-NGFF 0.4/0.5 (zarr v2/v3 levels) readers and explorers (``wk_widget.testing``) on the
generated datasets, served over HTTP with basic auth."""

from __future__ import annotations

from tests.support import conformance

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


TestNgffReaders = conformance.reader_suite("TestNgffReaders", READERS, KNOWN)
TestNgffExplorers = conformance.explorer_suite("TestNgffExplorers", EXPLORERS, KNOWN)
