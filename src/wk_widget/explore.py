"""Exploring URIs and Neuroglancer links into layer descriptions (`LayerSpec`s).

`explore_specs` explores every URI concurrently and reports per URI; the browser-access
rules (`storage.origins`) decide which credentials and addresses each source may use.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Sequence
from typing import Any

from .errors import (
    AccessDeniedError,
    MalformedMetadataError,
    RemoteDatasetError,
    UnsupportedFormatError,
    scrub,
)
from .formats import explore_uri, parse_uri
from .formats.base import ExploreContext, LayerSpec, UriReport
from .neuroglancer import is_neuroglancer_url, parse_neuroglancer_url
from .storage import Credentials, storage_config_for
from .storage.origins import NOTEBOOK, Access, access_for, check_public_uri


def report_error(report: UriReport) -> RemoteDatasetError:
    err = getattr(report, "_exception", None)
    if isinstance(err, RemoteDatasetError):
        return err
    return UnsupportedFormatError(report.uri, report.error or "exploration failed")


def check_specs(specs: Sequence[LayerSpec]) -> None:
    """Numbers from remote metadata that no dataset has (Infinity, NaN, <= 0 voxel sizes)."""
    for s in specs:
        if s.voxel_size is not None and not all(math.isfinite(v) and v > 0 for v in s.voxel_size):
            raise MalformedMetadataError(
                s.source_uri or (s.mags[0].path.url if s.mags else ""),
                f"layer {s.name!r} has voxel size {list(s.voxel_size)}; it must be finite and positive",
            )


async def _explore_one(
    uri: str, credentials: Credentials | None, access: Access = NOTEBOOK
) -> tuple[list[LayerSpec], UriReport]:
    report = UriReport(uri=scrub(str(uri)))
    ctx = ExploreContext(credentials, access=access)
    try:
        if isinstance(uri, str) and is_neuroglancer_url(uri):
            specs = await _explore_neuroglancer(ctx, uri, report)
        else:
            source = parse_uri(uri) if isinstance(uri, str) else parse_uri(str(uri))
            # Credentials (given and ambient) belong to the origin of the URI the user gave.
            ctx.access = access_for(source, credentials, access)
            storage_config_for(source, credentials, ctx.access)  # validates the credential kind early
            report.uri = source.url
            specs = await explore_uri(ctx, source, report)
            check_specs(specs)
            for s in specs:
                s.credentials = credentials
                s.access = ctx.access
                s.source_uri = s.source_uri or source.url
    except RemoteDatasetError as err:
        report.error = str(err)
        report._exception = err  # type: ignore[attr-defined]
        return [], report
    report.layers = [s.name for s in specs]
    return specs, report


async def _explore_neuroglancer(ctx: ExploreContext, url: str, report: UriReport) -> list[LayerSpec]:
    state = parse_neuroglancer_url(url)
    if state.layers:
        # A link is someone's metadata: credentials go to the origin of its first source only.
        with contextlib.suppress(RemoteDatasetError):
            ctx.access = access_for(parse_uri(state.layers[0].uri), ctx.credentials, ctx.access)
    for skipped in state.skipped:
        report.notes.append(f"skipped layer {skipped.name!r}: {skipped.reason}")
    if not state.layers:
        reasons = "; ".join(f"{s.name}: {s.reason}" for s in state.skipped) or "the link has no layers"
        raise UnsupportedFormatError(report.uri[:200], f"no importable layer in the Neuroglancer link ({reasons})")

    async def one(ng: Any) -> list[LayerSpec]:
        sub = UriReport(uri=ng.uri)
        report.notes.extend(f"layer {ng.name!r}: {note}" for note in ng.notes)
        try:
            source = parse_uri(ng.uri)
            if source.scheme == "file":
                raise AccessDeniedError(source.url, "refused: a Neuroglancer link cannot name local files")
            if ctx.access.public_only:
                check_public_uri(source)
            found = await explore_uri(ctx, source, sub)
        except RemoteDatasetError as err:
            report.notes.append(f"layer {ng.name!r} ({ng.uri}): {err.cause}")
            report.attempts.extend(sub.attempts)
            return []
        report.attempts.extend(sub.attempts)
        # Neuroglancer shows the image of a source, not the OME labels beside it.
        images = [s for s in found if s.category_source != "ome-labels"]
        found = images or found
        if ng.channel_index is not None:
            picked = [s for s in found if any(m.channel_index == ng.channel_index for m in s.mags)]
            found = picked or found
        out: list[LayerSpec] = []
        for i, s in enumerate(found):
            s.credentials = ctx.credentials
            s.access = ctx.access
            s.source_uri = s.source_uri or source.url
            s.name = ng.name if i == 0 else f"{ng.name}_{s.name}"
            if ng.category is not None:
                s.category = ng.category
                s.category_source = "neuroglancer"
            if ng.view_configuration:
                s.default_view_configuration = {**(s.default_view_configuration or {}), **ng.view_configuration}
            if s.voxel_size is None:
                vs = ng.voxel_size or state.voxel_size
                un = ng.unit if ng.voxel_size else state.unit
                if vs is not None:
                    s.voxel_size = (float(vs[0]), float(vs[1]), float(vs[2]))
                    s.unit = un or "nanometer"
            out.append(s)
        return out

    groups = await asyncio.gather(*(one(ng) for ng in state.layers))
    specs = [s for g in groups for s in g]
    if not specs:
        reasons = "; ".join(report.notes) or "no layer could be explored"
        raise UnsupportedFormatError(report.uri[:200], f"no layer of the Neuroglancer link could be imported ({reasons})")
    check_specs(specs)
    return specs


async def explore_specs(
    uris: Sequence[str], credentials: Credentials | None, access: Access = NOTEBOOK
) -> tuple[list[LayerSpec], list[UriReport]]:
    results = await asyncio.gather(*(_explore_one(u, credentials, access) for u in uris))
    specs = [s for group, _ in results for s in group]
    return specs, [r for _, r in results]


__all__ = ["check_specs", "explore_specs", "report_error"]
