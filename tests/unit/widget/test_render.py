"""render.py: tile geometry, raw-value tiles, colors and image encoding, on numpy arrays."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import pytest

from wk_widget.widget import render
from wk_widget.widget.protocol import PLANE_AXES

FIXTURES = Path(__file__).resolve().parents[3] / "js" / "test" / "fixtures" / "fixtures.json"

ALL_DTYPES = ["u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f4", "f8"]


# ---------------------------------------------------------------------------------------
# geometry (the same vectors as js/test/tilemath.test.ts)


def test_tile_region_clips_like_the_browser():
    bbox = ((10, 0, 0), (500, 300, 7))
    r = render.tile_region("xy", (1, 1, 1), 3, (0, 0), 256, bbox)
    assert (r.u0, r.v0, r.w, r.h) == (10, 0, 246, 256)
    assert r.offset == (10, 0, 3) and r.size == (246, 256, 1)
    r = render.tile_region("xy", (1, 1, 1), 3, (1, 1), 256, bbox)
    assert (r.u0, r.v0, r.w, r.h) == (0, 0, 254, 44)
    assert r.offset == (256, 256, 3) and r.size == (254, 44, 1)
    r = render.tile_region("xy", (2, 2, 1), 3, (0, 0), 256, bbox)
    assert (r.u0, r.v0, r.w, r.h) == (5, 0, 250, 150)
    assert r.offset == (10, 0, 3) and r.size == (500, 300, 1)
    assert render.tile_region("xy", (1, 1, 1), 7, (0, 0), 256, bbox) is None
    assert render.tile_region("xy", (1, 1, 1), 0, (2, 0), 256, bbox) is None
    r = render.tile_region("yz", (1, 1, 1), 20, (0, 0), 256, bbox)
    assert (r.u0, r.v0, r.w, r.h) == (0, 0, 7, 256)
    assert r.offset == (20, 0, 0) and r.size == (1, 256, 7)


def test_tile_region_at_anisotropic_mag_reads_whole_mag_voxels():
    bbox = ((0, 0, 0), (1000, 1000, 100))
    r = render.tile_region("xz", (4, 4, 2), 7, (1, 0), 256, bbox)
    # u = x: tile 1 -> mag-4 voxels 256..250 (box ends at 1000/4 = 250) -> empty
    assert r is None
    r = render.tile_region("xz", (4, 4, 2), 7, (0, 0), 256, bbox)
    assert (r.w, r.h) == (250, 50)
    assert r.offset == (0, 28, 0) and r.size == (1000, 4, 100)


@pytest.mark.parametrize("plane", ["xy", "xz", "yz"])
def test_plane_image_orientation(plane):
    u, v, w = PLANE_AXES[plane]
    shape = [0, 0, 0]
    shape[u], shape[v], shape[w] = 5, 3, 1
    block = np.arange(np.prod(shape)).reshape(shape)
    img = render.plane_image(block, plane)
    assert img.shape == (3, 5)  # rows = v (screen down), columns = u (screen right)
    for row in range(3):
        for col in range(5):
            idx = [0, 0, 0]
            idx[u], idx[v] = col, row
            assert img[row, col] == block[tuple(idx)]
    assert img.flags.c_contiguous


def test_plane_image_and_select_channel_reject_bad_input():
    with pytest.raises(ValueError):
        render.plane_image(np.zeros((2, 2)), "xy")
    with pytest.raises(ValueError):
        render.plane_image(np.zeros((2, 2, 1)), "ab")
    data = np.arange(2 * 3 * 4 * 1).reshape(2, 3, 4, 1)
    assert render.select_channel(data, 1).shape == (3, 4, 1)
    np.testing.assert_array_equal(render.select_channel(data, None), data[0])
    np.testing.assert_array_equal(render.select_channel(data[:1], 5), data[0])
    with pytest.raises(ValueError):
        render.select_channel(data, 2)
    assert render.select_channel(data[0], 0).shape == (3, 4, 1)


# ---------------------------------------------------------------------------------------
# raw-value tiles


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_png_planes_round_trip_every_dtype(dtype):
    rng = np.random.default_rng(1)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        img = rng.normal(0, 1e3, (37, 53)).astype(dt)
        img[0, 0] = np.nan
        img[0, 1] = -np.inf
    else:
        info = np.iinfo(dt)
        img = rng.integers(info.min, info.max, (37, 53), dtype=dt, endpoint=True)
    data = render.encode_png_planes(img)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    stacked = imagecodecs.png_decode(data)
    assert stacked.shape == (37 * dt.itemsize, 53) and stacked.dtype == np.uint8
    back = render.decode_png_planes(data, dt, 37, 53)
    np.testing.assert_array_equal(
        back.view(np.uint8), img.astype(dt.newbyteorder("<")).view(np.uint8)
    )
    assert render.dtype_name(img.dtype) in render.ELEMENT_DTYPES


def test_png_planes_big_endian_input_is_sent_little_endian():
    img = np.arange(12, dtype=">u2").reshape(3, 4) * 300
    back = render.decode_png_planes(render.encode_png_planes(img), "<u2", 3, 4)
    np.testing.assert_array_equal(back, img.astype("<u2"))


def test_png_planes_compress_constant_high_bytes():
    ids = np.repeat(np.arange(16, dtype=np.uint64), 256 * 16).reshape(256, 256) + 10**6
    assert len(render.encode_png_planes(ids)) < 4000  # 512 KiB of uint64 ids


def test_png_planes_rejects_non_2d_and_bad_shapes():
    with pytest.raises(ValueError):
        render.encode_png_planes(np.zeros((2, 2, 2), np.uint8))
    data = render.encode_png_planes(np.zeros((4, 4), np.uint16))
    with pytest.raises(ValueError):
        render.decode_png_planes(data, "<u2", 5, 4)
    with pytest.raises(ValueError):
        render.dtype_name(np.float16)


def test_fixtures_shared_with_the_js_tests_are_current():
    """js/test/fixtures/fixtures.json holds tiles and colors made by this module."""
    fixtures = json.loads(FIXTURES.read_text())
    for t in fixtures["tiles"]:
        data = base64.b64decode(t["png"])
        img = render.decode_png_planes(data, render.ELEMENT_DTYPES[t["dtype"]], t["h"], t["w"])
        want = [int(v) if isinstance(v, str) else v for v in t["values"]]
        assert img.reshape(-1).tolist() == pytest.approx(want, nan_ok=True)
    assert fixtures["palette_tiles"]
    for t in fixtures["palette_tiles"]:
        img = render.decode_value_tile("png-palette", base64.b64decode(t["data"]), render.ELEMENT_DTYPES[t["dtype"]], t["h"], t["w"])
        assert img.reshape(-1).tolist() == [int(v) for v in t["values"]]
    for c in fixtures["segment_colors"]:
        i = int(c["id"])
        assert render.segment_hash(i) == c["hash"]
        assert list(render.segment_color(i)) == c["rgb"]


# ---------------------------------------------------------------------------------------
# colors


def test_window_maps_range_to_bytes():
    v = np.array([-5, 0, 100, 151, 200, 300, np.nan])
    out = render.window(v, 100, 200)
    assert out.dtype == np.uint8
    assert out.tolist() == [0, 0, 0, 130, 255, 255, 0]
    assert render.window(np.array([4, 5, 6]), 5, 5).tolist() == [0, 255, 255]


def test_color_layer_rgba_uses_layer_color():
    img = np.array([[0, 100, 151, 255]], dtype=np.uint8)
    rgba = render.render_color_rgba(img, (100, 200), (255, 0, 255))
    assert rgba.shape == (1, 4, 4)
    assert rgba[0, 2].tolist() == [130, 0, 130, 255]
    assert rgba[0, 3].tolist() == [255, 0, 255, 255]
    assert rgba[0, 0].tolist() == [0, 0, 0, 255]


def test_segment_colors_are_stable_bright_and_distinct():
    colors = {render.segment_color(i) for i in range(1, 200)}
    assert len(colors) > 190
    for i in (1, 2, 2**40 + 3, 2**64 - 1):
        rgb = render.segment_color(i)
        assert all(0 <= c <= 255 for c in rgb)
        assert max(rgb) >= 200  # value >= 0.85
    assert render.segment_color(-1) == render.segment_color(2**64 - 1)


def test_segmentation_rgba_transparent_background_and_highlight():
    ids = np.array([[0, 7, 7, 9]], dtype=np.uint64)
    rgba = render.render_segmentation_rgba(ids, alpha=100, highlight=9)
    assert rgba[0, 0].tolist() == [0, 0, 0, 0]
    r, g, b = render.segment_color(7)
    assert rgba[0, 1].tolist() == [r, g, b, 100]
    r9, g9, b9 = render.segment_color(9)
    assert rgba[0, 3].tolist() == [(r9 + 255) // 2, (g9 + 255) // 2, (b9 + 255) // 2, 255]


def test_composite_adds_colors_and_overlays_segmentation():
    red = np.zeros((1, 2, 4), np.uint8)
    red[..., 0], red[..., 3] = 200, 255
    green = np.zeros((1, 2, 4), np.uint8)
    green[..., 1], green[..., 3] = 100, 255
    seg = np.zeros((1, 2, 4), np.uint8)
    seg[0, 1] = (0, 0, 255, 255)
    out = render.composite([(red, "color", 1.0), (green, "color", 0.5), (seg, "segmentation", 0.5)])
    assert out[0, 0].tolist() == [200, 50, 0, 255]
    assert out[0, 1].tolist() == [100, 25, 128, 255]
    with pytest.raises(ValueError):
        render.composite([])
    with pytest.raises(ValueError):
        render.composite([(red, "color", 1.0), (np.zeros((2, 2, 4), np.uint8), "color", 1.0)])


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_encode_image_round_trips(fmt):
    rgba = np.zeros((16, 24, 4), np.uint8)
    rgba[..., 0] = np.arange(24, dtype=np.uint8) * 10
    rgba[..., 3] = 255
    data = render.encode_image(rgba, fmt, quality=100)
    decoded = imagecodecs.png_decode(data) if fmt == "png" else imagecodecs.webp_decode(data)
    np.testing.assert_array_equal(decoded[..., :3], rgba[..., :3])
    assert len(render.encode_image(rgba, "webp", quality=80)) > 0
    with pytest.raises(ValueError):
        render.encode_image(rgba, "gif")
    with pytest.raises(ValueError):
        render.encode_image(rgba.astype(np.uint16), "png")


def test_render_layer_rgba_by_category():
    img = np.array([[0, 5]], dtype=np.uint32)
    seg = render.render_layer_rgba(img, "segmentation")
    assert seg[0, 0, 3] == 0 and seg[0, 1, 3] == 255
    col = render.render_layer_rgba(img, "color", (0, 5), (0, 255, 0))
    assert col[0, 1].tolist() == [0, 255, 0, 255]
    assert render.render_layer_rgba(img, "color")[0, 1].tolist() == [5, 5, 5, 255]


def test_default_ranges():
    assert render.default_range("uint8") == (0.0, 255.0)
    assert render.default_range("uint16") == (0.0, 65535.0)
    assert render.default_range("float") == (0.0, 255.0)


@pytest.mark.parametrize("dtype", ["<u1", "<u2", ">u2", "<u4", "<i8", "<f4"])
def test_raw_planes_round_trip(dtype: str):
    rng = np.random.default_rng(5)
    img = (rng.integers(0, 200, (13, 7)) * 3).astype(dtype)
    data = render.encode_raw_planes(img)
    assert len(data) == img.size * np.dtype(dtype).itemsize
    # the same byte planes as inside the PNG
    assert data == np.asarray(imagecodecs.png_decode(render.encode_png_planes(img))).tobytes()
    back = render.decode_raw_planes(data, render.ELEMENT_DTYPES[render.dtype_name(img.dtype)], 13, 7)
    np.testing.assert_array_equal(back, img)
    with pytest.raises(ValueError):
        render.decode_raw_planes(data[:-1], np.dtype(dtype), 13, 7)


def test_value_tiles_are_png_when_that_pays_and_raw_when_not():
    ids = np.repeat(np.arange(16, dtype=np.uint32), 256 * 16).reshape(256, 256) + 7
    encoding, data = render.encode_value_tile(ids)
    assert encoding == "png-planes" and data[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(render.decode_value_tile(encoding, data, "<u4", 256, 256), ids)
    noise = np.random.default_rng(1).integers(0, 256, (256, 256), dtype=np.uint8)
    encoding, data = render.encode_value_tile(noise)
    assert encoding == "raw-planes" and len(data) == 256 * 256
    np.testing.assert_array_equal(render.decode_value_tile(encoding, data, "<u1", 256, 256), noise)
    with pytest.raises(ValueError):
        render.decode_value_tile("webp", data, "<u1", 256, 256)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.int64])
def test_segment_id_tiles_are_unfiltered_png_planes_or_palettes(dtype: Any) -> None:
    rng = np.random.default_rng(4)
    ids = np.repeat(np.repeat(rng.integers(0, 120, (16, 16)), 16, 0), 16, 1).astype(dtype)
    encoding, data = render.encode_value_tile(ids, ids=True)
    itemsize = np.dtype(dtype).itemsize
    assert encoding == ("png-planes" if itemsize == 1 else "png-palette")
    np.testing.assert_array_equal(render.decode_value_tile(encoding, data, np.dtype(dtype).newbyteorder("<"), 256, 256), ids)
    # no filter on any row (the PNG's filter byte leads each row), and not larger than "sub"
    png = data if itemsize == 1 else data[4 + len(np.unique(ids)) * itemsize :]
    raw = zlib.decompress(_idat(png))
    assert len(raw) == 256 * 257  # one byte of index (or id) per pixel
    assert {raw[r * 257] for r in range(256)} == {0}
    assert len(data) <= len(render.encode_value_tile(ids)[1])
    noise = rng.integers(0, 2**31, (256, 256)).astype(np.uint32)
    assert render.encode_value_tile(noise, ids=True)[0] == "raw-planes"


def test_palette_tiles_take_a_uint16_index_above_256_ids_and_reject_bad_payloads() -> None:
    rng = np.random.default_rng(5)
    ids = np.repeat(np.repeat(rng.integers(1, 2**40, (64, 64)), 4, 0), 4, 1).astype(np.uint64)
    encoding, data = render.encode_value_tile(ids, ids=True)
    assert encoding == "png-palette" and int.from_bytes(data[:4], "little") == len(np.unique(ids)) > 256
    np.testing.assert_array_equal(render.decode_value_tile(encoding, data, "<u8", 256, 256), ids)
    with pytest.raises(ValueError):
        render.decode_value_tile(encoding, data[:3], "<u8", 256, 256)
    with pytest.raises(ValueError):
        render.decode_value_tile(encoding, (2).to_bytes(4, "little") + data[4:], "<u8", 256, 256)
    with pytest.raises(ValueError):
        render.decode_value_tile(encoding, data, "<u8", 128, 256)


def _idat(png: bytes) -> bytes:
    pos, out = 8, b""
    while pos < len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        if png[pos + 4 : pos + 8] == b"IDAT":
            out += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return out


@pytest.mark.parametrize("kind", ["blocks", "runs", "noise", "constant", "one pixel"])
def test_palette_from_runs_equals_numpy_unique(kind: str) -> None:
    from wk_widget.widget.palette import _palette

    rng = np.random.default_rng(6)
    flat = {
        "blocks": np.repeat(np.repeat(rng.integers(0, 120, (16, 16)), 16, 0), 16, 1).reshape(-1),
        "runs": np.repeat(rng.integers(0, 9, 4000), rng.integers(1, 30, 4000)),
        "noise": rng.integers(0, 2**31, 65536),
        "constant": np.full(4096, 7),
        "one pixel": np.array([5]),
    }[kind].astype(np.uint32)
    ids, index = _palette(flat)
    want_ids, want_index = np.unique(flat, return_inverse=True)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(index, want_index.reshape(-1))
