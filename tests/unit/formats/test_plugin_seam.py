"""The format seam: a new format is its folder (tests/support/toyformat) plus one registry
line (`registry_with`, the test's stand-in for a line in `formats.FORMATS`); nothing else
knows about it, yet it is explored, read and exported like the shipped formats."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest

import wk_widget as wk
from tests.support.servers import HttpServer
from tests.support.toyformat import FORMAT as TOY
from tests.support.toyformat import write_toy
from wk_widget import formats
from wk_widget.errors import UnsupportedFormatError


def test_registry_with_adds_the_format_only_inside_the_block() -> None:
    assert "toy" not in formats.data_formats()
    with formats.registry_with(TOY):
        assert formats.data_formats()[-1] == "toy"
        assert formats.explorers()[-1].name == "toy"
        assert formats.uri_prefixes()["toy"] == "toy"
        assert formats.parse_uri("toy://https://example.org/a/toy.json").format_hint == "toy"
        assert formats.parse_uri("toy://https://example.org/a/toy.json").url == "https://example.org/a"
        with pytest.raises(ValueError, match="registered already"), formats.registry_with(TOY):
            pass
    assert "toy" not in formats.data_formats()
    with pytest.raises(UnsupportedFormatError):
        formats.format_of("toy")


def test_toy_format_explored_read_and_exported_over_http(http_server: HttpServer) -> None:
    rng = np.random.default_rng(12)
    truth = rng.integers(1, 255, (40, 30, 9), dtype=np.uint8)
    truth[:16, :16, :4] = 0  # one chunk all zero: not written, reads as the fill value
    folder = f"toy-{uuid.uuid4().hex[:8]}"
    write_toy(http_server.root / folder, truth, (16, 16, 4), name="cells")
    url = f"{http_server.url.rstrip('/')}/{folder}"

    with formats.registry_with(TOY):
        ds = wk.explore(url)
        (layer,) = ds.layers.values()
        assert layer.data_format == "toy"
        assert layer.bounding_box == ((0, 0, 0), (40, 30, 9))
        data = layer.read(offset=(0, 0, 0), size=(40, 30, 9))
        np.testing.assert_array_equal(np.asarray(data)[0], truth)  # dims c, x, y, z
        part = layer.read(offset=(10, 5, 3), size=(20, 20, 5))
        np.testing.assert_array_equal(np.asarray(part)[0], truth[10:30, 5:25, 3:8])
        doc = ds.to_datasource()
    (exported,) = doc["dataLayers"]
    assert exported["dataFormat"] == "toy"
    assert exported["name"] == "cells"
    assert exported["mags"][0]["axisOrder"] == {"x": 0, "y": 1, "z": 2}

    # Without the registry line the same folder is no dataset.
    with pytest.raises(wk.RemoteDatasetError):
        wk.explore(url)


def test_toy_format_inside_a_webknossos_datasource(http_server: HttpServer) -> None:
    """The webknossos format finds a toy mag through the toy's own `datasource_mags` hook
    (a mag without `path` at `<layer>/<mag>`), and exports it with the toy's axis-order rule."""
    rng = np.random.default_rng(13)
    truth = rng.integers(1, 255, (20, 12, 6), dtype=np.uint8)
    folder = f"toyds-{uuid.uuid4().hex[:8]}"
    write_toy(http_server.root / folder / "cells" / "1", truth, (8, 8, 4), name="cells")
    doc = {
        "id": {"name": "toyds", "team": ""},
        "scale": {"factor": [4, 4, 40], "unit": "nanometer"},
        "dataLayers": [
            {
                "name": "cells",
                "category": "color",
                "dataFormat": "toy",
                "elementClass": "uint8",
                "boundingBox": {"topLeft": [0, 0, 0], "width": 20, "height": 12, "depth": 6},
                "mags": [{"mag": [1, 1, 1], "axisOrder": {"x": 0, "y": 1, "z": 2}}],
            }
        ],
    }
    (http_server.root / folder / "datasource-properties.json").write_text(json.dumps(doc))
    url = f"{http_server.url.rstrip('/')}/{folder}"

    with formats.registry_with(TOY):
        ds = wk.explore(url)
        (layer,) = ds.layers.values()
        assert (layer.data_format, layer.format_name) == ("toy", "webknossos")
        assert layer.mags[0].path.rstrip("/").endswith(f"{folder}/cells/1")
        np.testing.assert_array_equal(np.asarray(layer.read(offset=(0, 0, 0), size=(20, 12, 6)))[0], truth)
        (exported,) = ds.to_datasource()["dataLayers"]
    assert exported["mags"][0]["axisOrder"] == {"x": 0, "y": 1, "z": 2}

    # Without the registry line the toy layer cannot be streamed: the datasource lists nothing.
    with pytest.raises(wk.RemoteDatasetError, match="no layer that can be streamed"):
        wk.explore(url)
