"""`ExplorerConformance`: what every explorer does, checked on data an independent writer
wrote. A subclass provides the `explorer_case` fixture (an `ExplorerCase`); the explorer is
looked up by name in `formats.explorers()`.

Checked: on its own dataset it finds the expected layers; on other formats' datasets it says
`NotThisFormat`; malformed JSON in its metadata is a `MalformedMetadataError` naming the
file; hostile numbers in the metadata are refused with a `RemoteDatasetError`, never another
exception.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..errors import MalformedMetadataError, RemoteDatasetError
from ..formats import explorers, open_reader, parse_uri
from ..formats.base import ExploreContext, Explorer, LayerSpec, NotThisFormat
from ..storage import Credentials, run_sync, storage_for
from .served import MakeCopy, ServedCopy

HOSTILE = 1 << 70  # beyond any dimension, offset or count a format allows


@dataclass(frozen=True)
class LayerExpectation:
    """What an explorer must report about one layer (as the writer was told)."""

    name: str
    data_format: str
    element_class: str
    bounding_box: tuple[tuple[int, int, int], tuple[int, int, int]]
    mags: Sequence[tuple[int, int, int]]
    category: str
    num_channels: int = 1
    alt_names: Sequence[str] = ()


@dataclass
class ExplorerCase:
    id: str  # for messages
    explorer: str  # `Explorer.name` in `formats.explorers()`
    root_url: str  # the dataset folder, as served
    layers: list[LayerExpectation]
    foreign_urls: list[str] = field(default_factory=list)  # other formats' dataset folders
    make_copy: MakeCopy | None = None  # a private writable copy of the dataset folder
    credentials: Credentials | None = None


def find_explorer(name: str) -> Explorer:
    found = [e for e in explorers() if e.name == name]
    assert len(found) == 1, f"formats.explorers() lists {len(found)} explorers named {name!r}"
    return found[0]


def explore_with(explorer: Explorer, url: str, credentials: Credentials | None) -> list[LayerSpec]:
    return list(run_sync(explorer.explore(ExploreContext(credentials), parse_uri(url))))


def metadata_names() -> frozenset[str]:
    """Every metadata file name some explorer reads (the probes of all formats)."""
    return frozenset(name for e in explorers() for name in e.probe_files)


def _hostile(value: Any, in_list: bool = False) -> Any:
    """`value` with every integer inside a list (shapes, sizes, offsets, mags) made huge."""
    if isinstance(value, dict):
        return {k: _hostile(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hostile(v, True) for v in value]
    if in_list and isinstance(value, int) and not isinstance(value, bool):
        return HOSTILE
    return value


def _metadata_files(copy: ServedCopy, names: frozenset[str]) -> list[Path]:
    return sorted(p for p in copy.local_dir.rglob("*") if p.is_file() and p.name in names)


class ExplorerConformance:
    """Inherit and provide `explorer_case` (usually parametrized over a format's datasets)."""

    @pytest.fixture
    def explorer_case(self) -> ExplorerCase:
        raise NotImplementedError("an ExplorerConformance subclass provides the explorer_case fixture")

    def _copy(self, case: ExplorerCase) -> ServedCopy:
        if case.make_copy is None:
            pytest.skip(f"{case.id}: no writable copy of the dataset")
        return case.make_copy()

    def test_finds_the_expected_layers(self, explorer_case: ExplorerCase) -> None:
        case = explorer_case
        layers = explore_with(find_explorer(case.explorer), case.root_url, case.credentials)
        by_name = {layer.name: layer for layer in layers}
        assert len(by_name) == len(layers) == len(case.layers), f"{case.id}: {sorted(by_name)}"
        root = case.root_url.rstrip("/")
        for want in case.layers:
            names = [n for n in (want.name, *want.alt_names) if n in by_name]
            assert names, f"{case.id}: no layer {want.name!r} in {sorted(by_name)}"
            got = by_name[names[0]]
            where = f"{case.id}/{want.name}"
            assert got.data_format == want.data_format, where
            assert got.element_class == want.element_class, where
            assert got.category == want.category, where
            assert got.num_channels == want.num_channels, where
            assert (tuple(got.bounding_box.top_left), tuple(got.bounding_box.size)) == want.bounding_box, where
            assert [tuple(m.mag) for m in got.mags] == [tuple(m) for m in want.mags], where
            assert all(m.path.url == root or m.path.url.startswith(root + "/") for m in got.mags), where

    def test_other_formats_are_not_this_format(self, explorer_case: ExplorerCase) -> None:
        case = explorer_case
        explorer = find_explorer(case.explorer)
        assert case.foreign_urls, f"{case.id}: no other formats' data to try"
        for url in case.foreign_urls:
            with pytest.raises(NotThisFormat):
                layers = explore_with(explorer, url, case.credentials)
                raise AssertionError(f"{case.explorer} claims {url}: {[layer.name for layer in layers]}")

    def test_malformed_json_names_the_file(self, explorer_case: ExplorerCase) -> None:
        case = explorer_case
        explorer = find_explorer(case.explorer)
        copy = self._copy(case)
        broken = [copy.local_dir / n for n in explorer.probe_files if (copy.local_dir / n).is_file()]
        assert broken, f"{case.id}: none of {explorer.probe_files} at the dataset's root"
        for path in broken:
            path.write_text('{"multiscales": [{"version": "0.4", "datasets": [1, 2')
        with pytest.raises(MalformedMetadataError) as caught:
            explore_with(explorer, copy.url, case.credentials)
        named = [f"{copy.url}/{p.name}" for p in broken]
        assert any(n in str(caught.value) for n in named), f"{case.id}: {caught.value}"

    def test_hostile_numbers_are_refused(self, explorer_case: ExplorerCase) -> None:
        case = explorer_case
        explorer = find_explorer(case.explorer)
        copy = self._copy(case)
        for path in _metadata_files(copy, metadata_names()):
            try:
                doc = json.loads(path.read_text())
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            path.write_text(json.dumps(_hostile(doc)))
        with pytest.raises(RemoteDatasetError) as caught:
            for layer in explore_with(explorer, copy.url, case.credentials):
                for mag in layer.mags:  # what exploration let through, the reader must refuse
                    run_sync(open_reader(storage_for(mag.path, case.credentials), layer.data_format, mag))
            raise AssertionError(f"{case.id}: hostile numbers were accepted")
        assert copy.url in str(caught.value), f"{case.id}: {caught.value}"
