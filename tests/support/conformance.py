"""Conformance cases (``wk_widget.testing``) from the generated datasets, served by the real
HTTP server with basic auth (so every read carries credentials that must never show).

Reader cases are named ``(case_id, layer_name or None, mag_index)``; explorer cases by case id.
Mutating tests get a private copy of the case's folder, published under a fresh name.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.datasets import DatasetCase, ExpectedLayer, Manifest
from tests.support.servers import HTTP_AUTH, HttpServer
from wk_widget.storage import HttpBasicAuth
from wk_widget.testing import (
    ExplorerCase,
    ExplorerConformance,
    LayerExpectation,
    ReaderCase,
    ReaderConformance,
)
from wk_widget.testing.served import ServedCopy

SECRETS = (HTTP_AUTH[1], f"{HTTP_AUTH[0]}:{HTTP_AUTH[1]}")
_copies = itertools.count()


def credentials() -> HttpBasicAuth:
    return HttpBasicAuth(*HTTP_AUTH)


def served_root(manifest: Manifest, server: HttpServer) -> str:
    """Where the manifest root is served on `server` (published once)."""
    return server.publish(manifest.root, f"conformance-{manifest.key}")


def copier(manifest: Manifest, case: DatasetCase, server: HttpServer, tmp: Path) -> ServedCopy:
    """A private copy of the case's folder, served under a new name."""
    n = next(_copies)
    local = tmp / f"copy{n}" / Path(case.relpath).name
    shutil.copytree(manifest.path(case), local)
    return ServedCopy(local, server.publish(local, f"conformance-copies/{tmp.name}-{n}"))


def case_id(param: tuple[str, str | None, int]) -> str:
    """pytest id of a (case, layer, level) parameter: its parts joined by '/'."""
    return "/".join(str(p) for p in param if p is not None)


def known_defects(request: pytest.FixtureRequest, defects: Mapping[tuple[str, str], str]) -> None:
    """Mark a (test name, case id) the suite found broken in the formats code: xfail with the
    reason (not strict: the fix lands on another branch), or skip when running it is harmful
    (reason starting with "skip:")."""
    key = (request.node.originalname, request.node.callspec.id)
    reason = defects.get(key)
    if reason is None:
        return
    if reason.startswith("skip:"):
        pytest.skip(f"known defect: {reason[5:].strip()}")
    request.applymarker(pytest.mark.xfail(reason=f"known defect: {reason}", strict=False))


def _layer(case: DatasetCase, name: str | None) -> ExpectedLayer:
    return case.layers[0] if name is None else case.layer(name)


def reader_case(
    manifest: Manifest, server: HttpServer, tmp: Path, param: tuple[str, str | None, int]
) -> ReaderCase:
    """The level ``param`` names, its truth moved back into the array's own dims order."""
    case_id, layer_name, index = param
    case = manifest.case(case_id)
    layer = _layer(case, layer_name)
    level = layer.truth[index]
    truth = manifest.load_truth(level)  # dims: layer.expected_dims (extra..., c, x, y, z)
    dims = list(layer.expected_dims)
    # N5 lists `dimensions` fastest first; its reader's array is in C order (reversed)
    axes = layer.array_axes[::-1] if layer.data_format == "n5" else layer.array_axes
    # axes the array does not have (c or z of size 1) go; the rest in the array's order
    squeeze = tuple(i for i, d in enumerate(dims) if d not in axes)
    assert all(truth.shape[i] == 1 for i in squeeze), f"{case_id}: truth {truth.shape} {dims}"
    truth = truth.squeeze(axis=squeeze) if squeeze else truth
    kept = [d for d in dims if d in axes]
    truth = np.ascontiguousarray(truth.transpose([kept.index(a) for a in axes]))
    starts = {**dict(zip("xyz", level.offset, strict=True)), "c": layer.channel_index or 0}
    origin = tuple(starts.get(a, 0) for a in axes)
    root = served_root(manifest, server)
    return ReaderCase(
        id=f"{case_id}/{layer.name}/{layer.mag_paths[index] or '.'}",
        root_url=f"{root}/{case.relpath}",
        level_path=layer.mag_paths[index],
        data_format=layer.data_format,
        axis_order={a: i for i, a in enumerate(axes)},
        truth=truth,
        truth_origin=origin,
        make_copy=lambda: copier(manifest, case, server, tmp),
        credentials=credentials(),
        secrets=SECRETS,
        tolerance=level.tolerance if level.lossy else 0.0,
    )


# one dataset of each explorer's format: what every other explorer must refuse
FOREIGN = {
    "webknossos": "webknossos_zarr3",
    "ngff-0.4": "ngff04_multiscale_uint16",
    "ngff-0.5": "ngff05_multiscale_uint8",
    "zarr3": "zarr3_sharded_uint8",
    "zarr2": "zarr2_uint8_blosc",
    "n5-multiscales-cosem": "n5_multiscales_cosem",
    "n5-multiscales-bdv": "n5_multiscales_bdv",
    "n5": "n5_uint16_gzip",
    "precomputed": "precomputed_raw_multiscale_uint8",
}


def explorer_case(manifest: Manifest, server: HttpServer, tmp: Path, case_id: str) -> ExplorerCase:
    case = manifest.case(case_id)
    root = served_root(manifest, server)
    foreign = [f"{root}/{manifest.case(other).relpath}" for fmt, other in FOREIGN.items() if fmt != case.format]
    return ExplorerCase(
        id=case_id,
        explorer=case.format,
        root_url=f"{root}/{case.relpath}",
        layers=[
            LayerExpectation(
                name=layer.name,
                data_format=layer.data_format,
                element_class=layer.element_class,
                bounding_box=layer.bounding_box,
                mags=layer.mags,
                category=layer.category,
                num_channels=layer.num_channels,
                alt_names=tuple(layer.alt_names),
            )
            for layer in case.layers
        ],
        foreign_urls=foreign,
        make_copy=lambda: copier(manifest, case, server, tmp),
        credentials=credentials(),
    )


# ------------------------------------------------------------------ one format's suites

ReaderParam = tuple[str, str | None, int]


def _suite(
    name: str,
    base: type[Any],
    fixture_name: str,
    params: Sequence[Any],
    ids: Callable[[Any], str] | None,
    build: Callable[[Manifest, HttpServer, Path, Any], Any],
    known: Mapping[tuple[str, str], str],
) -> type[Any]:
    """``base``'s inherited tests with the fixture ``fixture_name`` over ``params``: each one
    ``build``s a case served by the basic-auth HTTP server; ``known`` as in ``known_defects``."""

    @pytest.fixture(name=fixture_name, params=list(params), ids=ids)
    def fixture(
        self: Any, request: pytest.FixtureRequest, datasets: Manifest, http_auth_server: HttpServer, tmp_path: Path
    ) -> Any:
        known_defects(request, known)
        return build(datasets, http_auth_server, tmp_path, request.param)

    return type(name, (base,), {fixture_name: fixture})


def reader_suite(
    name: str, params: Sequence[ReaderParam], known: Mapping[tuple[str, str], str]
) -> type[ReaderConformance]:
    """The reader conformance tests over ``params`` (``(case, layer or None, level)``). Bind
    it to ``name`` in the test module: ``TestZarrReaders = reader_suite("TestZarrReaders", ...)``."""
    return _suite(name, ReaderConformance, "reader_case", params, case_id, reader_case, known)


def explorer_suite(
    name: str, case_ids: Sequence[str], known: Mapping[tuple[str, str], str]
) -> type[ExplorerConformance]:
    """The explorer conformance tests over ``case_ids`` (see ``reader_suite``)."""
    return _suite(name, ExplorerConformance, "explorer_case", case_ids, None, explorer_case, known)
