"""Conformance of the zarr v2/v3 (plain, sharded) readers and explorers (``wk_widget.testing``) on the
generated datasets, served over HTTP with basic auth."""

from __future__ import annotations

from tests.support import conformance

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


TestZarrReaders = conformance.reader_suite("TestZarrReaders", READERS, KNOWN)
TestZarrExplorers = conformance.explorer_suite("TestZarrExplorers", EXPLORERS, KNOWN)
