"""Exploring one URI: try every format there in the registry's order, else search the
subfolders where the store can list. The formats come from `ctx.formats` (the registry)."""

from __future__ import annotations

import asyncio

from ..errors import (
    MalformedMetadataError,
    RemoteDatasetError,
    SourceNotFoundError,
    UnsupportedFormatError,
)
from ..storage import SourceURI
from .base import ExploreContext, LayerSpec, NotThisFormat, UriReport

SEARCH_DEPTH = 3
SEARCH_MAX_ENTRIES = 20  # subfolders looked into per level


async def explore_here(ctx: ExploreContext, uri: SourceURI, report: UriReport) -> list[LayerSpec] | None:
    """Try the formats at exactly `uri`; layers of the first that matches, else None.

    Raises the error of a format that matched but is broken. Transport errors of probes
    (403, 5xx, timeouts, malformed JSON) are raised too: only a 404 means 'not this format'.
    """
    candidates = ctx.formats.explorers(uri.format_hint)
    probe_names = sorted({n for e in candidates for n in e.probe_files})
    probes = await ctx.fetch_many_json(uri, probe_names)
    transport_errors = [
        (name, err) for name, err in probes.items()
        if isinstance(err, RemoteDatasetError) and not _is_malformed(err)
    ]
    for explorer in candidates:
        try:
            layers = await explorer.explore(ctx, uri)
        except NotThisFormat as why:
            report.add(explorer.name, "not found", str(why))
            continue
        except RemoteDatasetError as err:
            report.add(explorer.name, "error", str(err))
            raise
        except (ValueError, ArithmeticError, RecursionError, MemoryError) as exc:
            # Hostile numbers (NaN, Infinity, 1e999, absurd sizes) that slipped past a parser:
            # still a clear error naming the URI, never a stray exception type.
            bad = MalformedMetadataError(uri.url, f"invalid metadata ({type(exc).__name__}: {str(exc)[:200]})")
            report.add(explorer.name, "error", str(bad))
            raise bad from None
        report.add(explorer.name, "found", f"{len(layers)} layer(s)")
        return layers
    if transport_errors:
        # Nothing matched and some probes failed for reasons other than 404: say so.
        raise transport_errors[0][1]
    return None


def _is_malformed(err: RemoteDatasetError) -> bool:
    return isinstance(err, MalformedMetadataError)


async def search_folders(ctx: ExploreContext, uri: SourceURI, report: UriReport, depth: int = SEARCH_DEPTH) -> list[LayerSpec]:
    """Explore subfolders (where the store can list) down to `depth`, keeping every layer."""
    if depth <= 0:
        return []
    entries = await ctx.list_dir(uri)
    if not entries:
        return []
    folders = sorted(name for name, is_dir in entries if is_dir)[:SEARCH_MAX_ENTRIES]
    if len([1 for _, d in entries if d]) > SEARCH_MAX_ENTRIES:
        report.notes.append(f"{uri.url}: only the first {SEARCH_MAX_ENTRIES} subfolders were searched")

    async def one(name: str) -> list[LayerSpec]:
        child = uri.join(name)
        try:
            found = await explore_here(ctx, child, report)
        except RemoteDatasetError as err:
            report.notes.append(f"{child.url}: {err.cause}")
            return []
        if found:
            return found
        return await search_folders(ctx, child, report, depth - 1)

    results = await asyncio.gather(*(one(n) for n in folders))
    return [layer for group in results for layer in group]


async def explore_uri(ctx: ExploreContext, uri: SourceURI, report: UriReport) -> list[LayerSpec]:
    """All layers at `uri`: the format found there, else every layer in its subfolders."""
    try:
        layers = await explore_here(ctx, uri, report)
    finally:
        report.notes.extend(n for n in ctx.notes if n not in report.notes)
    if layers:
        return layers
    storage = ctx.storage(uri)
    if storage.can_list:
        found = await search_folders(ctx, uri, report)
        if found:
            report.notes.append(f"found {len(found)} layer(s) in subfolders")
            return found
    tried = "; ".join(f"{a.format}: {a.message}" for a in report.attempts) or "no format applies"
    hint = f" (format hint {uri.format_hint!r})" if uri.format_hint else ""
    if not ctx.found_any(uri):
        raise SourceNotFoundError(
            uri.url, f"not found: no dataset metadata exists there (HTTP 404 for every probed file{hint})"
        )
    raise UnsupportedFormatError(uri.url, f"no supported dataset found{hint}. Tried: {tried}")
