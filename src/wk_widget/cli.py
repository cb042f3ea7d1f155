"""`wk-widget explore URI...`: explore, assemble, print datasource-properties.json.

Exit status 0 with at least one layer, 1 when exploration failed (one line per failing
URI on stderr, never a traceback), 2 for usage errors. `--retry-budget` (or the
environment variable WK_WIDGET_RETRY_BUDGET) bounds how long a failing server is retried,
so scripts can fail fast instead of waiting the library's 30 s.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import units
from ._atomic import atomic_write_text
from .dataset import explore_async
from .errors import RemoteDatasetError, scrub
from .storage import coerce_credentials, run_sync
from .storage.retry import set_retry_policy

RETRY_BUDGET_ENV = "WK_WIDGET_RETRY_BUDGET"


def _triple(text: str) -> tuple[float, float, float]:
    parts = [p for p in text.replace(" ", "").split(",") if p]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y,Z numbers, got {text!r}") from None
    if len(values) != 3 or not all(v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected three positive numbers X,Y,Z, got {text!r}")
    return (values[0], values[1], values[2])


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wk-widget",
        description="Explore remote volume datasets (Zarr, OME-NGFF, N5, Neuroglancer precomputed) "
        "and print a WEBKNOSSOS datasource-properties.json.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("explore", help="explore URIs and assemble them into one dataset")
    ex.add_argument("uris", nargs="+", metavar="URI", help="https://, s3://, gs://, file:// URI, local path or Neuroglancer link")
    ex.add_argument("--name", help="dataset name")
    ex.add_argument("--credentials", metavar="FILE", help="JSON credentials file used for every URI")
    ex.add_argument("--voxel-size", type=_triple, metavar="X,Y,Z", help="voxel size of mag 1")
    ex.add_argument("--unit", help="length unit of the voxel size (nm, um, nanometer, ...)")
    ex.add_argument("-o", "--output", metavar="FILE", help="write the JSON here instead of stdout")
    ex.add_argument(
        "--retry-budget",
        type=_seconds,
        metavar="SECONDS",
        default=os.environ.get(RETRY_BUDGET_ENV),  # argparse runs `type` on a string default
        help=f"how long to keep retrying a failing server (default 30; env {RETRY_BUDGET_ENV})",
    )
    ex.add_argument("-v", "--verbose", action="store_true", help="report which formats were tried per URI (stderr)")
    return parser


def _print_report(reports: Sequence[object]) -> None:
    for report in reports:
        data = report.to_json()  # type: ignore[attr-defined]
        print(f"# {data['uri']}", file=sys.stderr)
        for attempt in data["attempts"]:
            print(f"#   {attempt['format']}: {attempt['outcome']} - {attempt['message']}", file=sys.stderr)
        for note in data["notes"]:
            print(f"#   note: {note}", file=sys.stderr)
        if data["layers"]:
            print(f"#   layers: {', '.join(data['layers'])}", file=sys.stderr)


def _explore(args: argparse.Namespace) -> int:
    errors: list[RemoteDatasetError] = []
    if args.retry_budget is not None:
        set_retry_policy(budget=args.retry_budget)
    try:
        creds = coerce_credentials(Path(args.credentials)) if args.credentials else None
        if args.unit is not None and units.normalize_unit(args.unit) is None:
            print(f"wk-widget: error: unknown unit {args.unit!r}", file=sys.stderr)
            return 2
        ds = run_sync(
            explore_async(
                *args.uris,
                name=args.name,
                credentials=creds,
                voxel_size=args.voxel_size,
                unit=args.unit,
                allow_partial=False,
            )
        )
    except RemoteDatasetError as err:
        reports = getattr(err, "reports", [])
        if args.verbose:
            _print_report(reports)
        errors = list(getattr(err, "errors", [err]))
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        return 1
    if args.verbose:
        _print_report(ds.reports)
    if not ds.layers:
        print("error: no layer found", file=sys.stderr)
        return 1
    text = json.dumps(ds.to_datasource(), indent=2)
    if args.output:
        try:
            atomic_write_text(args.output, text + "\n")  # a failed write keeps the old file
        except OSError as exc:
            print(f"error: {args.output}: cannot write ({exc.strerror})", file=sys.stderr)
            return 1
    else:
        print(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for usage errors, 0 for --help
        return int(exc.code or 0)
    try:
        if args.command == "explore":
            return _explore(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (MemoryError, RecursionError) as exc:
        # Remote input that slipped past a limit: name the URIs, not an internal error.
        what = "out of memory" if isinstance(exc, MemoryError) else "metadata nested too deeply"
        uris = ", ".join(scrub(u) for u in getattr(args, "uris", []))
        print(f"error: {uris}: {what}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"error: internal error: {type(exc).__name__}: {scrub(str(exc))}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
