"""The format registry: every format the package reads, in WEBKNOSSOS's priority order.

Each format is a folder (or module) exporting one `FORMAT = Format(...)` record (its
explorers, reader, WEBKNOSSOS `dataFormat` values, URI and Neuroglancer prefixes, metadata
file names and datasource axis-order rules); `FORMATS` lists them once. Everything else
asks this module: URI parsing (`parse_uri`), the readers (`open_reader`), exploration
(`explore_uri`), the datasource (`axis_order`, `layers_from_datasource`) and Neuroglancer
links (`uri_prefixes`, `neuroglancer_prefix`). Adding a format = its folder + one line in
`FORMATS` (tests use `registry_with`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import UnsupportedFormatError
from ..storage import SourceURI, Storage
from ..storage.uri import parse_uri as _parse_uri
from . import n5, ngff, precomputed, webknossos, zarr
from ._search import SEARCH_DEPTH, SEARCH_MAX_ENTRIES, explore_here, explore_uri, search_folders
from .base import (
    ArrayReader,
    AxisOrderRule,
    DataFormat,
    DatasourceMags,
    ExploreContext,
    Explorer,
    Format,
    LayerSpec,
    MagSpec,
    NotThisFormat,
    UriReport,
    install_format_table,
)

# Order = WEBKNOSSOS's explorer priority (first success wins at one URI), then each
# format's own explorer order.
FORMATS: tuple[Format, ...] = (webknossos.FORMAT, ngff.FORMAT, zarr.FORMAT, n5.FORMAT, precomputed.FORMAT)

_active: list[tuple[Format, ...]] = [FORMATS]


def formats() -> tuple[Format, ...]:
    """The formats in use (FORMATS, plus any added by `registry_with`)."""
    return _active[-1]


@contextmanager
def registry_with(extra: Format) -> Iterator[tuple[Format, ...]]:
    """Use FORMATS plus `extra` (last in priority) inside the block: how a test adds a format."""
    if any(f.name == extra.name for f in formats()):
        raise ValueError(f"a format named {extra.name!r} is registered already")
    _active.append((*formats(), extra))
    try:
        yield _active[-1]
    finally:
        _active.pop()


def explorers(hint: str | None = None) -> list[Explorer]:
    """Every explorer in priority order; with a format hint only those tried under it."""
    return [e for f in formats() for e in f.explorers if hint is None or hint in e.hints]


def data_formats() -> tuple[DataFormat, ...]:
    """The WEBKNOSSOS `dataFormat` values that can be read."""
    return tuple(df for f in formats() for df in f.data_formats)


def format_of(data_format: DataFormat, uri: str = "") -> Format:
    """The format that reads `data_format`."""
    for f in formats():
        if data_format in f.data_formats:
            return f
    raise UnsupportedFormatError(uri, f"data format {data_format!r} cannot be read")


def axis_order(data_format: DataFormat) -> AxisOrderRule:
    """How `data_format` writes and reads `axisOrder` in a datasource."""
    rule = format_of(data_format).axis_order.get(data_format)
    if rule is None:
        raise UnsupportedFormatError("", f"data format {data_format!r} declares no axis order")
    return rule


def datasource_mags(data_format: DataFormat) -> DatasourceMags:
    """How a WEBKNOSSOS datasource's mags of `data_format` are found."""
    return format_of(data_format).datasource_mags.get(data_format, DatasourceMags())


def neuroglancer_prefix(data_format: DataFormat) -> str:
    """The Neuroglancer source prefix (`zarr2`, `n5`, ...) of a data format."""
    prefix = format_of(data_format).neuroglancer_prefix.get(data_format)
    if prefix is None:
        raise UnsupportedFormatError("", f"data format {data_format!r} has no Neuroglancer source prefix")
    return prefix


def neuroglancer_prefixes() -> dict[DataFormat, str]:
    """Every data format a Neuroglancer link can name -> its source prefix."""
    return {k: v for f in formats() for k, v in f.neuroglancer_prefix.items()}


def neuroglancer_opens_volume(data_format: DataFormat) -> bool:
    """Whether Neuroglancer opens `data_format` as one whole volume from the dataset folder
    above a mag (every scale, its own fixed axes), not mag by mag."""
    return any(data_format in f.neuroglancer_volume for f in formats())


def uri_prefixes() -> dict[str, str]:
    """`x://` / `x:` URI prefixes -> format hint."""
    return {k: v for f in formats() for k, v in f.uri_prefixes.items()}


def pipe_prefixes() -> dict[str, str]:
    """Neuroglancer pipe-syntax names (`URL|x:`) -> format hint."""
    return {**uri_prefixes(), **{k: v for f in formats() for k, v in f.pipe_prefixes.items()}}


def metadata_files() -> dict[str, str | None]:
    """Trailing metadata file names that mean "their folder" -> the hint they imply."""
    return {k: v for f in formats() for k, v in f.metadata_files.items()}


def parse_uri(text: str, *, base_dir: str | os.PathLike[str] | None = None) -> SourceURI:
    """A user-given URI or path (format prefixes, pipe syntax, metadata file names of every
    registered format) as the folder it names."""
    return _parse_uri(
        text, base_dir=base_dir, prefixes=uri_prefixes(), pipe_prefixes=pipe_prefixes(), metadata_files=metadata_files()
    )


async def open_reader(storage: Storage, data_format: DataFormat, spec: MagSpec) -> ArrayReader:
    """The reader of one resolution level in `data_format`."""
    opener = format_of(data_format, spec.path.url).open_reader
    if opener is None:
        raise UnsupportedFormatError(spec.path.url, f"data format {data_format!r} cannot be read")
    return await opener(storage, spec, data_format)


def layers_from_datasource(doc: Any, root: SourceURI) -> list[LayerSpec]:
    """The layers of a datasource-properties.json document, without I/O."""
    return webknossos.layers_from_datasource(doc, root)


class _Table:
    """The registry as `ExploreContext.formats` (see `base.FormatTable`)."""

    def explorers(self, hint: str | None = None) -> list[Explorer]:
        return explorers(hint)

    def data_formats(self) -> tuple[DataFormat, ...]:
        return data_formats()

    def axis_order(self, data_format: DataFormat) -> AxisOrderRule:
        return axis_order(data_format)

    def parse_uri(self, text: str) -> SourceURI:
        return parse_uri(text)

    def datasource_mags(self, data_format: DataFormat) -> DatasourceMags:
        return datasource_mags(data_format)


TABLE = _Table()
install_format_table(TABLE)


__all__ = [
    "FORMATS",
    "SEARCH_DEPTH",
    "SEARCH_MAX_ENTRIES",
    "TABLE",
    "ArrayReader",
    "ExploreContext",
    "Explorer",
    "Format",
    "LayerSpec",
    "MagSpec",
    "NotThisFormat",
    "UriReport",
    "axis_order",
    "data_formats",
    "datasource_mags",
    "explore_here",
    "explore_uri",
    "explorers",
    "format_of",
    "formats",
    "layers_from_datasource",
    "metadata_files",
    "neuroglancer_opens_volume",
    "neuroglancer_prefix",
    "neuroglancer_prefixes",
    "open_reader",
    "parse_uri",
    "pipe_prefixes",
    "registry_with",
    "search_folders",
    "uri_prefixes",
]
