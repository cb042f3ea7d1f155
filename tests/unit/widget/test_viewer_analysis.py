"""The Viewer's analysis tools without a browser: selected segments, clicks, annotations
(JSON, NML read back by webknossos-libs, the Neuroglancer layer), colour maps, the Python
screenshot, the view link and the datasource with the view settings.

Data: small OME-NGFF images written with zarr-python, served over HTTP on 127.0.0.1 by
the package's own static server (`wk_widget.sample.serve_directory`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import imagecodecs
import numpy as np
import pytest
import traitlets

from tests.unit.widget.test_viewer_protocol import Recorder, _ngff, msg, wait_for
from wk_widget.formats.ngff import image_label_segments
from wk_widget.sample import serve_directory
from wk_widget.widget import colormaps, render
from wk_widget.widget import protocol as P
from wk_widget.widget.annotations import normalize_all
from wk_widget.widget.segments import render_segments
from wk_widget.widget.viewer import Viewer

Z, Y, X = 20, 300, 400


@pytest.fixture(scope="module")
def volumes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("analysis-data")
    img = (np.arange(X)[None, None, :] + np.arange(Y)[None, :, None] + 10 * np.arange(Z)[:, None, None]).astype(np.uint8)
    seg = (
        (np.arange(X)[None, None, :] // 50) + 10 * (np.arange(Y)[None, :, None] // 50) + 1000 * (np.arange(Z)[:, None, None] // 5) + 1
    ).astype(np.uint32)
    _ngff(root / "img.zarr", [img, img[:, ::2, ::2].copy()], "img")
    _ngff(root / "seg.zarr", [seg], "segmentation")
    server = serve_directory(root, "analysis")
    return {"url": server.url, "img": img, "seg": seg}  # arrays are (z, y, x)


@pytest.fixture
def viewer(volumes: dict[str, Any]) -> Viewer:
    v = Viewer(volumes["url"] + "/img.zarr")
    v.add_layers(volumes["url"] + "/seg.zarr")
    v.send = Recorder()  # type: ignore[method-assign]
    return v


# ---------------------------------------------------------------------------------------
# traits


def test_new_layer_settings_have_analysis_defaults(viewer: Viewer) -> None:
    for s in viewer.layer_settings:
        assert s["colormap"] == "tint" and s["invert"] is False and s["gamma"] == 1.0
        assert s["segments_shown"] == "all" and s["hidden_segments"] == []
    viewer.update_layer("img", colormap="magma", invert=True, gamma=2)
    s = viewer.layer_settings[0]
    assert (s["colormap"], s["invert"], s["gamma"]) == ("magma", True, 2.0)
    with pytest.raises(ValueError, match="colormap"):
        viewer.update_layer("img", colormap="jet")
    with pytest.raises(ValueError, match="gamma"):
        viewer.update_layer("img", gamma=-1)
    with pytest.raises(ValueError, match="segments_shown"):
        viewer.update_layer("segmentation", segments_shown="some")
    viewer.update_layer("segmentation", hidden_segments=[3, "4", 3, 0])
    assert viewer.layer_settings[1]["hidden_segments"] == [3, 4]


def test_selected_segments_are_validated_and_synced(viewer: Viewer) -> None:
    viewer.selected_segments = {"segmentation": [5, 5.0, "7", 0], "other": []}
    assert viewer.selected_segments == {"segmentation": [5, 7]}
    assert viewer.get_state()["selected_segments"] == {"segmentation": [5, 7]}
    for bad in ({"segmentation": "5"}, {"segmentation": [1.5]}, {"segmentation": [True]}, [1, 2]):
        with pytest.raises(traitlets.TraitError):
            viewer.selected_segments = bad
    # the browser's update arrives through set_state, as ipywidgets delivers it
    viewer.set_state({"selected_segments": {"segmentation": [42]}})
    assert viewer.selected_segments == {"segmentation": [42]}


def test_annotations_are_validated_and_canonical(viewer: Viewer) -> None:
    viewer.annotations = [
        {"type": "point", "points": [[1, 2, 3]]},
        {"type": "box", "points": [[1, 2, 3], [4.5, 6, 7]], "name": "b", "color": "#FF0000", "id": "x"},
    ]
    a, b = viewer.annotations
    assert a["type"] == "point" and a["points"] == [[1, 2, 3]] and a["color"] == "#ffcc00" and a["id"]
    assert b == {"id": "x", "type": "box", "points": [[1, 2, 3], [4.5, 6, 7]], "name": "b", "color": "#ff0000"}
    bad_items: list[Any] = [
        {"type": "circle", "points": [[1, 2, 3]]},
        {"type": "line", "points": [[1, 2, 3]]},
        {"type": "point", "points": [[1, 2, float("nan")]]},
        {"type": "point", "points": [[1, 2, 3]], "color": "red"},
        "point",
    ]
    for bad in bad_items:
        with pytest.raises(traitlets.TraitError):
            viewer.annotations = [bad]
    assert len(viewer.annotations) == 2
    assert len({x["id"] for x in normalize_all([{"type": "point", "points": [[0, 0, 0]], "id": "same"}] * 3)}) == 3


# ---------------------------------------------------------------------------------------
# clicks


def test_click_calls_back_with_the_values_at_the_position(viewer: Viewer, volumes: dict[str, Any]) -> None:
    events: list[dict[str, Any]] = []
    viewer.on_click(events.append)
    x, y, z = 123, 77, 11

    async def run() -> None:
        msg(viewer, {"type": P.MSG_CLICK, "position": [x + 0.4, y + 0.9, z], "view": "xz", "modifiers": ["shift", "evil"]})
        await wait_for(lambda: bool(events))

    asyncio.run(run())
    (event,) = events
    assert event["position"] == (x, y, z)
    assert event["view"] == "xz"
    assert event["modifiers"] == ["shift"]
    assert event["values"] == {"img": int(volumes["img"][z, y, x]), "segmentation": int(volumes["seg"][z, y, x])}
    # hidden layers are not read; clicks outside the data give None
    viewer.update_layer("img", visible=False)
    events.clear()

    async def outside() -> None:
        msg(viewer, {"type": P.MSG_CLICK, "position": [-5, 0, 0], "view": "xy"})
        await wait_for(lambda: bool(events))

    asyncio.run(outside())
    assert events[0]["values"] == {"segmentation": None}


def test_hostile_click_messages_are_reported_not_raised(viewer: Viewer) -> None:
    viewer.on_click(lambda e: None)
    rec = viewer.send
    for content in (
        {"type": P.MSG_CLICK, "id": "c1", "position": "here", "view": "xy"},
        {"type": P.MSG_CLICK, "id": "c2", "position": [1, 2, float("inf")], "view": "xy"},
        {"type": P.MSG_CLICK, "id": "c3", "position": [1, 2, 3], "view": "3d"},
    ):
        msg(viewer, content)
        result = rec.result(content["id"])  # type: ignore[attr-defined]
        assert result["ok"] is False and result["error"]


def test_on_click_remove(viewer: Viewer) -> None:
    calls: list[Any] = []
    viewer.on_click(calls.append)
    viewer.on_click(calls.append, remove=True)
    msg(viewer, {"type": P.MSG_CLICK, "position": [1, 2, 3], "view": "xy"})
    assert calls == []


# ---------------------------------------------------------------------------------------
# files


def test_annotations_json_round_trip_and_errors(viewer: Viewer, tmp_path: Path) -> None:
    viewer.annotations = [
        {"type": "point", "points": [[1, 2, 3]], "name": "p"},
        {"type": "line", "points": [[0, 0, 0], [10, 20, 5]], "name": "l", "color": "#00ff00"},
    ]
    saved = viewer.save_annotations(tmp_path / "a.json")
    doc = json.loads(saved.read_text())
    assert doc["format"] == "wk_widget.annotations" and len(doc["annotations"]) == 2
    before = viewer.annotations
    viewer.annotations = []
    assert viewer.load_annotations(saved) == before
    assert viewer.annotations == before
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        viewer.load_annotations(tmp_path / "bad.json")
    (tmp_path / "bad2.json").write_text(json.dumps({"annotations": [{"type": "point", "points": []}]}))
    with pytest.raises(ValueError, match=r"bad2\.json"):
        viewer.load_annotations(tmp_path / "bad2.json")
    assert viewer.annotations == before  # a failed load changes nothing
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temporary file


def test_nml_export_is_read_back_by_webknossos_libs(viewer: Viewer, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import webknossos

    viewer.annotations = [
        {"type": "point", "points": [[11, 22, 3]], "name": "soma", "color": "#ff0000"},
        {"type": "line", "points": [[0, 5, 1], [100, 50, 9]], "name": "axon"},
        {"type": "box", "points": [[50, 60, 7], [10, 20, 2]], "name": "roi", "color": "#0000ff"},
    ]
    path = viewer.export_annotations(tmp_path / "ann.nml")
    ann = webknossos.Annotation.load(path)
    trees = {t.name: t for t in ann.skeleton.flattened_trees()}
    assert sorted(trees) == ["axon", "soma"]
    assert [tuple(n.position) for n in trees["soma"].nodes] == [(11, 22, 3)]
    assert sorted(tuple(n.position) for n in trees["axon"].nodes) == [(0, 5, 1), (100, 50, 9)]
    (edge,) = list(trees["axon"].edges)
    assert {tuple(edge[0].position), tuple(edge[1].position)} == {(0, 5, 1), (100, 50, 9)}
    assert tuple(trees["soma"].color[:3]) == pytest.approx((1.0, 0.0, 0.0))
    (box,) = ann.user_bounding_boxes
    assert tuple(box.topleft) == (10, 20, 2) and tuple(box.size) == (40, 40, 5)
    assert box.name == "roi"
    assert tuple(ann.voxel_size) == pytest.approx(tuple(viewer.dataset.voxel_size))  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------
# pictures, links, datasource


def _pixel(img: np.ndarray, view_w: int, view_h: int, u: float, v: float, viewer: Viewer) -> np.ndarray:
    """The screenshot pixel showing mag-1 voxel (u, v) in the XY view (single-view mode)."""
    zoom = viewer.zoom
    px = int((u + 0.5 - viewer.position[0]) / zoom + view_w / 2)
    py = int((v + 0.5 - viewer.position[1]) / zoom + view_h / 2)
    return img[py, px]


def test_screenshot_renders_the_data_with_the_settings(viewer: Viewer, volumes: dict[str, Any]) -> None:
    viewer.plane = "xy"
    viewer.position = [200.0, 150.0, 10.0]
    viewer.zoom = 1.0
    seg, img = volumes["seg"], volumes["img"]
    plain = viewer.screenshot(400, 300)
    assert plain.shape == (300, 400, 4) and plain.dtype == np.uint8
    u, v = 120, 80
    sid = int(seg[10, v, u])
    rgb = np.array(render.segment_color(sid))
    gray = float(img[10, v, u])
    alpha = round(0.4 * 255) / 255
    want = np.floor((gray * (1 - alpha) + rgb * alpha) + 0.5)
    assert np.abs(_pixel(plain, 400, 300, u, v, viewer)[:3] - want).max() <= 1
    # selecting the segment makes it opaque and lighter; "selected" hides the others
    viewer.selected_segments = {"segmentation": [sid]}
    viewer.update_layer("segmentation", segments_shown="selected")
    shot = viewer.screenshot(400, 300)
    assert _pixel(shot, 400, 300, u, v, viewer)[:3].tolist() == [(c + 255) // 2 for c in rgb]
    other = (u + 60, v)
    assert _pixel(shot, 400, 300, *other, viewer)[:3].tolist() == [int(img[10, other[1], other[0]])] * 3
    # a colour map changes the colour layer's pixels, exactly as colormaps.apply says
    viewer.update_layer("segmentation", visible=False)
    viewer.update_layer("img", colormap="viridis", invert=True, gamma=0.5, range=[10, 200])
    mapped = viewer.screenshot(400, 300)
    want2 = colormaps.apply(np.array([img[10, other[1], other[0]]]), (10, 200), "viridis", (255, 255, 255), True, 0.5)[0, :3]
    assert _pixel(mapped, 400, 300, *other, viewer)[:3].tolist() == want2.tolist()
    # outside the data: black (the map's colour of 0 is not)
    viewer.position = [0.0, 0.0, 10.0]
    corner = viewer.screenshot(400, 300)
    assert corner[0, 0, :3].tolist() == [0, 0, 0] and corner[-1, -1, :3].tolist() != [0, 0, 0]


def test_screenshot_while_the_kernel_thread_is_busy_and_in_ortho(viewer: Viewer) -> None:
    # no browser, called from inside a running event loop (as in a notebook cell)
    async def inside() -> np.ndarray:
        return viewer.screenshot(300, 200)

    shot = asyncio.run(inside())
    assert shot.shape == (200, 300, 4)
    # ortho: XY top-left, YZ top-right, XZ bottom-left, empty bottom-right
    assert shot[:100, :150, :3].std() > 5 and shot[100:, 150:, :3].max() == 0


def test_screenshot_draws_annotations(viewer: Viewer) -> None:
    viewer.plane = "xy"
    viewer.position = [200.0, 150.0, 10.0]
    viewer.zoom = 1.0
    viewer.update_layer("img", visible=False)
    viewer.update_layer("segmentation", visible=False)
    viewer.annotations = [{"type": "point", "points": [[200, 150, 10]], "color": "#ff00ff"}]
    shot = viewer.screenshot(100, 100)
    assert shot[50, 50, :3].tolist() == [255, 0, 255]
    viewer.annotations = [{"type": "point", "points": [[200, 150, 15]], "color": "#ff00ff"}]
    assert viewer.screenshot(100, 100)[..., :3].max() == 0  # another slice: not drawn


def test_neuroglancer_link_of_the_current_view(viewer: Viewer) -> None:
    viewer.plane = "yz"
    viewer.position = [10.0, 20.0, 5.0]
    viewer.zoom = 2.5
    viewer.selected_segments = {"segmentation": [3, 4]}
    viewer.update_layer("img", colormap="magma", range=[5, 99], invert=True)
    viewer.update_layer("segmentation", segments_shown="selected")
    viewer.annotations = [
        {"type": "point", "points": [[1, 2, 3]], "name": "p"},
        {"type": "box", "points": [[9, 9, 9], [1, 2, 3]], "name": "b"},
    ]
    url = viewer.to_neuroglancer_url("https://ng.example/")
    assert url.startswith("https://ng.example/#!")
    state = json.loads(unquote(url.split("#!", 1)[1]))
    assert state["position"] == [10.0, 20.0, 5.0]
    assert state["crossSectionScale"] == 2.5
    assert state["layout"] == "yz"
    layers = {layer["name"]: layer for layer in state["layers"]}
    assert layers["img"]["shaderControls"]["normalized"]["range"] == [5.0, 99.0]
    assert layers["img"]["shaderControls"]["invert"] is True
    assert "CMAP[9]" in layers["img"]["shader"]
    assert layers["segmentation"]["segments"] == ["3", "4"]
    assert layers["segmentation"]["notSelectedAlpha"] == 0.0
    ann = layers["annotations"]
    assert ann["type"] == "annotation"
    by_type = {a["type"]: a for a in ann["annotations"]}
    assert by_type["point"]["point"] == [1, 2, 3]
    assert by_type["axis_aligned_bounding_box"]["pointA"] == [1, 2, 3]
    assert by_type["axis_aligned_bounding_box"]["pointB"] == [9, 9, 9]


def test_to_datasource_writes_the_view_settings(viewer: Viewer) -> None:
    viewer.update_layer("img", range=[3, 77], color=[255, 0, 0], invert=True, gamma=1.5, opacity=0.5)
    viewer.update_layer("segmentation", visible=False)
    doc = viewer.to_datasource()
    layers = {layer["name"]: layer for layer in doc["dataLayers"]}
    img = layers["img"]["defaultViewConfiguration"]
    assert img["intensityRange"] == [3.0, 77.0] and img["color"] == [255, 0, 0]
    assert img["isInverted"] is True and img["gammaCorrectionValue"] == 1.5 and img["alpha"] == 50.0
    assert layers["segmentation"]["defaultViewConfiguration"]["isDisabled"] is True
    assert viewer.dataset is not None and "defaultViewConfiguration" not in json.dumps(viewer.dataset.to_datasource()["dataLayers"][1])


def test_omero_inverted_is_honoured(volumes: dict[str, Any], tmp_path: Path) -> None:
    import zarr

    _ngff(tmp_path / "inv.zarr", [volumes["img"][:4, :64, :64].copy()], "inv")
    g = zarr.open_group(str(tmp_path / "inv.zarr"), mode="a", zarr_format=2)
    g.attrs["omero"] = {"channels": [{"label": "inv", "color": "FFFFFF", "inverted": True, "window": {"start": 0, "end": 255, "min": 0, "max": 255}}]}
    server = serve_directory(tmp_path, "inv-data")
    v = Viewer(server.url + "/inv.zarr")
    assert v.layer_settings[0]["invert"] is True


def test_mimebundle_carries_a_png_of_the_views(viewer: Viewer) -> None:
    data, _meta = viewer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    png = imagecodecs.png_decode(base64.b64decode(data["image/png"]))
    assert png.ndim == 3 and png.shape[2] in (3, 4) and png[..., :3].std() > 5
    empty, _ = Viewer()._repr_mimebundle_()
    assert "image/png" not in empty


# ---------------------------------------------------------------------------------------
# pure parts


def test_image_label_colours_and_properties() -> None:
    meta = image_label_segments({
        "colors": [{"label-value": 1, "rgba": [255, 0, 0, 255]}, {"label-value": "x", "rgba": [1, 2, 3]},
                   {"label-value": 2, "rgba": [300, 0, 0]}],
        "properties": [{"label-value": 1, "area": 12, "class": "cell", "nested": {"no": 1}}],
    })
    assert meta == {"1": {"color": [255, 0, 0], "properties": {"area": 12, "class": "cell"}}}
    assert image_label_segments({"colors": "bad"}) is None
    assert image_label_segments(None) is None
    ids = np.array([[0, 1, 2]], dtype=np.uint32)
    rgba = render_segments(ids, 1.0, colors=meta)
    assert rgba[0, 1].tolist() == [255, 0, 0, 255] and rgba[0, 0, 3] == 0
    assert rgba[0, 2, :3].tolist() == list(render.segment_color(2))


def test_analysis_fixtures_shared_with_the_js_tests_are_current() -> None:
    import importlib.util

    root = Path(__file__).resolve().parents[3] / "js" / "test" / "fixtures"
    spec = importlib.util.spec_from_file_location("make_analysis_fixtures", root / "make_analysis_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert json.loads((root / "analysis.json").read_text()) == json.loads(json.dumps(module.fixtures()))


def test_protocol_constants_match_the_js_twin() -> None:
    ts = (Path(__file__).resolve().parents[3] / "js" / "src" / "protocol.ts").read_text()
    assert f'MSG_CLICK = "{P.MSG_CLICK}"' in ts
    assert "COLORMAP_NAMES = [" + ", ".join(f'"{c}"' for c in P.COLORMAPS) + "]" in ts
    assert "SEGMENT_MODE_NAMES = [" + ", ".join(f'"{c}"' for c in P.SEGMENT_MODES) + "]" in ts
    assert "ANNOTATION_TYPE_NAMES = [" + ", ".join(f'"{c}"' for c in P.ANNOTATION_TYPES) + "]" in ts


def test_ome_image_label_colours_reach_the_views_and_pictures(volumes: dict[str, Any], tmp_path: Path) -> None:
    import zarr

    root = tmp_path / "withlabels.zarr"
    _ngff(root, [volumes["img"][:8, :64, :64].copy()], "img")
    seg = volumes["seg"][:8, :64, :64].copy()
    _ngff(root / "labels" / "cells", [seg], "cells")
    zarr.open_group(str(root / "labels"), mode="a", zarr_format=2).attrs["labels"] = ["cells"]
    sid = int(seg[4, 10, 10])
    zarr.open_group(str(root / "labels" / "cells"), mode="a", zarr_format=2).attrs["image-label"] = {
        "version": "0.4",
        "colors": [{"label-value": sid, "rgba": [12, 34, 56, 255]}],
        "properties": [{"label-value": sid, "cell type": "neuron"}],
    }
    server = serve_directory(tmp_path, "labels-data")
    v = Viewer(server.url + "/withlabels.zarr")
    info = {layer["name"]: layer for layer in v.dataset_info["layers"]}
    assert info["labels-cells"]["segments"] == {str(sid): {"color": [12, 34, 56], "properties": {"cell type": "neuron"}}}
    v.plane, v.position, v.zoom = "xy", [32.0, 32.0, 4.0], 1.0
    v.update_layer("img", visible=False)
    v.update_layer("labels-cells", opacity=1.0)
    shot = v.screenshot(64, 64)
    assert shot[10, 10, :3].tolist() == [12, 34, 56]
