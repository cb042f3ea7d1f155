"""The format registry: one ordered list of Format records that everything asks."""

from __future__ import annotations

import pytest

from wk_widget import formats
from wk_widget.errors import InvalidURIError, UnsupportedFormatError
from wk_widget.formats.base import ExploreContext
from wk_widget.storage import uri as storage_uri


def test_explorer_priority_is_webknossos_order() -> None:
    # WEBKNOSSOS tries these in this order at one URI; the first success wins.
    assert [e.name for e in formats.explorers()] == [
        "webknossos", "ngff-0.4", "ngff-0.5", "zarr3", "zarr2",
        "n5-multiscales-cosem", "n5-multiscales-bdv", "n5", "precomputed",
    ]
    assert [f.name for f in formats.FORMATS] == ["webknossos", "ngff", "zarr", "n5", "precomputed"]


def test_hints_select_explorers() -> None:
    assert [e.name for e in formats.explorers("zarr2")] == ["ngff-0.4", "zarr2"]
    assert [e.name for e in formats.explorers("n5")] == ["n5-multiscales-cosem", "n5-multiscales-bdv", "n5"]


def test_every_data_format_has_reader_rule_and_neuroglancer_prefix() -> None:
    assert formats.data_formats() == ("zarr", "zarr3", "n5", "neuroglancerPrecomputed")
    for df in formats.data_formats():
        assert formats.format_of(df).open_reader is not None
        assert formats.axis_order(df) is not None
        assert formats.neuroglancer_prefix(df)
    assert formats.neuroglancer_prefix("zarr") == "zarr2"
    with pytest.raises(UnsupportedFormatError):
        formats.format_of("wkw")


def test_uri_tables_come_from_the_formats() -> None:
    # storage knows no format: every prefix, pipe name and metadata file is a format's.
    assert formats.uri_prefixes() == {p: p for p in ("zarr", "zarr2", "zarr3", "n5", "precomputed")}
    assert formats.pipe_prefixes() == {**formats.uri_prefixes(), "neuroglancer-precomputed": "precomputed"}
    assert set(formats.metadata_files()) == {
        ".zattrs", ".zarray", ".zgroup", "zarr.json", "attributes.json", "info", "datasource-properties.json"
    }
    assert formats.metadata_files()["datasource-properties.json"] == "webknossos"
    assert not any(hasattr(storage_uri, n) for n in ("FORMAT_PREFIXES", "PIPE_FORMATS", "METADATA_FILE_NAMES"))
    expected = {
        "zarr3://https://h/a": ("https://h/a", "zarr3"),
        "https://h/a|neuroglancer-precomputed:": ("https://h/a", "precomputed"),
        "https://h/ds/datasource-properties.json": ("https://h/ds", "webknossos"),
        "s3://b/k/info": ("s3://b/k", None),
        "gs://b/k/.zattrs": ("gs://b/k", None),
    }
    for text, (url, hint) in expected.items():
        parsed = formats.parse_uri(text)
        assert (parsed.url, parsed.format_hint) == (url, hint)
    # without the tables, a format prefix is an unknown scheme
    with pytest.raises(InvalidURIError, match="unknown URI scheme"):
        storage_uri.parse_uri("zarr3://https://h/a", prefixes={}, pipe_prefixes={}, metadata_files={})


def test_axis_order_rules_round_trip() -> None:
    n5 = formats.axis_order("n5")
    reader = {"c": 3, "x": 2, "y": 1, "z": 0}  # the reader presents N5's x-first dims reversed
    written = n5.to_datasource(reader, 4)
    assert written == {"c": 0, "x": 1, "y": 2, "z": 3}
    assert n5.from_datasource(written, 4) == reader
    assert n5.from_datasource(None, 4) == n5.default(4) == reader
    assert n5.axis_index_to_datasource(n5.axis_index_to_datasource(1, 5), 5) == 1
    assert formats.axis_order("zarr").to_datasource({"x": 0, "y": 1}, 2) == {"x": 0, "y": 1}
    assert formats.axis_order("zarr3").default(4) == {"c": 0, "x": 1, "y": 2, "z": 3}
    assert formats.axis_order("neuroglancerPrecomputed").to_datasource({"x": 0}, 4) is None
    assert formats.axis_order("neuroglancerPrecomputed").from_datasource(None, 3) == {"x": 0, "y": 1, "z": 2, "c": 3}


def test_explore_context_sees_the_registry() -> None:
    ctx = ExploreContext()
    assert ctx.formats.data_formats() == formats.data_formats()
    assert [e.name for e in ctx.formats.explorers()] == [e.name for e in formats.explorers()]


def test_per_format_behaviour_is_declared_on_the_records() -> None:
    # what the link code, the datasource code and the webknossos explorer ask instead of names
    dfs = formats.data_formats()
    assert formats.neuroglancer_prefixes() == {
        "zarr": "zarr2", "zarr3": "zarr3", "n5": "n5", "neuroglancerPrecomputed": "precomputed"
    }
    assert [df for df in dfs if formats.neuroglancer_opens_volume(df)] == ["neuroglancerPrecomputed"]
    assert [df for df in dfs if formats.datasource_mags(df).implicit_paths] == ["zarr", "zarr3"]
    assert [df for df in dfs if formats.datasource_mags(df).locate is not None] == ["zarr", "zarr3", "n5"]
    assert [df for df in dfs if formats.axis_order(df).rank_dependent] == ["n5"]
