"""Test datasets written by independent writers, with the truth an explorer must find.

One module per format, mirroring ``wk_widget/formats/``: ``ngff``, ``zarr``, ``n5``,
``precomputed`` (with cloud-volume's and imagecodecs' writers) and ``webknossos``, each a
table of case rows; ``core`` holds the manifest records, the cache and the data helpers.

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

or from a shell: ``python -m tests.support.datasets OUT_DIR`` (or the path of this file;
prints the manifest path).

Layout of ``cache_root/<key>/``: the datasets under their ``relpath``, the truth arrays
under ``_truth/``, and ``manifest.json``. ``key`` hashes this package's modules and the writers'
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


# Run by path (``python tests/support/datasets/__init__.py OUT``): import the package
# properly (its modules import each other) and run its command line. This folder must
# leave sys.path: its zarr.py would shadow zarr-python.
if __name__ == "__main__" and not __package__:
    import sys
    from pathlib import Path

    sys.path[0] = str(Path(__file__).resolve().parents[3])
    import tests.support.datasets as _package

    raise SystemExit(_package.main())

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import n5, ngff, precomputed, webknossos, zarr
from .core import (
    ELEMENT_CLASSES,
    MANIFEST_FILE,
    SCHEMA_VERSION,
    TRUTH_DIR,
    UNIT_TO_NM,
    WRITER_PACKAGES,
    BBox,
    CaseFn,
    DatasetCase,
    ExpectedLayer,
    Manifest,
    TruthLevel,
    Vec3,
    cache_key,
    contract_dims,
    downsample,
    generate,
    layer,
    load_manifest,
    noise,
    segments,
    smooth,
    to_contract_dims,
    writer_versions,
    xyz_bbox,
)
from .ngff import _ome_write

_BAD_ORDER = (  # bad inputs last, in the manifest's order
    "bad_ngff04_scale_3x",
    "bad_zarr2_float16",
    "bad_zarr3_unknown_codec",
    "bad_ngff04_malformed_zattrs",
    "bad_precomputed_unknown_encoding",
    "bad_n5_unknown_compression",
)


def _in_order(rows: Sequence[CaseFn], order: Sequence[str]) -> list[CaseFn]:
    by_id = {getattr(row, "id", getattr(row, "__name__", "")): row for row in rows}
    if sorted(by_id) != sorted(order):
        raise ValueError(f"bad-input cases {sorted(by_id)} differ from {sorted(order)}")
    return [by_id[i] for i in order]


#: Every case, in manifest order: each writes its data and returns what a correct explorer
#: must find there.
CASES: list[CaseFn] = [
    *ngff.ROWS,
    *zarr.ROWS,
    *n5.ROWS,
    *precomputed.ROWS,
    *webknossos.ROWS,
    *_in_order([*ngff.BAD, *zarr.BAD, *n5.BAD, *precomputed.BAD], _BAD_ORDER),
]


def generate_all(cache_root: Path) -> Manifest:
    """Write every dataset (once) into ``cache_root/<key>/`` and return its manifest."""
    return generate(cache_root, CASES)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m tests.support.datasets CACHE_ROOT", file=sys.stderr)
        return 2
    start = time.perf_counter()
    manifest = generate_all(Path(args[0]))
    took = time.perf_counter() - start
    print(
        f"{manifest.root / MANIFEST_FILE}  ({len(manifest.cases)} cases, {took:.1f} s; "
        f"cold generation took {manifest.generation_seconds:.1f} s)"
    )
    return 0


__all__ = [
    "CASES",
    "ELEMENT_CLASSES",
    "MANIFEST_FILE",
    "SCHEMA_VERSION",
    "TRUTH_DIR",
    "UNIT_TO_NM",
    "WRITER_PACKAGES",
    "BBox",
    "CaseFn",
    "DatasetCase",
    "ExpectedLayer",
    "Manifest",
    "TruthLevel",
    "Vec3",
    "_ome_write",
    "cache_key",
    "contract_dims",
    "downsample",
    "generate_all",
    "layer",
    "load_manifest",
    "main",
    "noise",
    "segments",
    "smooth",
    "to_contract_dims",
    "writer_versions",
    "xyz_bbox",
]
