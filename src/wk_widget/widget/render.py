"""A plane of one or more layers -> an encoded image tile.

Two kinds of tiles leave Python:

* raw values (`encode_value_tile`: byte planes as a PNG, `encode_png_planes`, or
  uncompressed, `encode_raw_planes`, when the PNG would not be much smaller): lossless,
  any element class; the browser applies
  contrast, color, segment colors and the hovered-id highlight itself, so changing those
  needs no new request, and the value under the cursor is known in the browser.
* rendered RGBA (`render_layer_rgba`, `composite`, `encode_image`): what the browser
  would show, as PNG or WebP; used for `format: "png" | "webp"` tile requests and
  for pictures made in Python.

The tile geometry (`tile_region`) and the segment colors (`segment_color`) have twins in
js/src/tilemath.ts and js/src/colors.ts; keep them in sync.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import imagecodecs
import numpy as np

from ..formats._shared.murmur import fmix32 as murmur_fmix32
from ..formats.base import ELEMENT_CLASSES, dtype_of_element_class
from .palette import decode_palette_tile, encode_palette_tile
from .protocol import ENCODING_PNG_PALETTE, ENCODING_PNG_PLANES, ENCODING_RAW_PLANES, PLANE_AXES

Vec3 = tuple[int, int, int]

# WEBKNOSSOS element class -> numpy dtype (little-endian, as sent to the browser).
ELEMENT_DTYPES: dict[str, str] = {
    cls: dtype_of_element_class(cls).newbyteorder("<").str for cls in ELEMENT_CLASSES
}


def dtype_name(dtype: Any) -> str:
    """The element-class-like name of a dtype as used in tile messages ("uint8", "float", ...)."""
    dt = np.dtype(dtype)
    for name, code in ELEMENT_DTYPES.items():
        if np.dtype(code) == dt.newbyteorder("<"):
            return name
    raise ValueError(f"unsupported dtype {dt}")


# ---------------------------------------------------------------------------------------
# Tile geometry


@dataclass(frozen=True)
class TileRegion:
    """What to read for one tile and where the data sits inside the tile.

    `offset`/`size` are in mag-1 voxels (x, y, z), ready for `layer.read`; `u0, v0, w, h`
    are in voxels of the tile's mag, relative to the tile's corner.
    """

    offset: Vec3
    size: Vec3
    u0: int
    v0: int
    w: int
    h: int


def _floor_div(a: int, b: int) -> int:
    return a // b


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def tile_region(
    plane: str,
    mag: Sequence[int],
    slice_index: int,
    tile: Sequence[int],
    tile_size: int,
    bbox: tuple[Sequence[int], Sequence[int]],
) -> TileRegion | None:
    """The box of one tile (plane, mag, slice, tile index), clipped to the bounding box.

    Returns None when the tile lies outside the layer's bounding box (at that mag).
    """
    u_ax, v_ax, w_ax = PLANE_AXES[plane]
    m = [int(c) for c in mag]
    top_left, extent = bbox
    lo = [_floor_div(int(top_left[a]), m[a]) for a in range(3)]
    hi = [_ceil_div(int(top_left[a]) + int(extent[a]), m[a]) for a in range(3)]
    i, j = int(tile[0]), int(tile[1])
    if not lo[w_ax] <= slice_index < hi[w_ax]:
        return None
    u_start, v_start = i * tile_size, j * tile_size
    u_a, u_b = max(u_start, lo[u_ax]), min(u_start + tile_size, hi[u_ax])
    v_a, v_b = max(v_start, lo[v_ax]), min(v_start + tile_size, hi[v_ax])
    if u_a >= u_b or v_a >= v_b:
        return None
    start = [0, 0, 0]
    stop = [0, 0, 0]
    start[u_ax], stop[u_ax] = u_a, u_b
    start[v_ax], stop[v_ax] = v_a, v_b
    start[w_ax], stop[w_ax] = slice_index, slice_index + 1
    offset = (start[0] * m[0], start[1] * m[1], start[2] * m[2])
    size = ((stop[0] - start[0]) * m[0], (stop[1] - start[1]) * m[1], (stop[2] - start[2]) * m[2])
    return TileRegion(offset, size, u_a - u_start, v_a - v_start, u_b - u_a, v_b - v_a)


def plane_image(block: np.ndarray, plane: str) -> np.ndarray:
    """A (x, y, z) block one voxel thick along the plane's normal -> a 2D image (v, u).

    Rows are the screen's vertical axis (v), columns the horizontal one (u).
    """
    if block.ndim != 3:
        raise ValueError(f"expected a 3D (x, y, z) block, got shape {block.shape}")
    if plane == "xy":
        img = block[:, :, 0].T  # (y, x)
    elif plane == "xz":
        img = block[:, 0, :].T  # (z, x)
    elif plane == "yz":
        img = block[0, :, :]  # (y, z)
    else:
        raise ValueError(f"unknown plane {plane!r}")
    return np.ascontiguousarray(img)


def select_channel(data: np.ndarray, channel: int | None) -> np.ndarray:
    """(c, x, y, z) or (x, y, z) data -> the (x, y, z) block of one channel."""
    if data.ndim == 3:
        return data
    if data.ndim != 4:
        raise ValueError(f"expected (c, x, y, z) data, got shape {data.shape}")
    if data.shape[0] == 1:
        return data[0]
    index = int(channel or 0)
    if not 0 <= index < data.shape[0]:
        raise ValueError(f"channel {index} out of range (0..{data.shape[0] - 1})")
    return data[index]


# ---------------------------------------------------------------------------------------
# Raw tiles


def _byte_planes(img: np.ndarray) -> np.ndarray:
    """A 2D image -> the uint8 image (h * itemsize, w) of its little-endian byte planes."""
    if img.ndim != 2:
        raise ValueError("byte planes need a 2D image")
    h, w = img.shape
    if img.dtype == np.bool_:
        img = img.astype(np.uint8)
    le = np.ascontiguousarray(img, dtype=img.dtype.newbyteorder("<"))
    itemsize = le.dtype.itemsize
    if itemsize == 1:
        return le.view(np.uint8)
    planes = le.view(np.uint8).reshape(h, w, itemsize).transpose(2, 0, 1)
    return np.ascontiguousarray(planes).reshape(itemsize * h, w)


PNG_FILTER_NONE = 8  # libpng's filter flags
PNG_FILTER_SUB = 16


def _png_gray8(stacked: np.ndarray, level: int = 1, png_filter: int = PNG_FILTER_SUB) -> bytes:
    # zlib level 1, run-length strategy, "sub" filter: ~3x faster than the defaults at
    # about the same size for images, and far smaller for segment ids
    return bytes(imagecodecs.png_encode(stacked, level=level, strategy=3, filter=png_filter))


def encode_png_planes(img: np.ndarray, level: int = 1) -> bytes:
    """Encode a 2D image of any supported dtype losslessly as an 8-bit grayscale PNG.

    The PNG has height `h * itemsize`: rows `k*h .. (k+1)*h` hold byte k (little-endian)
    of every value. Byte planes keep the constant high bytes of ids or small values
    apart, so they compress to almost nothing.
    """
    if img.ndim != 2:
        raise ValueError("encode_png_planes needs a 2D image")
    return _png_gray8(_byte_planes(img), level)


def encode_raw_planes(img: np.ndarray) -> bytes:
    """The byte planes of `encode_png_planes` uncompressed: ``h * itemsize`` rows of ``w`` bytes."""
    if img.ndim != 2:
        raise ValueError("encode_raw_planes needs a 2D image")
    return _byte_planes(img).tobytes()


# A raw-value tile travels as a PNG only when that PNG is at most this fraction of the
# raw bytes. Noisy images (EM, light microscopy) barely compress (60-80 %), and their
# bytes cost less to move through the Jupyter server than inflating and unfiltering them
# costs the browser's main thread (about 1 ms per 256^2 tile); segment ids, masks and
# smooth images compress to a few percent and stay PNG.
RAW_PLANES_PNG_MAX_RATIO = 0.5


def encode_value_tile(img: np.ndarray, ids: bool = False) -> tuple[str, bytes]:
    """A raw-value tile -> (encoding, payload): ``"png-planes"``, ``"raw-planes"`` or, for
    `ids` (segmentation) with few distinct ids, ``"png-palette"`` (see palette.py).
    `ids` otherwise: no PNG filter, since runs of one id are already runs of equal
    bytes; ~15 % smaller than "sub", and the browser copies rows instead of unfiltering."""
    if img.ndim != 2:
        raise ValueError("encode_value_tile needs a 2D image")
    if ids:
        palette = encode_palette_tile(img)
        if palette is not None:
            return ENCODING_PNG_PALETTE, palette
        stacked = _byte_planes(img)
        png = _png_gray8(stacked, png_filter=PNG_FILTER_NONE)
        if len(png) > RAW_PLANES_PNG_MAX_RATIO * stacked.nbytes:
            return ENCODING_RAW_PLANES, stacked.tobytes()
        return ENCODING_PNG_PLANES, png
    stacked = _byte_planes(img)
    if stacked.shape[0] >= 64:
        # every 8th row first (the PNG's "sub" filter works within rows): ~8x cheaper, and
        # enough to tell noise from ids or smooth images
        probe = np.ascontiguousarray(stacked[::8])
        if len(_png_gray8(probe)) > 1.1 * RAW_PLANES_PNG_MAX_RATIO * probe.nbytes:
            return ENCODING_RAW_PLANES, stacked.tobytes()
    png = _png_gray8(stacked)
    if len(png) > RAW_PLANES_PNG_MAX_RATIO * stacked.nbytes:
        return ENCODING_RAW_PLANES, stacked.tobytes()
    return ENCODING_PNG_PLANES, png


def decode_raw_planes(data: bytes, dtype: Any, h: int, w: int) -> np.ndarray:
    """The inverse of `encode_raw_planes`."""
    dt = np.dtype(dtype).newbyteorder("<")
    stacked = np.frombuffer(data, dtype=np.uint8)
    if stacked.size != dt.itemsize * h * w:
        raise ValueError(f"unexpected raw tile size {stacked.size} for {h}x{w} {dt}")
    planes = stacked.reshape(dt.itemsize, h, w).transpose(1, 2, 0)
    return np.ascontiguousarray(planes).view(dt).reshape(h, w)


def decode_value_tile(encoding: str, data: bytes, dtype: Any, h: int, w: int) -> np.ndarray:
    """Decode a raw-value tile of either encoding."""
    if encoding == ENCODING_RAW_PLANES:
        return decode_raw_planes(data, dtype, h, w)
    if encoding == ENCODING_PNG_PLANES:
        return decode_png_planes(data, dtype, h, w)
    if encoding == ENCODING_PNG_PALETTE:
        return decode_palette_tile(data, dtype, h, w)
    raise ValueError(f"unknown raw-value tile encoding {encoding!r}")


def decode_png_planes(data: bytes, dtype: Any, h: int, w: int) -> np.ndarray:
    """The inverse of `encode_png_planes` (the browser has its own in js/src/png.ts)."""
    dt = np.dtype(dtype).newbyteorder("<")
    stacked = np.asarray(imagecodecs.png_decode(data), dtype=np.uint8)
    if stacked.shape != (dt.itemsize * h, w):
        raise ValueError(f"unexpected PNG shape {stacked.shape} for {h}x{w} {dt}")
    planes = stacked.reshape(dt.itemsize, h, w).transpose(1, 2, 0)
    return np.ascontiguousarray(planes).view(dt).reshape(h, w)


# ---------------------------------------------------------------------------------------
# Colors


def default_range(element_class: str) -> tuple[float, float]:
    """Contrast range used before anything better is known (WEBKNOSSOS's defaults)."""
    ranges = {
        "uint8": (0.0, 255.0),
        "int8": (-128.0, 127.0),
        "uint16": (0.0, 65535.0),
        "int16": (-32768.0, 32767.0),
    }
    return ranges.get(element_class, (0.0, 255.0))


def window(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map values linearly from [lo, hi] to 0..255 (uint8), clipping outside."""
    v = values.astype(np.float64, copy=False)
    if hi == lo:
        return np.where(v >= hi, 255, 0).astype(np.uint8)
    t = (v - lo) * (255.0 / (hi - lo))
    t = np.nan_to_num(t, nan=0.0, posinf=255.0, neginf=0.0)
    return np.floor(np.clip(t, 0.0, 255.0) + 0.5).astype(np.uint8)


def render_color_rgba(
    img: np.ndarray, value_range: Sequence[float], color: Sequence[int] = (255, 255, 255)
) -> np.ndarray:
    """A color layer's plane -> RGBA (h, w, 4): windowed intensity times the layer color."""
    g = window(img, float(value_range[0]), float(value_range[1])).astype(np.uint16)
    out = np.empty((*img.shape, 4), dtype=np.uint8)
    for k in range(3):
        out[..., k] = (g * int(color[k]) + 127) // 255
    out[..., 3] = 255
    return out


_U32 = 0xFFFFFFFF
_GOLDEN = 0x9E3779B9


def fmix32(h: int) -> int:
    """MurmurHash3's 32-bit finalizer (the same in js/src/colors.ts)."""
    return murmur_fmix32(h & _U32)


def segment_hash(segment_id: int) -> int:
    lo = segment_id & _U32
    hi = (segment_id >> 32) & _U32
    return fmix32(lo ^ fmix32(hi ^ _GOLDEN))


def _hsv_to_rgb(hue: float, sat: float, val: float) -> tuple[int, int, int]:
    i = int(hue * 6.0)
    f = hue * 6.0 - i
    p = val * (1.0 - sat)
    q = val * (1.0 - f * sat)
    t = val * (1.0 - (1.0 - f) * sat)
    r, g, b = [
        (val, t, p),
        (q, val, p),
        (p, val, t),
        (p, q, val),
        (t, p, val),
        (val, p, q),
    ][i % 6]
    return (int(r * 255.0 + 0.5), int(g * 255.0 + 0.5), int(b * 255.0 + 0.5))


def segment_color(segment_id: int) -> tuple[int, int, int]:
    """The color of a segment id (0 is transparent background; any int64 wraps to uint64)."""
    h = segment_hash(int(segment_id) & 0xFFFFFFFFFFFFFFFF)
    hue = (h & 0xFFFF) / 65536.0
    sat = 0.6 + ((h >> 16) & 0xFF) / 255.0 * 0.4
    val = 0.85 + ((h >> 24) & 0xFF) / 255.0 * 0.15
    return _hsv_to_rgb(hue, sat, val)


def render_segmentation_rgba(
    ids: np.ndarray, alpha: int = 255, highlight: int | None = None
) -> np.ndarray:
    """Segment ids (h, w) -> RGBA with hashed colors; id 0 is transparent.

    A `highlight`ed id is drawn brighter and opaque.
    """
    flat = ids.reshape(-1)
    uniq, inverse = np.unique(flat, return_inverse=True)
    palette = np.zeros((len(uniq), 4), dtype=np.uint8)
    for n, value in enumerate(uniq.tolist()):
        if value == 0:
            continue
        r, g, b = segment_color(int(value))
        if highlight is not None and int(value) == int(highlight):
            palette[n] = ((r + 255) // 2, (g + 255) // 2, (b + 255) // 2, 255)
        else:
            palette[n] = (r, g, b, alpha)
    return palette[inverse].reshape(*ids.shape, 4)


def composite(
    layers: Sequence[tuple[np.ndarray, str, float]], background: Sequence[int] = (0, 0, 0)
) -> np.ndarray:
    """Blend RGBA planes of equal shape: (rgba, category, opacity) in drawing order.

    Color layers add up (as in WEBKNOSSOS); segmentation is drawn over them with its
    per-pixel alpha times the layer opacity.
    """
    if not layers:
        raise ValueError("nothing to composite")
    shape = layers[0][0].shape[:2]
    acc = np.empty((*shape, 3), dtype=np.float64)
    acc[...] = np.asarray(background, dtype=np.float64)[:3]
    for rgba, category, opacity in layers:
        if rgba.shape[:2] != shape:
            raise ValueError("layers to composite differ in shape")
        rgb = rgba[..., :3].astype(np.float64)
        a = rgba[..., 3:4].astype(np.float64) / 255.0 * float(opacity)
        # segmentation is drawn over; color layers add up
        acc = acc * (1.0 - a) + rgb * a if category == "segmentation" else acc + rgb * a
    out = np.empty((*shape, 4), dtype=np.uint8)
    out[..., :3] = np.floor(np.clip(acc, 0.0, 255.0) + 0.5).astype(np.uint8)
    out[..., 3] = 255
    return out


def encode_image(rgba: np.ndarray, fmt: str = "png", quality: int = 90) -> bytes:
    """Encode an RGBA (h, w, 4) image as PNG (lossless) or WebP (lossless when quality >= 100)."""
    if rgba.ndim != 3 or rgba.shape[2] not in (3, 4) or rgba.dtype != np.uint8:
        raise ValueError("encode_image needs a uint8 (h, w, 3|4) image")
    if fmt == "png":
        return bytes(imagecodecs.png_encode(rgba, level=1))
    if fmt == "webp":
        if quality >= 100:
            return bytes(imagecodecs.webp_encode(rgba, lossless=True))
        return bytes(imagecodecs.webp_encode(rgba, level=quality))
    raise ValueError(f"unknown image format {fmt!r}; use png or webp")


def render_layer_rgba(
    img: np.ndarray,
    category: str,
    value_range: Sequence[float] | None = None,
    color: Sequence[int] | None = None,
    highlight: int | None = None,
) -> np.ndarray:
    """One layer's 2D plane -> RGBA, as the browser would draw it at opacity 1."""
    if category == "segmentation":
        return render_segmentation_rgba(img, alpha=255, highlight=highlight)
    lo, hi = value_range if value_range is not None else (0.0, 255.0)
    return render_color_rgba(img, (lo, hi), color if color is not None else (255, 255, 255))
