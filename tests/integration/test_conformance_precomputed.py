"""Conformance of the Neuroglancer precomputed (raw, jpeg, jxl, compressed_segmentation, compresso, sharded) readers and explorers (``wk_widget.testing``) on the
generated datasets, served over HTTP with basic auth."""

from __future__ import annotations

from tests.support import conformance

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


TestPrecomputedReaders = conformance.reader_suite("TestPrecomputedReaders", READERS, KNOWN)
TestPrecomputedExplorers = conformance.explorer_suite("TestPrecomputedExplorers", EXPLORERS, KNOWN)
