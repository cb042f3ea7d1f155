"""The core of the test datasets: manifest records, the on-disk cache, the truth writer and
the data helpers every format's case table uses (see ``tests/support/datasets/__init__.py``)."""

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
PACKAGE_DIR = Path(__file__).resolve().parent

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
    h = hashlib.sha256()
    for source in sorted(PACKAGE_DIR.glob("*.py")):  # the writers' code: every module of the package
        h.update(source.read_bytes())
    h.update(json.dumps(versions or writer_versions(), sort_keys=True).encode())
    return h.hexdigest()[:16]


def generate(cache_root: Path, cases_table: Sequence[CaseFn]) -> Manifest:
    """Write every case of ``cases_table`` (once) into ``cache_root/<key>/`` and return its
    manifest (``generate_all`` of the package passes ``CASES``)."""
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
        cases = [make(ctx) for make in cases_table]
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


CaseFn = Callable[[_Ctx], DatasetCase]


@dataclass(frozen=True)
class CaseRow:
    """One row of a format's case table: the case id, its voxel data (made on demand), the
    format's builder and the writer's options (a function, so that codec objects are made
    only when writing). Calling a row writes the case (a ``CaseFn``)."""

    id: str
    build: Callable[..., DatasetCase]  # build(ctx, id, data, uri_suffix=, notes=, **options)
    data: Callable[[], np.ndarray]
    options: Callable[[], dict[str, Any]] = dict
    uri_suffix: str = ""
    notes: str = ""

    def __call__(self, ctx: _Ctx) -> DatasetCase:
        return build_case(ctx, self)


def build_case(ctx: _Ctx, row: CaseRow) -> DatasetCase:
    """Write one table row's dataset and return what an explorer must find there."""
    extra = {k: v for k, v in (("uri_suffix", row.uri_suffix), ("notes", row.notes)) if v}
    return row.build(ctx, row.id, row.data(), **extra, **row.options())


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


ZYX = ("z", "y", "x")


@contextlib.contextmanager
def _quiet_warnings() -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def one_layer_case(
    ctx: _Ctx,
    cid: str,
    *,
    writer: str,
    relpath: str,
    fmt: str,
    name: str,
    voxel_size: tuple[float, float, float],
    unit: str,
    uri_suffix: str = "",
    notes: str = "",
    layer_name: str | None = None,
    **layer_options: Any,
) -> DatasetCase:
    """A case with one layer (named ``layer_name``, else like the dataset) whose truth is
    ``layer_options["levels"]`` (see ``layer``)."""
    return DatasetCase(
        id=cid,
        writer=writer,
        relpath=relpath,
        uri_suffix=uri_suffix,
        format=fmt,
        name=name,
        voxel_size=voxel_size,
        unit=unit,
        notes=notes,
        layers=[layer(ctx, cid, layer_name or name, **layer_options)],
    )


@dataclass(frozen=True)
class BadRow:
    """One bad input: ``write(folder)`` makes a valid dataset with the format's own writer and
    then breaks it; exploring (or reading) must fail naming one of ``errors``."""

    id: str
    writer: str
    fmt: str
    write: Callable[[Path], None]
    errors: list[str]
    notes: str
    uri_suffix: str = ""
    folder_suffix: str = ""  # e.g. ".ome.zarr"

    @property
    def relpath(self) -> str:
        return f"bad/{self.id.removeprefix('bad_')}{self.folder_suffix}"

    def __call__(self, ctx: _Ctx) -> DatasetCase:
        self.write(ctx.folder(self.relpath))
        return DatasetCase(
            id=self.id,
            writer=self.writer,
            relpath=self.relpath,
            format=self.fmt,
            uri_suffix=self.uri_suffix,
            expected_error=self.errors,
            notes=self.notes,
        )

