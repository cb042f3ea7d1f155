"""Neuroglancer links over real served datasets: encodings, source forms, mixed layers,
and the round trip Dataset -> link -> Dataset."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from urllib.parse import quote

import pytest

import wk_widget as wk
from tests.integration.conftest import manifest
from tests.support.servers import HttpServer
from wk_widget.errors import InvalidURIError, RemoteDatasetError, UnsupportedFormatError

NG = "https://neuroglancer-demo.appspot.com/"


@pytest.fixture(scope="module")
def base(http_server: HttpServer) -> str:
    return http_server.publish(manifest().root, "datasets-ng")


def _url(case_id: str, base: str) -> str:
    m = manifest()
    return f"{base}/{m.case(case_id).relpath}"


def _link(state: dict[str, object], encoding: str) -> str:
    text = json.dumps(state)
    if encoding == "raw":
        return NG + "#!" + text
    once = quote(text, safe="")
    if encoding == "once":
        return NG + "#!" + once
    return NG + "#!" + quote(once, safe="")


def _state(base: str) -> dict[str, object]:
    return {
        "dimensions": {"x": [8e-9, "m"], "y": [8e-9, "m"], "z": [4e-8, "m"]},
        "layers": [
            {"type": "image", "name": "em", "source": "precomputed://" + _url("precomputed_raw_multiscale_uint8", base),
             "opacity": 0.6, "shaderControls": {"normalized": {"range": [10, 200]}}},
            {"type": "segmentation", "name": "cells", "source": {"url": "precomputed://" + _url("cloudvolume_segmentation_offset_uint32", base)}},
            {"type": "image", "name": "plain", "source": [{"url": "zarr2://" + _url("zarr2_uint8_blosc", base)}, "zarr3://https://nowhere.invalid/x"]},
            {"type": "image", "name": "piped", "source": _url("zarr3_int16_gzip", base) + "|zarr3:"},
            {"type": "image", "name": "n5data", "source": "n5://" + _url("n5_uint16_gzip", base)},
            {"type": "annotation", "name": "points", "source": "local://annotations"},
            {"type": "segmentation", "name": "graph", "source": "graphene://https://example.org/seg"},
        ],
    }


@pytest.mark.parametrize("encoding", ["raw", "once", "twice"])
def test_link_imports_supported_layers(base: str, encoding: str) -> None:
    ds = wk.explore(_link(_state(base), encoding))
    assert list(ds.layers) == ["em", "cells", "plain", "piped", "n5data"]
    em, cells, plain = ds.layers["em"], ds.layers["cells"], ds.layers["plain"]
    assert em.category == "color" and cells.category == "segmentation"
    assert cells.category_source == "neuroglancer"
    assert em.data_format == "neuroglancerPrecomputed" and plain.data_format == "zarr"
    assert ds.layers["piped"].data_format == "zarr3" and ds.layers["n5data"].data_format == "n5"
    view = em.default_view_configuration or {}
    assert view.get("alpha") == pytest.approx(60) and view.get("intensityRange") == [10, 200]
    # Plain arrays take the state's dimensions as their voxel size: 8x8x40 nm here,
    # which is compatible with the precomputed layers' own 4x4x40 / 8x8x40.
    assert ds.unit == "nanometer" and ds.voxel_size == (4.0, 4.0, 40.0)
    assert [x.mag for x in plain.mags] == [(2, 2, 1)]
    assert plain.spec.voxel_size == (8.0, 8.0, 40.0)
    notes = " ".join(ds.reports[0].notes)
    assert "points" in notes and "annotation" in notes
    assert "graph" in notes and "graphene" in notes


def test_link_with_only_unsupported_layers_fails_clearly() -> None:
    state = {"layers": [{"type": "annotation", "name": "a", "source": "local://annotations"}]}
    with pytest.raises(UnsupportedFormatError, match="no importable layer"):
        wk.explore(_link(state, "once"))


@pytest.mark.parametrize(
    "link",
    [
        NG + "#!%7B%22layers%22%3A%5B%E0%A4%A",  # malformed escape
        NG + "#!{\"layers\": [",  # malformed JSON
        NG + "#![1, 2, 3]",  # not an object
    ],
)
def test_malformed_links(link: str) -> None:
    with pytest.raises(InvalidURIError):
        wk.explore(link)


def test_cli_accepts_links(base: str) -> None:
    link = _link(_state(base), "once")
    out = subprocess.run([sys.executable, "-m", "wk_widget", "explore", link, "--verbose"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [layer["name"] for layer in doc["dataLayers"]] == ["em", "cells", "plain", "piped", "n5data"]
    assert "graphene" in out.stderr
    bad = subprocess.run([sys.executable, "-m", "wk_widget", "explore", NG + "#!{oops"], capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_add_layers_accepts_links(base: str) -> None:
    ds = wk.explore(_url("ngff05_multiscale_uint8", base))
    added = ds.add_layers(_link({"layers": [{"type": "segmentation", "name": "seg", "source": "precomputed://" + _url("cloudvolume_segmentation_offset_uint32", base)}]}, "twice"))
    assert [layer.name for layer in added] == ["seg"] and added[0].category == "segmentation"
    assert list(ds.layers) == ["membrane", "seg"]


@pytest.mark.parametrize(
    "case_ids",
    [
        ("ngff04_multiscale_uint16",),
        ("ngff04_two_channels_uint8",),
        ("precomputed_raw_multiscale_uint8", "cloudvolume_segmentation_offset_uint32", "zarr2_uint8_blosc"),
        ("n5_multiscales_cosem",),
        ("zarr3_sharded_uint8", "n5_uint8_raw"),
    ],
)
def test_round_trip(base: str, case_ids: tuple[str, ...]) -> None:
    m = manifest()
    ds = wk.explore(*(m.uri(m.case(c), base) for c in case_ids))
    link = ds.to_neuroglancer_url(base="https://ng.example.org/")
    assert link.startswith("https://ng.example.org/#!")
    again = wk.explore(link)
    labels = [name for name, layer in ds.layers.items() if layer.spec.category_source == "ome-labels"]
    assert list(again.layers) == list(ds.layers), (list(again.layers), list(ds.layers))
    for name, layer in ds.layers.items():
        other = again.layers[name]
        assert other.category == layer.category, name
        assert other.data_format == layer.data_format, name
        assert other.element_class == layer.element_class, name
        assert other.bounding_box == layer.bounding_box, name
        if layer.spec.voxel_size is not None or name in labels:
            assert [x.mag for x in other.mags] == [x.mag for x in layer.mags], name
    assert again.unit == ds.unit
    assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(again.voxel_size, ds.voxel_size, strict=True))
    assert isinstance(again, wk.Dataset)
    assert not isinstance(again, RemoteDatasetError)
