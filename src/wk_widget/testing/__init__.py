"""Conformance suites every format passes: the same inherited tests for each `ArrayReader`
and each explorer, written only against the stable formats API (`formats.open_reader`,
`formats.explorers`, `formats.base`).

Use from a test module (pytest is needed; it is not a runtime dependency)::

    from wk_widget.testing import ReaderCase, ReaderConformance

    class TestMyReader(ReaderConformance):
        @pytest.fixture(params=[...])
        def reader_case(self, request) -> ReaderCase:
            return ReaderCase(...)   # a level written by an independent writer, and its truth

The suites never write data themselves: a case says where the data is served, what it holds,
and (for the tests that break things) how to get a private writable copy of it.
"""

from .explorers import ExplorerCase, ExplorerConformance, LayerExpectation
from .readers import ReaderCase, ReaderConformance, object_url

__all__ = [
    "ExplorerCase",
    "ExplorerConformance",
    "LayerExpectation",
    "ReaderCase",
    "ReaderConformance",
    "object_url",
]
