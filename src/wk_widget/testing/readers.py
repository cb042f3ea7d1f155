"""`ReaderConformance`: what every `ArrayReader` does, checked on data an independent writer
wrote. A subclass provides the `reader_case` fixture (a `ReaderCase`); the tests open the
reader through `formats.open_reader` only.

Checked: every chunk decodes to the truth (missing chunks are the fill value), chunk extents
at the array's edges, a deleted chunk object reads as missing, a corrupt chunk is a
`CorruptChunkError` naming the chunk, an oversized/hostile chunk object is refused with a
`RemoteDatasetError` naming the object, and no secret shows in chunk URIs or errors.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from ..errors import CorruptChunkError, RemoteDatasetError
from ..formats import open_reader, parse_uri
from ..formats.base import ArrayReader, MagSpec
from ..storage import Credentials, run_sync, storage_for
from .served import MakeCopy, ServedCopy, join_url

Coord = tuple[int, ...]


@dataclass
class ReaderCase:
    """One resolution level written by an independent writer, where it is served, and its
    voxel values."""

    id: str  # for messages
    root_url: str  # the dataset folder, as served
    level_path: str  # the level's array below `root_url` ("" = the folder itself)
    data_format: str  # WEBKNOSSOS dataFormat: "zarr", "zarr3", "n5", "neuroglancerPrecomputed"
    axis_order: dict[str, int]  # "x", "y", "z" (and "c") -> array dimension
    truth: np.ndarray  # voxel values in the array's own dimension order
    truth_origin: tuple[int, ...]  # array position of truth[0, ..., 0]
    make_copy: MakeCopy | None = None  # a private writable copy of the dataset folder
    credentials: Credentials | None = None
    secrets: tuple[str, ...] = ()  # strings that must never show (passwords, tokens)
    tolerance: float = 0.0  # max. absolute difference per voxel (lossy encodings)
    fill_value: Any = 0  # what the writer was told missing chunks read as

    @property
    def uri(self) -> str:
        return join_url(self.root_url, self.level_path)


def object_url(chunk_key_uri: str) -> str:
    """The stored object holding a chunk: `chunk_key_uri` is its URL, then maybe " (...)"
    naming the chunk inside it (shards)."""
    return chunk_key_uri.split(" (", 1)[0]


def open_case_reader(case: ReaderCase, root_url: str | None = None) -> ArrayReader:
    """The case's reader through the stable API (optionally of a copy served at `root_url`)."""
    uri = parse_uri(join_url(root_url, case.level_path) if root_url else case.uri)
    spec = MagSpec((1, 1, 1), uri, dict(case.axis_order))
    storage = storage_for(uri, case.credentials)
    return run_sync(open_reader(storage, case.data_format, spec))


def grid(reader: ArrayReader) -> list[Coord]:
    """Every chunk coordinate of the reader's grid."""
    counts = [
        max(0, math.ceil((s - o) / c))
        for s, c, o in zip(reader.shape, reader.chunk_shape, reader.grid_origin, strict=True)
    ]
    return list(itertools.product(*(range(n) for n in counts)))


def chunk_box(reader: ArrayReader, coord: Coord) -> list[tuple[int, int]]:
    extent = reader.chunk_extent(coord)
    return [
        (o + i * c, o + i * c + e)
        for i, c, o, e in zip(coord, reader.chunk_shape, reader.grid_origin, extent, strict=True)
    ]


def _overlap(
    box: list[tuple[int, int]], origin: tuple[int, ...], shape: tuple[int, ...]
) -> tuple[tuple[slice, ...], tuple[slice, ...]] | None:
    """(slices into the chunk, slices into the truth) of their intersection, or None."""
    in_chunk, in_truth = [], []
    for (lo, hi), t0, n in zip(box, origin, shape, strict=True):
        a, b = max(lo, t0), min(hi, t0 + n)
        if a >= b:
            return None
        in_chunk.append(slice(a - lo, b - lo))
        in_truth.append(slice(a - t0, b - t0))
    return tuple(in_chunk), tuple(in_truth)


def _differs(got: np.ndarray, want: np.ndarray, tolerance: float) -> int:
    if tolerance:
        return int(np.count_nonzero(np.abs(got.astype(np.float64) - want.astype(np.float64)) > tolerance))
    if got.dtype.kind == "f":
        return int(np.count_nonzero(~((got == want) | (np.isnan(got) & np.isnan(want)))))
    return int(np.count_nonzero(got != want))


def _hostile_object(nbytes: int) -> bytes:
    """Far more bytes than any chunk of the level may take, laid out as (offset 0, length
    2**40) little-endian uint64 pairs so that a shard index read from it claims huge chunks."""
    pairs = -(-nbytes // 16)
    return np.tile(np.array([0, 1 << 40], dtype="<u8"), pairs).tobytes()


class ReaderConformance:
    """Inherit and provide `reader_case` (usually parametrized over a format's datasets)."""

    @pytest.fixture
    def reader_case(self) -> ReaderCase:
        raise NotImplementedError("a ReaderConformance subclass provides the reader_case fixture")

    # -- helpers ------------------------------------------------------------------------

    def _existing_chunk(self, case: ReaderCase, reader: ArrayReader) -> tuple[Coord, bytes]:
        """The first stored chunk (grid order) that holds truth voxels."""
        coords = [
            c for c in grid(reader) if _overlap(chunk_box(reader, c), case.truth_origin, case.truth.shape)
        ]
        for start in range(0, len(coords), 8):  # few requests: most first chunks exist
            batch = coords[start : start + 8]
            for coord, data in zip(batch, run_sync(reader.fetch(batch)), strict=True):
                if data is not None:
                    return coord, data
        raise AssertionError(f"{case.id}: no stored chunk holds truth voxels")

    def _copy(self, case: ReaderCase) -> ServedCopy:
        if case.make_copy is None:
            pytest.skip(f"{case.id}: no writable copy of the dataset")
        return case.make_copy()

    def _errors_of(self, case: ReaderCase, reader: ArrayReader, coord: Coord, data: bytes) -> Iterator[str]:
        for garbage in (data[: len(data) // 2], b""):
            try:
                reader.decode(coord, garbage)
            except RemoteDatasetError as err:
                yield str(err)

    # -- the tests ----------------------------------------------------------------------

    def test_every_chunk_decodes_to_the_truth(self, reader_case: ReaderCase) -> None:
        case = reader_case
        reader = open_case_reader(case)
        assert reader.dtype == case.truth.dtype, case.id
        assert len(reader.shape) == case.truth.ndim == len(reader.chunk_shape), case.id
        assert all(
            t0 >= 0 and t0 + n <= s for t0, n, s in zip(case.truth_origin, case.truth.shape, reader.shape, strict=True)
        ), f"{case.id}: truth {case.truth.shape} at {case.truth_origin} outside the array {reader.shape}"
        coords = grid(reader)
        fill = np.array(reader.fill_value, dtype=reader.dtype)
        checked = 0
        for coord, data in zip(coords, run_sync(reader.fetch(coords)), strict=True):
            where = f"{case.id} chunk {coord}"
            overlap = _overlap(chunk_box(reader, coord), case.truth_origin, case.truth.shape)
            if data is None:
                if overlap is not None:
                    want = case.truth[overlap[1]]
                    assert _differs(np.broadcast_to(fill, want.shape), want, case.tolerance) == 0, where
                    checked += want.size
                continue
            arr = reader.decode(coord, data)
            assert arr.shape == reader.chunk_extent(coord), where
            assert arr.dtype == reader.dtype and arr.dtype.isnative, where
            if overlap is not None:
                bad = _differs(arr[overlap[0]], case.truth[overlap[1]], case.tolerance)
                assert bad == 0, f"{where}: {bad} voxels differ from the writer's"
                checked += case.truth[overlap[1]].size
        assert checked == case.truth.size, f"{case.id}: chunks cover {checked} of {case.truth.size} voxels"

    def test_chunk_extents_at_the_edges(self, reader_case: ReaderCase) -> None:
        reader = open_case_reader(reader_case)
        ndim = len(reader.shape)
        last = [max(0, math.ceil((s - o) / c)) - 1 for s, c, o in zip(reader.shape, reader.chunk_shape, reader.grid_origin, strict=True)]
        for d in range(ndim):
            along = [reader.chunk_extent(tuple(i if k == d else 0 for k in range(ndim)))[d] for i in range(last[d] + 1)]
            assert sum(along) == reader.shape[d] - reader.grid_origin[d], f"{reader_case.id} axis {d}: {along}"
            assert all(e == reader.chunk_shape[d] for e in along[:-1]) and 0 < along[-1] <= reader.chunk_shape[d]
            beyond = tuple(last[d] + 1 if k == d else 0 for k in range(ndim))
            assert reader.chunk_extent(beyond)[d] == 0, f"{reader_case.id}: a chunk past the edge has voxels"
        corner = tuple(last)
        coords = [corner]
        data = run_sync(reader.fetch(coords))[0]
        if data is not None:
            assert reader.decode(corner, data).shape == reader.chunk_extent(corner)

    def test_a_deleted_chunk_reads_as_missing(self, reader_case: ReaderCase) -> None:
        case = reader_case
        copy = self._copy(case)
        reader = open_case_reader(case, copy.url)
        coord, _ = self._existing_chunk(case, reader)
        copy.local_path(object_url(reader.chunk_key_uri(coord))).unlink()
        fresh = open_case_reader(case, copy.url)
        assert run_sync(fresh.fetch([coord])) == [None], case.id
        assert np.array(fresh.fill_value, dtype=fresh.dtype) == np.array(case.fill_value, dtype=fresh.dtype)

    def test_a_corrupt_chunk_is_a_corrupt_chunk_error_naming_it(self, reader_case: ReaderCase) -> None:
        case = reader_case
        reader = open_case_reader(case)
        coord, data = self._existing_chunk(case, reader)
        for garbage in (data[: len(data) // 2], b""):
            with pytest.raises(CorruptChunkError) as caught:
                reader.decode(coord, garbage)
            assert reader.chunk_key_uri(coord) in str(caught.value), case.id

    def test_an_oversized_chunk_object_is_refused(self, reader_case: ReaderCase) -> None:
        case = reader_case
        copy = self._copy(case)
        reader = open_case_reader(case, copy.url)
        coord, _ = self._existing_chunk(case, reader)
        target = object_url(reader.chunk_key_uri(coord))
        nbytes = math.prod(reader.chunk_shape) * reader.dtype.itemsize
        copy.local_path(target).write_bytes(_hostile_object(16 * nbytes + (1 << 20)))
        fresh = open_case_reader(case, copy.url)
        with pytest.raises(RemoteDatasetError) as caught:
            for c, data in zip([coord], run_sync(fresh.fetch([coord])), strict=True):
                if data is not None:
                    fresh.decode(c, data)
        assert target in str(caught.value), f"{case.id}: {caught.value}"

    def test_no_secret_in_chunk_uris_or_errors(self, reader_case: ReaderCase) -> None:
        case = reader_case
        if not case.secrets:
            pytest.skip(f"{case.id}: served without credentials")
        reader = open_case_reader(case)
        coord, data = self._existing_chunk(case, reader)
        shown = [reader.uri, repr(reader), *(reader.chunk_key_uri(c) for c in grid(reader)[:50])]
        shown += list(self._errors_of(case, reader, coord, data))
        for secret in case.secrets:
            assert not [s for s in shown if secret in s], f"{case.id}: a secret shows"
