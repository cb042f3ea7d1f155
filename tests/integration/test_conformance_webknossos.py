"""Conformance of the WEBKNOSSOS (datasource-properties.json over sharded zarr3) readers and explorers (``wk_widget.testing``) on the
generated datasets, served over HTTP with basic auth."""

from __future__ import annotations

from tests.support import conformance

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


TestWebknossosReaders = conformance.reader_suite("TestWebknossosReaders", READERS, KNOWN)
TestWebknossosExplorers = conformance.explorer_suite("TestWebknossosExplorers", EXPLORERS, KNOWN)
