"""Test datasets written by independent writers, with the truth an explorer must find.

Every dataset here is written by a third-party writer (ome-zarr, zarr-python,
tensorstore, cloud-volume, the webknossos library), never by ``wk_widget``. What a
correct explorer must report (voxel size, unit, layers, mags, element class, ...) is
stated from what the writer was *told*; the voxel values of every resolution level are
saved as ``.npy`` "truth" files (for levels a writer downsampled itself, as read back
with that writer's own reader).

No pytest dependency::

    from tests.support.datasets import generate_all
    manifest = generate_all(Path(".cache/datasets"))
    case = manifest.case("ngff04_multiscale_uint16")
    uri = manifest.uri(case, served_base)    # served_base: where manifest.root is served
    for case, layer in manifest.layers():    # every layer of the cases that must work
        truth = manifest.load_truth(layer.truth[0])   # dims: layer.expected_dims

or from a shell: ``python tests/support/datasets.py OUT_DIR`` (prints the manifest path).

Layout of ``cache_root/<key>/``: the datasets under their ``relpath``, the truth arrays
under ``_truth/``, and ``manifest.json``. ``key`` hashes this file and the writers'
versions, so a later call (in any process) finds the finished folder and returns at
once. Generation writes into a temporary folder and renames it into place.

Conventions of the manifest:

- ``voxel_size``/``unit``: as the metadata states them (``voxel_size_nm`` converts);
  an explorer may report the same physical size in another unit.
- ``bounding_box``: ``((x, y, z) topLeft, (width, height, depth))`` in mag-1 voxels.
- ``mag_paths``: path of each mag's array relative to the case folder (``relpath``;
  ``""`` is the folder itself); the mag URI is ``<served base>/<relpath>/<mag_path>``
  (``Manifest.mag_uri``).
- names: the dataset name is ``multiscales[0].name`` (NGFF), ``id.name``
  (WEBKNOSSOS) or else the folder's base name; a layer is named after its omero
  channel label (special characters removed), else its image's name, else the folder.
  Folders are named unlike the metadata names on purpose. ``alt_names`` lists names
  that are also defensible (WEBKNOSSOS calls a label image ``labels-<name>``).
- ``channel_index``: set for every layer cut from an array with a ``c`` axis (NGFF),
  None when the array has no ``c`` axis or the layer keeps all channels
  (precomputed ``num_channels`` 2 is one layer with 2 channels).
- ``coordinate_transformations``: None when none is needed (no or zero translation;
  an explorer may still write an identity); else the affine WEBKNOSSOS writes.
- ``truth``: one entry per mag, finest first. The array has the layer's
  ``expected_dims`` (extra axes such as ``t`` first, then ``c``, ``x``, ``y``, ``z``;
  ``c`` has ``num_channels`` entries: 1 for a layer that picks one channel with
  ``channel_index``) and covers the whole level; ``offset`` is the (x, y, z) position
  of its first voxel, in voxels of that mag.
- ``default_view_configuration``: the keys given must match; an explorer may add more
  (WEBKNOSSOS also adds ``min``/``max`` from an omero window).
- ``expected_error``: for bad inputs; exploring (or at the latest reading) must fail
  with a message containing at least one of these substrings (case-insensitive).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

Vec3 = tuple[int, int, int]
BBox = tuple[Vec3, Vec3]

SCHEMA_VERSION = 1
MANIFEST_FILE = "manifest.json"
TRUTH_DIR = "_truth"
WRITER_PACKAGES = (
    "numpy",
    "zarr",
    "numcodecs",
    "ome-zarr",
    "tensorstore",
    "cloud-volume",
    "webknossos",
    "imagecodecs",
    "compresso",
)
UNIT_TO_NM = {"nanometer": 1.0, "micrometer": 1e3, "millimeter": 1e6, "angstrom": 0.1}


# --------------------------------------------------------------------------- manifest


@dataclass
class TruthLevel:
    """Voxel values of one mag of one layer."""

    mag: Vec3
    npy: str  # path of the .npy file, relative to Manifest.root
    offset: Vec3  # (x, y, z) of the array's first voxel, in voxels of this mag
    shape: tuple[int, ...]  # shape of the array, in the layer's expected_dims order
    lossy: bool = False  # True for lossy encodings (jpeg): compare with tolerance
    tolerance: float = 0.0  # max. absolute difference per voxel when lossy


@dataclass
class ExpectedLayer:
    name: str
    category: str  # "color" | "segmentation"
    data_format: str  # "zarr" | "zarr3" | "n5" | "neuroglancerPrecomputed"
    element_class: str  # "uint8".."uint64", "int8".."int64", "float", "double"
    bounding_box: BBox
    num_channels: int
    channel_index: int | None
    mags: list[Vec3]
    mag_paths: list[str]
    expected_dims: tuple[str, ...]
    # Axis names of the stored arrays in their metadata's dimension order (zarr: shape
    # order; N5: `dimensions` order, fastest first; precomputed: x, y, z, c).
    array_axes: list[str]
    truth: list[TruthLevel]
    largest_segment_id: int | None = None
    additional_axes: list[dict[str, Any]] = field(default_factory=list)
    default_view_configuration: dict[str, Any] | None = None
    # Affine entries a correct reader derives (NGFF translation), else None.
    coordinate_transformations: list[dict[str, Any]] | None = None
    # Other names a reader may reasonably give (e.g. WEBKNOSSOS' "labels-<name>").
    alt_names: list[str] = field(default_factory=list)


@dataclass
class DatasetCase:
    id: str
    writer: str  # "ome-zarr" | "zarr-python" | "tensorstore" | "cloud-volume" | "webknossos"
    relpath: str  # folder under Manifest.root to publish
    format: str  # "webknossos" | "ngff-0.4" | "ngff-0.5" | "zarr2" | "zarr3" | "n5" | ...
    name: str | None = None  # expected dataset name (None for bad inputs)
    voxel_size: tuple[float, float, float] | None = None
    unit: str | None = None
    layers: list[ExpectedLayer] = field(default_factory=list)
    uri_suffix: str = ""  # appended to the folder URI, e.g. "/.zattrs" or "/info"
    expected_error: list[str] | None = None  # substrings, any of them, case-insensitive
    notes: str = ""

    @property
    def voxel_size_nm(self) -> tuple[float, float, float] | None:
        if self.voxel_size is None or self.unit is None:
            return None
        f = UNIT_TO_NM[self.unit]
        x, y, z = self.voxel_size
        return (x * f, y * f, z * f)

    def layer(self, name: str) -> ExpectedLayer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"{self.id} has no layer {name!r}")


@dataclass
class Manifest:
    root: Path
    key: str
    versions: dict[str, str]
    cases: list[DatasetCase]
    generation_seconds: float = 0.0
    schema_version: int = SCHEMA_VERSION

    def case(self, case_id: str) -> DatasetCase:
        for case in self.cases:
            if case.id == case_id:
                return case
        raise KeyError(f"no dataset case {case_id!r}")

    def path(self, case: DatasetCase | str) -> Path:
        """Local folder of a case (what gets published)."""
        c = self.case(case) if isinstance(case, str) else case
        return self.root / c.relpath

    def uri(self, case: DatasetCase, base: str) -> str:
        """The URI a user would paste, given where ``root`` is served (``base``)."""
        return f"{base.rstrip('/')}/{case.relpath}{case.uri_suffix}"

    def mag_uri(self, case: DatasetCase, layer: ExpectedLayer, index: int, base: str) -> str:
        """Expected absolute path of mag ``index`` of ``layer`` (no trailing slash)."""
        return "/".join(p for p in (base.rstrip("/"), case.relpath, layer.mag_paths[index]) if p)

    def load_truth(self, level: TruthLevel) -> np.ndarray:
        return np.load(self.root / level.npy)

    def ok_cases(self) -> list[DatasetCase]:
        return [c for c in self.cases if c.expected_error is None]

    def bad_cases(self) -> list[DatasetCase]:
        return [c for c in self.cases if c.expected_error is not None]

    def layers(self) -> list[tuple[DatasetCase, ExpectedLayer]]:
        """Every (case, layer) pair of the cases that must explore fine."""
        return [(c, layer) for c in self.ok_cases() for layer in c.layers]

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["root"] = str(self.root)
        return json.loads(json.dumps(d))  # tuples -> lists

    @classmethod
    def from_json(cls, d: dict[str, Any], root: Path | None = None) -> Manifest:
        return cls(
            root=Path(root if root is not None else d["root"]),
            key=d["key"],
            versions=dict(d["versions"]),
            cases=[_case_from_json(c) for c in d["cases"]],
            generation_seconds=float(d.get("generation_seconds", 0.0)),
            schema_version=int(d.get("schema_version", SCHEMA_VERSION)),
        )


def _vec3(v: Sequence[Any]) -> Vec3:
    return (int(v[0]), int(v[1]), int(v[2]))


def _truth_from_json(d: dict[str, Any]) -> TruthLevel:
    return TruthLevel(
        mag=_vec3(d["mag"]),
        npy=d["npy"],
        offset=_vec3(d["offset"]),
        shape=tuple(int(s) for s in d["shape"]),
        lossy=bool(d["lossy"]),
        tolerance=float(d["tolerance"]),
    )


def _layer_from_json(d: dict[str, Any]) -> ExpectedLayer:
    d = dict(d)
    d["bounding_box"] = (_vec3(d["bounding_box"][0]), _vec3(d["bounding_box"][1]))
    d["mags"] = [_vec3(m) for m in d["mags"]]
    d["expected_dims"] = tuple(d["expected_dims"])
    d["truth"] = [_truth_from_json(t) for t in d["truth"]]
    return ExpectedLayer(**d)


def _case_from_json(d: dict[str, Any]) -> DatasetCase:
    d = dict(d)
    d.pop("voxel_size_nm", None)
    if d["voxel_size"] is not None:
        d["voxel_size"] = tuple(float(v) for v in d["voxel_size"])
    d["layers"] = [_layer_from_json(layer) for layer in d["layers"]]
    return DatasetCase(**d)


def load_manifest(root: Path) -> Manifest:
    return Manifest.from_json(json.loads((root / MANIFEST_FILE).read_text()), root=root)


# --------------------------------------------------------------------------- cache


def writer_versions() -> dict[str, str]:
    versions = {"python": f"{sys.version_info.major}.{sys.version_info.minor}"}
    for pkg in WRITER_PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "missing"
    return versions


def cache_key(versions: dict[str, str] | None = None) -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(json.dumps(versions or writer_versions(), sort_keys=True).encode())
    return h.hexdigest()[:16]


def generate_all(cache_root: Path) -> Manifest:
    """Write every dataset (once) into ``cache_root/<key>/`` and return its manifest."""
    cache_root = Path(cache_root).resolve()
    versions = writer_versions()
    key = cache_key(versions)
    final = cache_root / key
    if (final / MANIFEST_FILE).is_file():
        return load_manifest(final)
    cache_root.mkdir(parents=True, exist_ok=True)
    _prune(cache_root, keep=key)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=cache_root))
    try:
        start = time.perf_counter()
        ctx = _Ctx(tmp)
        cases = [make(ctx) for make in CASES]
        _check_unique_ids(cases)
        manifest = Manifest(
            root=final,
            key=key,
            versions=versions,
            cases=cases,
            generation_seconds=round(time.perf_counter() - start, 2),
        )
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest.to_json(), indent=1))
        try:
            tmp.rename(final)
        except OSError:
            if not (final / MANIFEST_FILE).is_file():  # not a concurrent winner: a real error
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return load_manifest(final)


def _prune(cache_root: Path, keep: str) -> None:
    """Drop other keys' finished folders and temporary folders older than an hour."""
    for path in cache_root.iterdir():
        stale_tmp = path.name.startswith(".tmp-") and time.time() - path.stat().st_mtime > 3600
        old_key = (
            path.name != keep
            and len(path.name) == len(keep)
            and all(ch in "0123456789abcdef" for ch in path.name)
            and (path / MANIFEST_FILE).is_file()
        )
        unfinished = path.name == keep and not (path / MANIFEST_FILE).is_file()
        if stale_tmp or old_key or unfinished:
            shutil.rmtree(path, ignore_errors=True)


def _check_unique_ids(cases: list[DatasetCase]) -> None:
    ids = [c.id for c in cases]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"duplicate case ids: {sorted(dupes)}")


class _Ctx:
    """Where a case function writes, and how it saves truth arrays."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, relpath: str) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def truth(
        self,
        case_id: str,
        layer: str,
        mag: Vec3,
        data: np.ndarray,
        offset: Vec3 = (0, 0, 0),
        tolerance: float | None = None,
    ) -> TruthLevel:
        rel = f"{TRUTH_DIR}/{case_id}/{layer}/{'-'.join(map(str, mag))}.npy"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, np.ascontiguousarray(data))
        return TruthLevel(
            mag=mag,
            npy=rel,
            offset=offset,
            shape=tuple(int(s) for s in data.shape),
            lossy=tolerance is not None,
            tolerance=float(tolerance or 0.0),
        )


# --------------------------------------------------------------------------- data helpers


def noise(shape: Sequence[int], dtype: Any, seed: int) -> np.ndarray:
    """Deterministic random values spanning (much of) the dtype's range."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (rng.standard_normal(tuple(shape)) * 1000.0).astype(dt)
    info = np.iinfo(dt)
    low, high = max(int(info.min), -30000), min(int(info.max), 60000)
    return rng.integers(low, high, size=tuple(shape), endpoint=True, dtype=dt)


def smooth(shape_xyz: Vec3, seed: int) -> np.ndarray:
    """Smooth uint8 values (suits jpeg), dims x, y, z."""
    x, y, z = np.meshgrid(*(np.arange(n, dtype=np.float64) for n in shape_xyz), indexing="ij")
    v = 128 + 60 * np.sin(x / 9.0 + seed) * np.cos(y / 13.0) + 40 * np.sin(z / 5.0)
    return np.clip(np.rint(v), 0, 255).astype(np.uint8)


def segments(shape_xyz: Vec3, dtype: Any, block: Vec3 = (12, 10, 4), base: int = 1) -> np.ndarray:
    """Blocky segment ids (several voxels per segment, some background 0), dims x, y, z."""
    idx = np.meshgrid(
        *(np.arange(n) // b for n, b in zip(shape_xyz, block, strict=True)), indexing="ij"
    )
    nx = -(-shape_xyz[0] // block[0])
    ny = -(-shape_xyz[1] // block[1])
    ids = base + idx[0] + nx * (idx[1] + ny * idx[2])
    ids[(idx[0] + idx[1] + idx[2]) % 5 == 0] = 0
    return ids.astype(dtype)


def downsample(vol: np.ndarray, factors: Sequence[int]) -> np.ndarray:
    """Nearest-neighbour downsampling by striding over the last len(factors) dims."""
    lead = (slice(None),) * (vol.ndim - len(factors))
    return np.ascontiguousarray(vol[(*lead, *(slice(None, None, f) for f in factors))])


def _edit_json(path: Path, edit: Callable[[Any], Any]) -> None:
    data = json.loads(path.read_text())
    result = edit(data)
    path.write_text(json.dumps(data if result is None else result, indent=2))


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def to_contract_dims(
    arr: np.ndarray, axes: Sequence[str], channel_index: int | None = None
) -> np.ndarray:
    """Reorder an array with named ``axes`` to the contract's dims (extra..., c, x, y, z).

    A missing ``c`` or ``z`` axis is added with size 1; ``channel_index`` keeps just
    that channel (as a ``c`` axis of size 1).
    """
    names = list(axes)
    if len(names) != arr.ndim:
        raise ValueError(f"axes {names} do not match an array of {arr.ndim} dims")
    if "z" not in names:
        arr, names = arr[..., None], [*names, "z"]
    if "c" not in names:
        arr, names = arr[None], ["c", *names]
    elif channel_index is not None:
        c = names.index("c")
        arr = np.take(arr, [channel_index], axis=c)
    extra = [n for n in names if n not in ("c", "x", "y", "z")]
    order = [names.index(n) for n in [*extra, "c", "x", "y", "z"]]
    return np.ascontiguousarray(arr.transpose(order))


def contract_dims(axes: Sequence[str]) -> tuple[str, ...]:
    return (*[a for a in axes if a not in ("c", "x", "y", "z")], "c", "x", "y", "z")


def xyz_bbox(shape_xyz: Sequence[int], top_left: Sequence[int] = (0, 0, 0)) -> BBox:
    return (_vec3(top_left), _vec3(shape_xyz))


ELEMENT_CLASSES = {
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "float32": "float",
    "float64": "double",
}


def layer(
    ctx: _Ctx,
    case_id: str,
    name: str,
    *,
    data_format: str,
    axes: Sequence[str],
    levels: Sequence[np.ndarray],
    mags: Sequence[Vec3],
    mag_paths: Sequence[str],
    bounding_box: BBox,
    category: str = "color",
    channel_index: int | None = None,
    offsets: Sequence[Vec3] | None = None,
    tolerance: float | None = None,
    **expected: Any,
) -> ExpectedLayer:
    """An ExpectedLayer whose truth is ``levels`` (arrays in the writer's ``axes``)."""
    if not len(levels) == len(mags) == len(mag_paths):
        raise ValueError(f"{case_id}/{name}: levels, mags and mag_paths differ in length")
    truth = [
        ctx.truth(
            case_id,
            name,
            mag,
            to_contract_dims(data, axes, channel_index),
            offsets[i] if offsets else (0, 0, 0),
            tolerance,
        )
        for i, (mag, data) in enumerate(zip(mags, levels, strict=True))
    ]
    return ExpectedLayer(
        name=name,
        category=category,
        data_format=data_format,
        element_class=ELEMENT_CLASSES[np.dtype(levels[0].dtype).name],
        bounding_box=bounding_box,
        num_channels=truth[0].shape[-4],
        channel_index=channel_index,
        mags=list(mags),
        mag_paths=list(mag_paths),
        expected_dims=contract_dims(axes),
        array_axes=list(axes),
        truth=truth,
        **expected,
    )


# =========================================================================== ome-zarr

UM3 = {"z": "micrometer", "y": "micrometer", "x": "micrometer"}
NM3 = {"z": "nanometer", "y": "nanometer", "x": "nanometer"}
ZYX = ("z", "y", "x")
MAGS_221: list[Vec3] = [(1, 1, 1), (2, 2, 1), (4, 4, 1), (8, 8, 1)]


@contextlib.contextmanager
def _quiet_warnings() -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _read_zarr(path: Path) -> np.ndarray:
    import zarr

    return np.asarray(zarr.open_array(path, mode="r")[...])


def _ome_write(
    path: Path,
    image: np.ndarray,
    *,
    name: str,
    axes: str,
    scale: dict[str, float],
    units: dict[str, str],
    chunks: Sequence[int],
    levels: int,
    version: str = "0.4",
    **metadata: Any,
) -> list[np.ndarray]:
    """Write with ome-zarr (y/x halved per level), return every level as read back.

    Level 0 is exactly ``image``; the others are ome-zarr's own downsampling, read
    back with zarr-python.
    """
    import zarr
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image

    fmt = FormatV04() if version == "0.4" else FormatV05()
    group = zarr.open_group(path, mode="w", zarr_format=2 if version == "0.4" else 3)
    with _quiet_warnings():
        write_image(
            image,
            group,
            scale_factors=[2**i for i in range(1, levels)],
            name=name,
            fmt=fmt,
            axes=axes,
            scale=scale,
            axes_units=units,
            storage_options={"chunks": tuple(chunks)},
            **metadata,
        )
    return [image, *(_read_zarr(path / f"s{i}") for i in range(1, levels))]


def _omero_channel(
    label: str, color: str, start: float, end: float, active: bool, vmax: float
) -> dict[str, Any]:
    window = {"start": start, "end": end, "min": 0, "max": vmax}
    return {"label": label, "color": color, "window": window, "active": active}


def ngff04_multiscale_uint16(ctx: _Ctx) -> DatasetCase:
    """3D uint16 (z, y, x), 3 levels by ome-zarr's scaler, omero, and a labels image."""
    cid, rel = "ngff04_multiscale_uint16", "ngff04/image_a.ome.zarr"
    path = ctx.folder(rel)
    image = noise((40, 150, 130), np.uint16, seed=1)
    scale = {"z": 2.0, "y": 0.5, "x": 0.5}
    omero = {"channels": [_omero_channel("nuclei", "FF8000", 100, 40000, True, 65535)]}
    levels = _ome_write(
        path,
        image,
        name="sample_a",
        axes="zyx",
        scale=scale,
        units=UM3,
        chunks=(16, 64, 64),
        levels=3,
        omero=omero,
    )

    import zarr
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_labels

    labels = segments((130, 150, 40), np.uint32).transpose(2, 1, 0)  # x, y, z -> z, y, x
    with _quiet_warnings():
        write_labels(
            labels,
            zarr.open_group(path, mode="r+"),
            name="cells",
            scaler=None,
            scale_factors=[2, 4],
            fmt=FormatV04(),
            axes="zyx",
            scale=scale,
            axes_units=UM3,
            storage_options={"chunks": (16, 64, 64)},
        )
    label_paths = [f"labels/cells/s{i}" for i in range(3)]
    label_levels = [labels, *(_read_zarr(path / p) for p in label_paths[1:])]
    bbox = xyz_bbox((130, 150, 40))
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=rel,
        format="ngff-0.4",
        name="sample_a",
        voxel_size=(0.5, 0.5, 2.0),
        unit="micrometer",
        notes="ome-zarr floors level shapes (s2 is 37 x 32 in y, x) and writes the exact "
        "shape ratio as the level's scale (2.027.., 2.03125), so mags must be rounded. "
        "Every dataset has a translation: zero for s0 (no offset), half-voxel shifts below. "
        "WEBKNOSSOS names the label layer 'labels-cells'.",
        layers=[
            layer(
                ctx,
                cid,
                "nuclei",
                data_format="zarr",
                axes=ZYX,
                levels=levels,
                mags=MAGS_221[:3],
                mag_paths=["s0", "s1", "s2"],
                bounding_box=bbox,
                default_view_configuration={
                    "color": [255, 128, 0],
                    "intensityRange": [100, 40000],
                    "isDisabled": False,
                },
            ),
            layer(
                ctx,
                cid,
                "cells",
                data_format="zarr",
                axes=ZYX,
                levels=label_levels,
                mags=MAGS_221[:3],
                mag_paths=label_paths,
                bounding_box=bbox,
                category="segmentation",
                alt_names=["labels-cells"],
            ),
        ],
    )


def ngff04_two_channels_uint8(ctx: _Ctx) -> DatasetCase:
    """(c, z, y, x) with 2 channels: one color layer per channel, names from omero."""
    cid, rel = "ngff04_two_channels_uint8", "ngff04/channels_c2.ome.zarr"
    image = noise((2, 24, 100, 90), np.uint8, seed=2)
    omero = {
        "channels": [
            _omero_channel("DAPI", "0000FF", 0, 200, True, 255),
            _omero_channel("GFP/1", "00FF00", 10, 250, False, 255),
        ]
    }
    levels = _ome_write(
        ctx.folder(rel),
        image,
        name="two_channels",
        axes="czyx",
        scale={"c": 1.0, "z": 40.0, "y": 10.0, "x": 10.0},
        units=NM3,
        chunks=(1, 8, 32, 32),
        levels=2,
        omero=omero,
    )
    common: dict[str, Any] = dict(
        data_format="zarr",
        axes=("c", *ZYX),
        levels=levels,
        mags=MAGS_221[:2],
        mag_paths=["s0", "s1"],
        bounding_box=xyz_bbox((90, 100, 24)),
    )
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=rel,
        uri_suffix="/.zattrs",
        format="ngff-0.4",
        name="two_channels",
        voxel_size=(10.0, 10.0, 40.0),
        unit="nanometer",
        notes="layer names from omero labels with special characters removed ('GFP/1' -> 'GFP1')",
        layers=[
            layer(
                ctx,
                cid,
                "DAPI",
                channel_index=0,
                **common,
                default_view_configuration={
                    "color": [0, 0, 255],
                    "intensityRange": [0, 200],
                    "isDisabled": False,
                },
            ),
            layer(
                ctx,
                cid,
                "GFP1",
                channel_index=1,
                **common,
                default_view_configuration={
                    "color": [0, 255, 0],
                    "intensityRange": [10, 250],
                    "isDisabled": True,
                },
            ),
        ],
    )


def ngff04_timelapse_float32(ctx: _Ctx) -> DatasetCase:
    """5D (t, c, z, y, x) float32 with t = 3: additional axis t."""
    cid, rel = "ngff04_timelapse_float32", "ngff04/tczyx.ome.zarr"
    image = noise((3, 1, 12, 40, 50), np.float32, seed=3)
    levels = _ome_write(
        ctx.folder(rel),
        image,
        name="timelapse",
        axes="tczyx",
        scale={"t": 1.0, "c": 1.0, "z": 4.0, "y": 2.0, "x": 2.0},
        units={"t": "second", **UM3},
        chunks=(1, 1, 8, 16, 16),
        levels=2,
    )
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=rel,
        format="ngff-0.4",
        name="timelapse",
        voxel_size=(2.0, 2.0, 4.0),
        unit="micrometer",
        layers=[
            layer(
                ctx,
                cid,
                "timelapse",
                data_format="zarr",
                axes=("t", "c", *ZYX),
                levels=levels,
                mags=MAGS_221[:2],
                mag_paths=["s0", "s1"],
                bounding_box=xyz_bbox((50, 40, 12)),
                channel_index=0,
                additional_axes=[{"name": "t", "bounds": [0, 3], "index": 0}],
            ),
        ],
    )


def ngff04_translation_uint8(ctx: _Ctx) -> DatasetCase:
    """Dataset translations in physical units -> an affine coordinateTransformation."""
    cid, rel = "ngff04_translation_uint8", "ngff04/with_offset.ome.zarr"
    path = ctx.folder(rel)
    image = noise((20, 64, 80), np.uint8, seed=4)
    levels = _ome_write(
        path,
        image,
        name="translated",
        axes="zyx",
        scale={"z": 2.0, "y": 0.5, "x": 0.5},
        units=UM3,
        chunks=(8, 32, 32),
        levels=2,
    )
    # Rewrite the metadata through ome-zarr's own API with translations (z, y, x) in
    # micrometer: s0 at (10, 5, 2.5) um = (5, 10, 5) voxels in (x, y, z).
    import zarr
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_multiscales_metadata

    group = zarr.open_group(path, mode="r+")
    attrs: dict[str, Any] = dict(group.attrs.asdict())
    axes = attrs["multiscales"][0]["axes"]
    datasets = [
        {
            "path": "s0",
            "coordinateTransformations": [
                {"type": "scale", "scale": [2.0, 0.5, 0.5]},
                {"type": "translation", "translation": [10.0, 5.0, 2.5]},
            ],
        },
        {
            "path": "s1",
            "coordinateTransformations": [
                {"type": "scale", "scale": [2.0, 1.0, 1.0]},
                {"type": "translation", "translation": [10.0, 5.25, 2.75]},
            ],
        },
    ]
    write_multiscales_metadata(group, datasets, fmt=FormatV04(), axes=axes, name="translated")
    affine = [[1, 0, 0, 5.0], [0, 1, 0, 10.0], [0, 0, 1, 5.0], [0, 0, 0, 1]]
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=rel,
        format="ngff-0.4",
        name="translated",
        voxel_size=(0.5, 0.5, 2.0),
        unit="micrometer",
        notes="s0 translation (z, y, x) = (10, 5, 2.5) micrometer = (x, y, z) (5, 10, 5) "
        "mag-1 voxels. Like WEBKNOSSOS, the bounding box keeps topLeft 0 and the layer gets "
        "coordinateTransformations [{type: affine, matrix: [[1,0,0,5],[0,1,0,10],[0,0,1,5],"
        "[0,0,0,1]]}] (translation in voxels = s0 translation / s0 scale).",
        layers=[
            layer(
                ctx,
                cid,
                "translated",
                data_format="zarr",
                axes=ZYX,
                levels=levels,
                mags=MAGS_221[:2],
                mag_paths=["s0", "s1"],
                bounding_box=xyz_bbox((80, 64, 20)),
                coordinate_transformations=[{"type": "affine", "matrix": affine}],
            ),
        ],
    )


def ngff04_2d_uint16(ctx: _Ctx) -> DatasetCase:
    """2D (y, x) image: depth 1, voxel z size 1."""
    cid, rel = "ngff04_2d_uint16", "ngff04/flat.ome.zarr"
    image = noise((70, 90), np.uint16, seed=5)
    levels = _ome_write(
        ctx.folder(rel),
        image,
        name="flat2d",
        axes="yx",
        scale={"y": 0.25, "x": 0.25},
        units={"y": "micrometer", "x": "micrometer"},
        chunks=(32, 32),
        levels=2,
    )
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=rel,
        format="ngff-0.4",
        name="flat2d",
        voxel_size=(0.25, 0.25, 1.0),
        unit="micrometer",
        notes="no z axis: depth 1; the z voxel size is 1 (in the dataset unit), as in WEBKNOSSOS",
        layers=[
            layer(
                ctx,
                cid,
                "flat2d",
                data_format="zarr",
                axes=("y", "x"),
                levels=levels,
                mags=MAGS_221[:2],
                mag_paths=["s0", "s1"],
                bounding_box=xyz_bbox((90, 70, 1)),
            ),
        ],
    )


def ngff05_multiscale_uint8(ctx: _Ctx) -> DatasetCase:
    """OME-Zarr 0.5 (zarr v3) 3D image, 2 levels, omero under attributes.ome."""
    cid, rel = "ngff05_multiscale_uint8", "ngff05/image_v05.ome.zarr"
    image = noise((30, 70, 90), np.uint8, seed=6)
    omero = {"channels": [_omero_channel("membrane", "FFFFFF", 5, 250, True, 255)]}
    levels = _ome_write(
        ctx.folder(rel),
        image,
        name="v05_image",
        axes="zyx",
        scale={"z": 40.0, "y": 8.0, "x": 8.0},
        units=NM3,
        chunks=(16, 32, 32),
        levels=2,
        version="0.5",
        omero=omero,
    )
    return DatasetCase(
        id=cid,
        writer="ome-zarr",
        relpath=rel,
        uri_suffix="/zarr.json",
        format="ngff-0.5",
        name="v05_image",
        voxel_size=(8.0, 8.0, 40.0),
        unit="nanometer",
        layers=[
            layer(
                ctx,
                cid,
                "membrane",
                data_format="zarr3",
                axes=ZYX,
                levels=levels,
                mags=MAGS_221[:2],
                mag_paths=["s0", "s1"],
                bounding_box=xyz_bbox((90, 70, 30)),
                default_view_configuration={
                    "color": [255, 255, 255],
                    "intensityRange": [5, 250],
                    "isDisabled": False,
                },
            ),
        ],
    )


# =========================================================================== zarr-python


def _plain_zarr_case(
    ctx: _Ctx,
    cid: str,
    data: np.ndarray,
    *,
    fmt: str,
    uri_suffix: str = "",
    notes: str = "",
    **create: Any,
) -> DatasetCase:
    """A plain (z, y, x) array: mag 1 only, voxel size 1 nanometer, x = last dim."""
    import zarr

    rel = f"zarr/{cid}"
    arr = zarr.create_array(
        ctx.folder(rel),
        shape=data.shape,
        dtype=data.dtype,
        zarr_format=2 if fmt == "zarr2" else 3,
        **create,
    )
    arr[...] = data
    return DatasetCase(
        id=cid,
        writer="zarr-python",
        relpath=rel,
        uri_suffix=uri_suffix,
        format=fmt,
        name=cid,
        voxel_size=(1.0, 1.0, 1.0),
        unit="nanometer",
        notes=notes,
        layers=[
            layer(
                ctx,
                cid,
                cid,
                data_format="zarr" if fmt == "zarr2" else "zarr3",
                axes=ZYX,
                levels=[data],
                mags=[(1, 1, 1)],
                mag_paths=[""],
                bounding_box=xyz_bbox(data.shape[::-1]),
            ),
        ],
    )


def zarr2_uint8_blosc(ctx: _Ctx) -> DatasetCase:
    import numcodecs

    return _plain_zarr_case(
        ctx,
        "zarr2_uint8_blosc",
        noise((40, 100, 130), np.uint8, 11),
        fmt="zarr2",
        uri_suffix="/.zarray",
        chunks=(16, 32, 32),
        compressors=numcodecs.Blosc(cname="lz4", clevel=5),
    )


def zarr2_uint16_forder_slash(ctx: _Ctx) -> DatasetCase:
    import numcodecs

    return _plain_zarr_case(
        ctx,
        "zarr2_uint16_forder_slash",
        noise((30, 70, 90), np.uint16, 12),
        fmt="zarr2",
        chunks=(16, 32, 32),
        order="F",
        chunk_key_encoding={"name": "v2", "separator": "/"},
        compressors=numcodecs.Zstd(level=3),
        notes='.zarray has order "F" (chunks stored Fortran order) and dimension_separator "/"',
    )


def zarr3_int16_gzip(ctx: _Ctx) -> DatasetCase:
    from zarr.codecs import GzipCodec

    return _plain_zarr_case(
        ctx,
        "zarr3_int16_gzip",
        noise((30, 70, 90), np.int16, 13),
        fmt="zarr3",
        uri_suffix="/zarr.json",
        chunks=(16, 32, 32),
        compressors=[GzipCodec(level=5)],
    )


def zarr3_uint16_transpose_crc32c(ctx: _Ctx) -> DatasetCase:
    from zarr.codecs import Crc32cCodec, TransposeCodec, ZstdCodec

    return _plain_zarr_case(
        ctx,
        "zarr3_uint16_transpose_crc32c",
        noise((25, 60, 70), np.uint16, 14),
        fmt="zarr3",
        chunks=(16, 32, 32),
        filters=[TransposeCodec(order=(2, 1, 0))],
        compressors=[ZstdCodec(level=3), Crc32cCodec()],
        notes="codecs: transpose(order [2,1,0]), bytes, zstd, crc32c",
    )


def zarr3_sharded_uint8(ctx: _Ctx) -> DatasetCase:
    return _plain_zarr_case(
        ctx,
        "zarr3_sharded_uint8",
        noise((50, 100, 130), np.uint8, 15),
        fmt="zarr3",
        chunks=(16, 16, 16),
        shards=(32, 64, 64),
        notes="sharding_indexed: shards (32, 64, 64) of chunks (16, 16, 16), "
        "partial shards at every upper edge; index bytes+crc32c at the end",
    )


def zarr3_v2_chunk_keys_uint32(ctx: _Ctx) -> DatasetCase:
    return _plain_zarr_case(
        ctx,
        "zarr3_v2_chunk_keys_uint32",
        noise((30, 70, 90), np.uint32, 16),
        fmt="zarr3",
        chunks=(16, 32, 32),
        chunk_key_encoding={"name": "v2", "separator": "."},
        notes='chunk_key_encoding v2 with ".": keys like "0.1.2" (no c/ prefix)',
    )


def zarr3_float64(ctx: _Ctx) -> DatasetCase:
    from zarr.codecs import ZstdCodec

    return _plain_zarr_case(
        ctx,
        "zarr3_float64",
        noise((20, 50, 60), np.float64, 17),
        fmt="zarr3",
        chunks=(8, 32, 32),
        compressors=[ZstdCodec(level=3)],
    )


# =========================================================================== tensorstore: N5


def _ts_n5_write(
    path: Path, vol_xyz: np.ndarray, block: Sequence[int], compression: dict[str, Any]
) -> None:
    """N5 via tensorstore: its dims are N5's `dimensions` (x fastest): pass x, y, z."""
    import tensorstore as ts

    dtype = np.dtype(vol_xyz.dtype).name
    spec = {
        "driver": "n5",
        "kvstore": {"driver": "file", "path": str(path)},
        "metadata": {
            "dimensions": list(vol_xyz.shape),
            "blockSize": list(block),
            "dataType": dtype,
            "compression": compression,
        },
    }
    store = ts.open(spec, create=True, delete_existing=True).result()
    store[...] = vol_xyz


def _n5_plain_case(
    ctx: _Ctx, cid: str, vol_xyz: np.ndarray, compression: dict[str, Any], uri_suffix: str = ""
) -> DatasetCase:
    rel = f"n5/{cid}"
    _ts_n5_write(ctx.folder(rel), vol_xyz, (32, 32, 16), compression)
    return DatasetCase(
        id=cid,
        writer="tensorstore",
        relpath=rel,
        uri_suffix=uri_suffix,
        format="n5",
        name=cid,
        voxel_size=(1.0, 1.0, 1.0),
        unit="nanometer",
        notes="plain N5 array: no resolution, so 1 nanometer like plain zarr arrays",
        layers=[
            layer(
                ctx,
                cid,
                cid,
                data_format="n5",
                axes=("x", "y", "z"),
                levels=[vol_xyz],
                mags=[(1, 1, 1)],
                mag_paths=[""],
                bounding_box=xyz_bbox(vol_xyz.shape),
            ),
        ],
    )


def n5_uint16_gzip(ctx: _Ctx) -> DatasetCase:
    return _n5_plain_case(
        ctx, "n5_uint16_gzip", noise((100, 70, 30), np.uint16, 21), {"type": "gzip"}
    )


def n5_uint8_raw(ctx: _Ctx) -> DatasetCase:
    return _n5_plain_case(
        ctx,
        "n5_uint8_raw",
        noise((90, 60, 25), np.uint8, 22),
        {"type": "raw"},
        uri_suffix="/attributes.json",
    )


def n5_float32_blosc(ctx: _Ctx) -> DatasetCase:
    return _n5_plain_case(
        ctx,
        "n5_float32_blosc",
        noise((70, 50, 20), np.float32, 23),
        {"type": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
    )


def n5_int32_zstd(ctx: _Ctx) -> DatasetCase:
    return _n5_plain_case(
        ctx, "n5_int32_zstd", noise((60, 50, 20), np.int32, 24), {"type": "zstd", "level": 3}
    )


def n5_channels_uint8(ctx: _Ctx) -> DatasetCase:
    """4-D N5 with a channel dimension (`dimensions` x, y, z, c): one layer per channel."""
    cid = "n5_channels_uint8"
    rel = f"n5/{cid}"
    xyzc = np.ascontiguousarray(noise((3, 40, 30, 12), np.uint8, 25).transpose(1, 2, 3, 0))
    _ts_n5_write(ctx.folder(rel), xyzc, (16, 16, 8, 1), {"type": "gzip"})
    return DatasetCase(
        id=cid,
        writer="tensorstore",
        relpath=rel,
        format="n5",
        name=cid,
        voxel_size=(1.0, 1.0, 1.0),
        unit="nanometer",
        notes="every channel readable; exported axisOrder names c in N5 positions",
        layers=[
            layer(
                ctx,
                cid,
                f"{cid}_c{ch}",
                data_format="n5",
                axes=("x", "y", "z", "c"),
                levels=[xyzc],
                mags=[(1, 1, 1)],
                mag_paths=[""],
                bounding_box=xyz_bbox((40, 30, 12)),
                channel_index=ch,
            )
            for ch in range(3)
        ],
    )


def _n5_pyramid(
    ctx: _Ctx,
    rel: str,
    vol_xyz: np.ndarray,
    mags: Sequence[Vec3],
    extra_attrs: Callable[[int, Vec3], dict[str, Any]],
) -> list[np.ndarray]:
    """s0..sN by tensorstore (data downsampled here, by striding); returns the levels."""
    levels = [downsample(vol_xyz, mag) for mag in mags]
    for i, (mag, data) in enumerate(zip(mags, levels, strict=True)):
        path = ctx.folder(f"{rel}/s{i}")
        _ts_n5_write(path, data, (32, 32, 16), {"type": "gzip"})
        attrs_path = path / "attributes.json"
        attrs_path.write_text(
            json.dumps({**json.loads(attrs_path.read_text()), **extra_attrs(i, mag)}, indent=2)
        )
    return levels


def n5_multiscales_cosem(ctx: _Ctx) -> DatasetCase:
    """COSEM style: group `multiscales[0].datasets[].transform{axes, scale, units}`."""
    cid, rel = "n5_multiscales_cosem", "n5/cosem_multiscale"
    mags: list[Vec3] = [(1, 1, 1), (2, 2, 1), (4, 4, 2)]
    base_zyx = (8.0, 4.0, 4.0)  # voxel size (z, y, x) in nm

    def transform(mag: Vec3) -> dict[str, Any]:
        scale = [base_zyx[0] * mag[2], base_zyx[1] * mag[1], base_zyx[2] * mag[0]]
        return {
            "axes": ["z", "y", "x"],
            "scale": scale,
            "translate": [0.0, 0.0, 0.0],
            "units": ["nm", "nm", "nm"],
        }

    levels = _n5_pyramid(
        ctx, rel, noise((100, 80, 30), np.uint8, 25), mags, lambda i, m: {"transform": transform(m)}
    )
    _write_json(
        ctx.folder(rel) / "attributes.json",
        {
            "n5": "2.5.1",
            "multiscales": [
                {
                    "name": "cosem_multiscale",
                    "datasets": [
                        {"path": f"s{i}", "transform": transform(m)} for i, m in enumerate(mags)
                    ],
                }
            ],
        },
    )
    return DatasetCase(
        id=cid,
        writer="tensorstore",
        relpath=rel,
        format="n5-multiscales-cosem",
        name="cosem_multiscale",
        voxel_size=(4.0, 4.0, 8.0),
        unit="nanometer",
        notes="arrays by tensorstore; group attributes.json written here in the COSEM layout "
        "(axes listed z, y, x = reverse of N5 `dimensions`); level data downsampled here",
        layers=[
            layer(
                ctx,
                cid,
                "cosem_multiscale",
                data_format="n5",
                axes=("x", "y", "z"),
                levels=levels,
                mags=mags,
                mag_paths=["s0", "s1", "s2"],
                bounding_box=xyz_bbox((100, 80, 30)),
            ),
        ],
    )


def n5_multiscales_bdv(ctx: _Ctx) -> DatasetCase:
    """BigDataViewer / n5-viewer style: `multiScale`, `resolution`, `downsamplingFactors`."""
    cid, rel = "n5_multiscales_bdv", "n5/bdv_multiscale"
    mags: list[Vec3] = [(1, 1, 1), (2, 2, 1), (4, 4, 2)]
    levels = _n5_pyramid(
        ctx,
        rel,
        noise((90, 70, 24), np.uint16, 26),
        mags,
        lambda i, m: {"downsamplingFactors": list(m)},
    )
    _write_json(
        ctx.folder(rel) / "attributes.json",
        {
            "n5": "2.5.1",
            "multiScale": True,
            "resolution": [0.25, 0.25, 1.0],
            "downsamplingFactors": [list(m) for m in mags],
        },
    )
    return DatasetCase(
        id=cid,
        writer="tensorstore",
        relpath=rel,
        format="n5-multiscales-bdv",
        name="bdv_multiscale",
        voxel_size=(0.25, 0.25, 1.0),
        unit="micrometer",
        notes="no unit given: micrometer (N5 default). resolution/downsamplingFactors are "
        "x, y, z; each sN also has its own downsamplingFactors attribute",
        layers=[
            layer(
                ctx,
                cid,
                "bdv_multiscale",
                data_format="n5",
                axes=("x", "y", "z"),
                levels=levels,
                mags=mags,
                mag_paths=["s0", "s1", "s2"],
                bounding_box=xyz_bbox((90, 70, 24)),
            ),
        ],
    )


# =========================================================================== tensorstore: precomputed


def _ts_precomputed(
    path: Path,
    levels_xyzc: Sequence[np.ndarray],
    *,
    kind: str,
    resolutions: Sequence[Sequence[float]],
    chunk: Sequence[int],
    encoding: str = "raw",
    offset: Sequence[int] = (0, 0, 0),
    **scale_extra: Any,
) -> list[str]:
    """Precomputed via tensorstore, one scale after the other (never delete_existing)."""
    import tensorstore as ts

    first = levels_xyzc[0]
    for i, (data, res) in enumerate(zip(levels_xyzc, resolutions, strict=True)):
        factor = [int(r // r0) for r, r0 in zip(res, resolutions[0], strict=True)]
        scale = {
            "resolution": list(res),
            "size": list(data.shape[:3]),
            "chunk_size": list(chunk),
            "voxel_offset": [o // f for o, f in zip(offset, factor, strict=True)],
            "encoding": encoding,
            **scale_extra,
        }
        spec: dict[str, Any] = {
            "driver": "neuroglancer_precomputed",
            "kvstore": {"driver": "file", "path": str(path)},
            "scale_metadata": scale,
        }
        if i == 0:
            spec["multiscale_metadata"] = {
                "type": kind,
                "data_type": first.dtype.name,
                "num_channels": first.shape[3],
            }
        store = ts.open(spec, create=True, open=i > 0).result()
        store[...] = data
    info = json.loads((path / "info").read_text())
    return [scale["key"] for scale in info["scales"]]


def _precomputed_case(
    ctx: _Ctx,
    cid: str,
    vol_xyzc: np.ndarray,
    *,
    kind: str = "image",
    factors: Sequence[Vec3] = ((1, 1, 1),),
    resolution: Sequence[float] = (4.0, 4.0, 40.0),
    chunk: Sequence[int] = (32, 32, 8),
    tolerance: float | None = None,
    uri_suffix: str = "",
    notes: str = "",
    **scale_extra: Any,
) -> DatasetCase:
    rel = f"precomputed/{cid}"
    levels = [downsample(vol_xyzc, (*f, 1)) for f in factors]
    resolutions = [[r * f for r, f in zip(resolution, fac, strict=True)] for fac in factors]
    keys = _ts_precomputed(
        ctx.folder(rel), levels, kind=kind, resolutions=resolutions, chunk=chunk, **scale_extra
    )
    return DatasetCase(
        id=cid,
        writer="tensorstore",
        relpath=rel,
        uri_suffix=uri_suffix,
        format="precomputed",
        name=cid,
        voxel_size=_vec3f(resolution),
        unit="nanometer",
        notes=notes,
        layers=[
            layer(
                ctx,
                cid,
                cid,
                data_format="neuroglancerPrecomputed",
                axes=("x", "y", "z", "c"),
                levels=levels,
                mags=list(factors),
                mag_paths=keys,
                bounding_box=xyz_bbox(vol_xyzc.shape[:3]),
                tolerance=tolerance,
                category="segmentation" if kind == "segmentation" else "color",
            ),
        ],
    )


def _vec3f(v: Sequence[float]) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


JPEG_TOLERANCE = 24.0  # max. abs. difference per voxel (quality 75 on smooth data gives ~8)


def precomputed_raw_multiscale_uint8(ctx: _Ctx) -> DatasetCase:
    return _precomputed_case(
        ctx,
        "precomputed_raw_multiscale_uint8",
        noise((100, 90, 20, 1), np.uint8, 31),
        factors=[(1, 1, 1), (2, 2, 1)],
        uri_suffix="/info",
        encoding="raw",
    )


def precomputed_jpeg_uint8(ctx: _Ctx) -> DatasetCase:
    vol = smooth((100, 90, 20), seed=32)[..., None]
    return _precomputed_case(
        ctx,
        "precomputed_jpeg_uint8",
        vol,
        encoding="jpeg",
        tolerance=JPEG_TOLERANCE,
        notes="lossy: truth is what tensorstore was given",
    )


def precomputed_segmentation_cseg_uint64(ctx: _Ctx) -> DatasetCase:
    vol = segments((100, 90, 20), np.uint64, base=2**33)[..., None]
    return _precomputed_case(
        ctx,
        "precomputed_segmentation_cseg_uint64",
        vol,
        kind="segmentation",
        factors=[(1, 1, 1), (2, 2, 1)],
        encoding="compressed_segmentation",
        compressed_segmentation_block_size=[8, 8, 8],
        notes="ids above 2**32 (uint64 matters); no largestSegmentId in info",
    )


def precomputed_sharded_identity_uint8(ctx: _Ctx) -> DatasetCase:
    sharding = {
        "@type": "neuroglancer_uint64_sharded_v1",
        "hash": "identity",
        "preshift_bits": 0,
        "minishard_bits": 1,
        "shard_bits": 2,
        "minishard_index_encoding": "gzip",
        "data_encoding": "raw",
    }
    return _precomputed_case(
        ctx,
        "precomputed_sharded_identity_uint8",
        noise((100, 90, 20, 1), np.uint8, 33),
        chunk=(16, 16, 8),
        sharding=sharding,
        notes="126 chunks (7 x 6 x 3) in 4 shard files 0.shard..3.shard",
    )


def precomputed_sharded_murmur_gzip_uint16(ctx: _Ctx) -> DatasetCase:
    sharding = {
        "@type": "neuroglancer_uint64_sharded_v1",
        "hash": "murmurhash3_x86_128",
        "preshift_bits": 1,
        "minishard_bits": 2,
        "shard_bits": 2,
        "minishard_index_encoding": "gzip",
        "data_encoding": "gzip",
    }
    return _precomputed_case(
        ctx,
        "precomputed_sharded_murmur_gzip_uint16",
        noise((100, 90, 20, 1), np.uint16, 34),
        chunk=(16, 16, 8),
        factors=[(1, 1, 1), (2, 2, 1)],
        sharding=sharding,
    )


def precomputed_two_channels_uint16(ctx: _Ctx) -> DatasetCase:
    return _precomputed_case(
        ctx,
        "precomputed_two_channels_uint16",
        noise((60, 50, 16, 2), np.uint16, 35),
        chunk=(32, 32, 8),
        notes="num_channels 2: one layer with 2 channels (the c dim); "
        "WEBKNOSSOS itself ignores num_channels",
    )


# =========================================================================== cloud-volume


def cloudvolume_segmentation_offset_uint32(ctx: _Ctx) -> DatasetCase:
    """Precomputed segmentation by cloud-volume with voxel_offset (10, 20, 5), 2 scales."""
    from cloudvolume import CloudVolume

    cid, rel = "cloudvolume_segmentation_offset_uint32", "cloudvolume/segmentation_offset"
    url = ctx.folder(rel).resolve().as_uri()
    offset, size = (10, 20, 5), (70, 60, 20)
    info = CloudVolume.create_new_info(
        num_channels=1,
        layer_type="segmentation",
        data_type="uint32",
        encoding="raw",
        resolution=[8, 8, 40],
        voxel_offset=list(offset),
        volume_size=list(size),
        chunk_size=[32, 32, 8],
    )
    vol = CloudVolume(url, info=info, compress=False, progress=False)
    vol.add_scale((2, 2, 1), chunk_size=[32, 32, 8])
    vol.commit_info()
    data = segments(size, np.uint32, block=(7, 9, 3))[..., None]
    levels = [data, downsample(data, (2, 2, 1, 1))]
    offsets: list[Vec3] = [offset, (5, 10, 5)]
    for mip, level in enumerate(levels):
        CloudVolume(url, mip=mip, compress=False, progress=False)[...] = level
    return DatasetCase(
        id=cid,
        writer="cloud-volume",
        relpath=rel,
        format="precomputed",
        name="segmentation_offset",
        voxel_size=(8.0, 8.0, 40.0),
        unit="nanometer",
        notes="info has no '@type'; resolutions are ints; chunk files are named from the "
        "voxel_offset (10-42_20-52_5-13), scale 2 offset (5, 10, 5)",
        layers=[
            layer(
                ctx,
                cid,
                "segmentation_offset",
                data_format="neuroglancerPrecomputed",
                axes=("x", "y", "z", "c"),
                levels=levels,
                mags=[(1, 1, 1), (2, 2, 1)],
                mag_paths=["8_8_40", "16_16_40"],
                bounding_box=xyz_bbox(size, offset),
                offsets=offsets,
                category="segmentation",
            ),
        ],
    )


def cloudvolume_compresso_uint32(ctx: _Ctx) -> DatasetCase:
    """Precomputed segmentation in `compresso` by cloud-volume: voxel_offset, partial edge
    chunks, 2 scales (what cloud-volume / igneous write for segmentations)."""
    from cloudvolume import CloudVolume

    cid, rel = "cloudvolume_compresso_uint32", "cloudvolume/compresso"
    url = ctx.folder(rel).resolve().as_uri()
    offset, size = (3, 5, 7), (70, 50, 20)
    info = CloudVolume.create_new_info(
        num_channels=1,
        layer_type="segmentation",
        data_type="uint32",
        encoding="compresso",
        resolution=[8, 8, 8],
        voxel_offset=list(offset),
        volume_size=list(size),
        chunk_size=[32, 32, 16],
    )
    vol = CloudVolume(url, info=info, compress=False, progress=False)
    vol.add_scale((2, 2, 2), chunk_size=[32, 32, 16])
    vol.commit_info()
    data = segments(size, np.uint32, block=(9, 7, 5), base=1000)[..., None]
    levels = [data, downsample(data, (2, 2, 2, 1))]
    offsets: list[Vec3] = [offset, (1, 2, 3)]
    for mip, level in enumerate(levels):
        CloudVolume(url, mip=mip, compress=False, progress=False)[...] = level
    return DatasetCase(
        id=cid,
        writer="cloud-volume",
        relpath=rel,
        format="precomputed",
        name="compresso",
        voxel_size=(8.0, 8.0, 8.0),
        unit="nanometer",
        notes="compresso chunks; scale 2 voxel_offset (1, 2, 3)",
        layers=[
            layer(
                ctx,
                cid,
                "compresso",
                data_format="neuroglancerPrecomputed",
                axes=("x", "y", "z", "c"),
                levels=levels,
                mags=[(1, 1, 1), (2, 2, 2)],
                mag_paths=["8_8_8", "16_16_16"],
                bounding_box=xyz_bbox(size, offset),
                offsets=offsets,
                category="segmentation",
            ),
        ],
    )


def precomputed_jxl_uint8(ctx: _Ctx) -> DatasetCase:
    """Precomputed `jxl` chunks written with imagecodecs (lossless JPEG XL), laid out like
    Neuroglancer's jpeg chunks: an image x wide and y * z high."""
    import imagecodecs

    cid, rel = "precomputed_jxl_uint8", "precomputed/jxl"
    root = ctx.folder(rel)
    size, chunk = (50, 40, 6), (32, 32, 4)
    vol = smooth(size, seed=33)
    _write_json(
        root / "info",
        {
            "@type": "neuroglancer_multiscale_volume",
            "type": "image",
            "data_type": "uint8",
            "num_channels": 1,
            "scales": [
                {
                    "key": "4_4_40",
                    "size": list(size),
                    "voxel_offset": [0, 0, 0],
                    "resolution": [4, 4, 40],
                    "chunk_sizes": [list(chunk)],
                    "encoding": "jxl",
                }
            ],
        },
    )
    (root / "4_4_40").mkdir()
    for x0 in range(0, size[0], chunk[0]):
        for y0 in range(0, size[1], chunk[1]):
            for z0 in range(0, size[2], chunk[2]):
                x1, y1, z1 = (min(a + c, s) for a, c, s in zip((x0, y0, z0), chunk, size, strict=True))
                block = vol[x0:x1, y0:y1, z0:z1]  # x, y, z
                image = np.ascontiguousarray(block.transpose(2, 1, 0).reshape((z1 - z0) * (y1 - y0), x1 - x0))
                data = imagecodecs.jpegxl_encode(image, lossless=True)
                (root / "4_4_40" / f"{x0}-{x1}_{y0}-{y1}_{z0}-{z1}").write_bytes(data)
    return DatasetCase(
        id=cid,
        writer="imagecodecs",
        relpath=rel,
        format="precomputed",
        name="jxl",
        voxel_size=(4.0, 4.0, 40.0),
        unit="nanometer",
        notes="lossless JPEG XL, so the values are exact",
        layers=[
            layer(
                ctx,
                cid,
                "jxl",
                data_format="neuroglancerPrecomputed",
                axes=("x", "y", "z", "c"),
                levels=[vol[..., None]],
                mags=[(1, 1, 1)],
                mag_paths=["4_4_40"],
                bounding_box=xyz_bbox(size),
            ),
        ],
    )


# =========================================================================== webknossos


def webknossos_zarr3(ctx: _Ctx) -> DatasetCase:
    """A WEBKNOSSOS zarr3 dataset with datasource-properties.json, written by webknossos."""
    with _quiet_warnings():
        import webknossos as wk

    cid, rel = "webknossos_zarr3", "webknossos/sample_wk"
    size = (100, 90, 30)
    color = noise(size, np.uint8, 41)
    seg = segments(size, np.uint32, block=(16, 16, 8))
    largest = int(seg.max())
    chunk, shard = (32, 32, 32), (64, 64, 32)
    with _quiet_warnings():
        ds = wk.Dataset(ctx.folder(rel), voxel_size=(11.24, 11.24, 28.0), name="wk_sample")
        bbox = wk.BoundingBox((0, 0, 0), size)
        c = ds.add_layer(
            "color",
            wk.COLOR_CATEGORY,
            dtype_per_channel="uint8",
            data_format="zarr3",
            bounding_box=bbox,
        )
        c.add_mag(1, chunk_shape=chunk, shard_shape=shard).write(color, absolute_offset=(0, 0, 0))
        c.add_mag("2-2-1", chunk_shape=chunk, shard_shape=shard).write(
            downsample(color, (2, 2, 1)), absolute_offset=(0, 0, 0)
        )
        s = ds.add_layer(
            "segmentation",
            wk.SEGMENTATION_CATEGORY,
            dtype_per_channel="uint32",
            data_format="zarr3",
            bounding_box=bbox,
            largest_segment_id=largest,
        )
        s.add_mag(1, chunk_shape=chunk, shard_shape=shard).write(seg, absolute_offset=(0, 0, 0))
    return DatasetCase(
        id=cid,
        writer="webknossos",
        relpath=rel,
        uri_suffix="/datasource-properties.json",
        format="webknossos",
        name="wk_sample",
        voxel_size=(11.24, 11.24, 28.0),
        unit="nanometer",
        notes="mag paths in the file are './color/1' (relative to the dataset); arrays are "
        "(c, x, y, z) and padded to whole shards (2-2-1 array is 64 x 64 x 32 for a 50 x 45 x "
        "30 level); each layer group is also an OME-Zarr 0.5 image",
        layers=[
            layer(
                ctx,
                cid,
                "color",
                data_format="zarr3",
                axes=("c", "x", "y", "z"),
                levels=[color[None], downsample(color, (2, 2, 1))[None]],
                mags=[(1, 1, 1), (2, 2, 1)],
                mag_paths=["color/1", "color/2-2-1"],
                bounding_box=xyz_bbox(size),
            ),
            layer(
                ctx,
                cid,
                "segmentation",
                data_format="zarr3",
                axes=("c", "x", "y", "z"),
                levels=[seg[None]],
                mags=[(1, 1, 1)],
                mag_paths=["segmentation/1"],
                bounding_box=xyz_bbox(size),
                category="segmentation",
                largest_segment_id=largest,
            ),
        ],
    )


# =========================================================================== bad inputs


def _bad(
    cid: str, writer: str, rel: str, fmt: str, errors: list[str], notes: str, uri_suffix: str = ""
) -> DatasetCase:
    return DatasetCase(
        id=cid,
        writer=writer,
        relpath=rel,
        format=fmt,
        uri_suffix=uri_suffix,
        expected_error=errors,
        notes=notes,
    )


def bad_ngff04_scale_3x(ctx: _Ctx) -> DatasetCase:
    rel = "bad/ngff04_scale_3x.ome.zarr"
    path = ctx.folder(rel)
    _ome_write(
        path,
        noise((10, 40, 40), np.uint8, 51),
        name="scale3x",
        axes="zyx",
        scale={"z": 1.0, "y": 1.0, "x": 1.0},
        units=NM3,
        chunks=(8, 16, 16),
        levels=2,
    )

    def edit(attrs: dict[str, Any]) -> None:
        attrs["multiscales"][0]["datasets"][1]["coordinateTransformations"][0]["scale"] = [
            1.0,
            3.0,
            3.0,
        ]

    _edit_json(path / ".zattrs", edit)
    return _bad(
        "bad_ngff04_scale_3x",
        "ome-zarr",
        rel,
        "ngff-0.4",
        ["power of two", "powers of two", "power-of-two"],
        "s1 scale edited to 3x in y and x",
    )


def bad_zarr2_float16(ctx: _Ctx) -> DatasetCase:
    import zarr

    rel = "bad/zarr2_float16"
    arr = zarr.create_array(
        ctx.folder(rel), shape=(10, 20, 30), chunks=(8, 16, 16), dtype="float16", zarr_format=2
    )
    arr[...] = noise((10, 20, 30), np.float16, 52)
    return _bad(
        "bad_zarr2_float16",
        "zarr-python",
        rel,
        "zarr2",
        ["float16", "<f2", "f2"],
        'valid zarr v2 with dtype "<f2": unsupported element class',
    )


def bad_zarr3_unknown_codec(ctx: _Ctx) -> DatasetCase:
    import zarr

    rel = "bad/zarr3_unknown_codec"
    path = ctx.folder(rel)
    arr = zarr.create_array(
        path, shape=(10, 20, 30), chunks=(8, 16, 16), dtype="uint8", zarr_format=3
    )
    arr[...] = noise((10, 20, 30), np.uint8, 53)
    _edit_json(path / "zarr.json", lambda m: m["codecs"].append({"name": "wk_test_unknown_codec"}))
    return _bad(
        "bad_zarr3_unknown_codec",
        "zarr-python",
        rel,
        "zarr3",
        ["codec", "wk_test_unknown_codec"],
        "zarr.json codecs edited: unknown codec appended",
    )


def bad_ngff04_malformed_zattrs(ctx: _Ctx) -> DatasetCase:
    rel = "bad/ngff04_malformed_zattrs.ome.zarr"
    path = ctx.folder(rel)
    _ome_write(
        path,
        noise((10, 40, 40), np.uint8, 54),
        name="malformed",
        axes="zyx",
        scale={"z": 1.0, "y": 1.0, "x": 1.0},
        units=NM3,
        chunks=(8, 16, 16),
        levels=1,
    )
    text = (path / ".zattrs").read_text()
    (path / ".zattrs").write_text(text[: len(text) // 2])
    return _bad(
        "bad_ngff04_malformed_zattrs",
        "ome-zarr",
        rel,
        "ngff-0.4",
        ["json"],
        ".zattrs cut in half (malformed JSON); .zgroup and s0 are fine",
    )


def bad_precomputed_unknown_encoding(ctx: _Ctx) -> DatasetCase:
    rel = "bad/precomputed_unknown_encoding"
    path = ctx.folder(rel)
    _ts_precomputed(
        path,
        [noise((40, 30, 10, 1), np.uint8, 55)],
        kind="image",
        resolutions=[(4.0, 4.0, 40.0)],
        chunk=(16, 16, 8),
    )
    _edit_json(
        path / "info", lambda info: info["scales"][0].update(encoding="wk_test_unknown_encoding")
    )
    return _bad(
        "bad_precomputed_unknown_encoding",
        "tensorstore",
        rel,
        "precomputed",
        ["encoding", "wk_test_unknown_encoding"],
        "info scale encoding edited",
        uri_suffix="/info",
    )


def bad_n5_unknown_compression(ctx: _Ctx) -> DatasetCase:
    rel = "bad/n5_unknown_compression"
    path = ctx.folder(rel)
    _ts_n5_write(path, noise((40, 30, 10), np.uint8, 56), (16, 16, 8), {"type": "gzip"})
    _edit_json(
        path / "attributes.json",
        lambda a: a.update(compression={"type": "wk_test_unknown_compression"}),
    )
    return _bad(
        "bad_n5_unknown_compression",
        "tensorstore",
        rel,
        "n5",
        ["compression", "wk_test_unknown_compression"],
        "attributes.json compression type edited",
    )


# --------------------------------------------------------------------------- the table

CaseFn = Callable[[_Ctx], DatasetCase]

#: Every case, in manifest order: one function each, writing its data and returning
#: what a correct explorer must find there.
CASES: list[CaseFn] = [
    ngff04_multiscale_uint16,
    ngff04_two_channels_uint8,
    ngff04_timelapse_float32,
    ngff04_translation_uint8,
    ngff04_2d_uint16,
    ngff05_multiscale_uint8,
    zarr2_uint8_blosc,
    zarr2_uint16_forder_slash,
    zarr3_int16_gzip,
    zarr3_uint16_transpose_crc32c,
    zarr3_sharded_uint8,
    zarr3_v2_chunk_keys_uint32,
    zarr3_float64,
    n5_uint16_gzip,
    n5_uint8_raw,
    n5_float32_blosc,
    n5_int32_zstd,
    n5_channels_uint8,
    n5_multiscales_cosem,
    n5_multiscales_bdv,
    precomputed_raw_multiscale_uint8,
    precomputed_jpeg_uint8,
    precomputed_segmentation_cseg_uint64,
    precomputed_sharded_identity_uint8,
    precomputed_sharded_murmur_gzip_uint16,
    precomputed_two_channels_uint16,
    cloudvolume_segmentation_offset_uint32,
    cloudvolume_compresso_uint32,
    precomputed_jxl_uint8,
    webknossos_zarr3,
    bad_ngff04_scale_3x,
    bad_zarr2_float16,
    bad_zarr3_unknown_codec,
    bad_ngff04_malformed_zattrs,
    bad_precomputed_unknown_encoding,
    bad_n5_unknown_compression,
]


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python tests/support/datasets.py CACHE_ROOT", file=sys.stderr)
        return 2
    start = time.perf_counter()
    manifest = generate_all(Path(args[0]))
    took = time.perf_counter() - start
    print(
        f"{manifest.root / MANIFEST_FILE}  ({len(manifest.cases)} cases, {took:.1f} s; "
        f"cold generation took {manifest.generation_seconds:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
