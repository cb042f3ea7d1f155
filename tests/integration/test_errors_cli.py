"""Bad input gives a RemoteDatasetError naming the URI and the cause; the CLI exits 1 with
one line per failing URI and no traceback; usage errors exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr

import wk_widget as wk
from tests.integration.conftest import manifest
from tests.support.servers import HttpServer, free_port
from wk_widget import errors as E


@pytest.fixture(scope="module")
def mixed_voxel_sizes(tmp_path_factory: pytest.TempPathFactory, http_server: HttpServer) -> str:
    """Two OME-NGFF images (ome-zarr) at 4 nm and 6 nm: not power-of-two compatible."""
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_image

    root = tmp_path_factory.mktemp("mixed")
    for name, vs in (("a4.ome.zarr", 4.0), ("b6.ome.zarr", 6.0), ("c8.ome.zarr", 8.0)):
        group = zarr.open_group(str(root / name), mode="w", zarr_format=2)
        data = np.zeros((8, 32, 32), dtype=np.uint8)
        write_image(
            data,
            group,
            axes=[{"name": "z", "type": "space", "unit": "nanometer"}, {"name": "y", "type": "space", "unit": "nanometer"}, {"name": "x", "type": "space", "unit": "nanometer"}],
            fmt=FormatV04(),
            scale_factors=[],
            coordinate_transformations=[[{"type": "scale", "scale": [vs, vs, vs]}]],
        )
        # ome-zarr may ignore the argument above; make the scale explicit.
        attrs = json.loads((root / name / ".zattrs").read_text())
        for ds in attrs["multiscales"][0]["datasets"]:
            ds["coordinateTransformations"] = [{"type": "scale", "scale": [vs, vs, vs]}]
        (root / name / ".zattrs").write_text(json.dumps(attrs))
    return http_server.publish(root, "mixed")


def _bad_cases(http: HttpServer, mixed: str) -> list[tuple[str, list[str], type[E.RemoteDatasetError], str]]:
    m = manifest()
    base = f"{http.url}/datasets-errors"
    return [
        ("unreachable", [f"http://127.0.0.1:{free_port()}/data.zarr"], E.SourceUnreachableError, "cannot reach"),
        ("404", [f"{base}/no/such/dataset.zarr"], E.SourceNotFoundError, "not found"),
        ("403", [f"{http.url}/__status/403/datasets-errors/zarr2_uint8_blosc"], E.AccessDeniedError, "access denied"),
        ("500", [f"{http.url}/__status/500/datasets-errors/zarr2_uint8_blosc"], E.ServerFaultError, "server fault"),
        ("malformed json", [m.uri(m.case("bad_ngff04_malformed_zattrs"), base)], E.MalformedMetadataError, "JSON"),
        ("unsupported codec", [m.uri(m.case("bad_zarr3_unknown_codec"), base)], E.UnsupportedDataError, "codec"),
        ("unsupported dtype", [m.uri(m.case("bad_zarr2_float16"), base)], E.UnsupportedDataError, "float16"),
        ("non power of two", [m.uri(m.case("bad_ngff04_scale_3x"), base)], E.RemoteDatasetError, "power of two"),
        ("incompatible voxel sizes", [f"{mixed}/a4.ome.zarr", f"{mixed}/b6.ome.zarr"], E.IncompatibleLayersError, "not compatible"),
        ("unknown scheme", ["ftp://example.org/data"], E.InvalidURIError, "unknown URI scheme"),
        ("empty", [""], E.InvalidURIError, "empty URI"),
        ("unknown encoding", [m.uri(m.case("bad_precomputed_unknown_encoding"), base)], E.UnsupportedDataError, "encoding"),
        ("unknown compression", [m.uri(m.case("bad_n5_unknown_compression"), base)], E.UnsupportedDataError, "compression"),
    ]


CASE_NAMES = [
    "unreachable", "404", "403", "500", "malformed json", "unsupported codec", "unsupported dtype",
    "non power of two", "incompatible voxel sizes", "unknown scheme", "empty", "unknown encoding",
    "unknown compression",
]


@pytest.fixture(scope="module")
def cases(http_server: HttpServer, mixed_voxel_sizes: str) -> dict[str, tuple[list[str], type[E.RemoteDatasetError], str]]:
    http_server.publish(manifest().root, "datasets-errors")
    return {name: (uris, cls, cause) for name, uris, cls, cause in _bad_cases(http_server, mixed_voxel_sizes)}


@pytest.mark.parametrize("name", CASE_NAMES)
def test_bad_input_raises_clear_error(name: str, cases: dict[str, tuple[list[str], type[E.RemoteDatasetError], str]]) -> None:
    uris, cls, cause = cases[name]
    with pytest.raises(E.RemoteDatasetError) as info:
        wk.explore(*uris)
    err = info.value
    assert isinstance(err, cls), (type(err), str(err))
    text = str(err)
    assert cause.lower() in text.lower(), text
    if uris[0]:
        # names the URI (or, for assembly errors, one of the layers' URIs)
        assert any(u.split("://", 1)[-1].split("/", 1)[0] in text for u in uris), text


@pytest.mark.parametrize("name", CASE_NAMES)
def test_cli_exit_1_one_line_per_uri(name: str, cases: dict[str, tuple[list[str], type[E.RemoteDatasetError], str]]) -> None:
    uris, _, cause = cases[name]
    out = subprocess.run([sys.executable, "-m", "wk_widget", "explore", *uris], capture_output=True, text=True, check=False)
    assert out.returncode == 1, out
    assert out.stdout == ""
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert cause.lower() in lines[0].lower()


def test_cli_several_failing_uris(http_server: HttpServer) -> None:
    port = free_port()
    uris = [f"http://127.0.0.1:{port}/a.zarr", "ftp://x/y", f"{http_server.url}/nothing-here"]
    out = subprocess.run([sys.executable, "-m", "wk_widget", "explore", *uris], capture_output=True, text=True, check=False)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 3, lines
    for uri, line in zip(uris, lines, strict=True):
        assert uri in line, (uri, line)
    assert "Traceback" not in out.stderr


def test_cli_success_and_usage(http_server: HttpServer, tmp_path: Path) -> None:
    m = manifest()
    base = http_server.publish(m.root, "datasets-cli")
    uris = [m.uri(m.case("ngff04_multiscale_uint16"), base), m.uri(m.case("zarr3_sharded_uint8"), base)]
    target = tmp_path / "out.json"
    out = subprocess.run(
        [sys.executable, "-m", "wk_widget", "explore", *uris, "--name", "combined", "-o", str(target), "--verbose"],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(target.read_text())
    assert doc["id"]["name"] == "combined"
    assert len(doc["dataLayers"]) == 3
    assert "ngff-0.4: found" in out.stderr  # the --verbose report
    # voxel size override and unit
    out2 = subprocess.run(
        [sys.executable, "-m", "wk_widget", "explore", uris[1], "--voxel-size", "4,4,40", "--unit", "nm"],
        capture_output=True, text=True, check=False,
    )
    assert out2.returncode == 0, out2.stderr
    doc2 = json.loads(out2.stdout)
    assert doc2["scale"] == {"factor": [4.0, 4.0, 40.0], "unit": "nanometer"}
    # usage errors
    assert subprocess.run([sys.executable, "-m", "wk_widget"], capture_output=True, check=False).returncode == 2
    bad = subprocess.run([sys.executable, "-m", "wk_widget", "explore", uris[1], "--voxel-size", "1,2"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_credentials_file_and_no_secret_in_output(http_auth_server: HttpServer, tmp_path: Path) -> None:
    from tests.support.servers import HTTP_AUTH

    m = manifest()
    base = http_auth_server.publish(m.root, "datasets-auth")
    uri = m.uri(m.case("zarr2_uint8_blosc"), base)
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"type": "http_basic", "username": HTTP_AUTH[0], "password": HTTP_AUTH[1]}))
    ok = subprocess.run([sys.executable, "-m", "wk_widget", "explore", uri, "--credentials", str(creds)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert HTTP_AUTH[1] not in ok.stdout and HTTP_AUTH[1] not in ok.stderr
    denied = subprocess.run([sys.executable, "-m", "wk_widget", "explore", uri], capture_output=True, text=True, check=False)
    assert denied.returncode == 1 and "401" in denied.stderr
    creds.write_text(json.dumps({"type": "http_basic", "username": HTTP_AUTH[0], "password": "wrong-pass-word-77"}))
    wrong = subprocess.run([sys.executable, "-m", "wk_widget", "explore", uri, "--credentials", str(creds)], capture_output=True, text=True, check=False)
    assert wrong.returncode == 1 and "wrong-pass-word-77" not in wrong.stderr


def test_cli_retry_budget(http_server: HttpServer) -> None:
    """`--retry-budget 0`: one attempt at a failing server; the env default gives retries."""
    uri = f"{http_server.url}/__status/500/datasets-errors/zarr2_uint8_blosc"
    cli = [sys.executable, "-m", "wk_widget", "explore", uri]
    http_server.reset_stats()
    once = subprocess.run([*cli, "--retry-budget", "0"], capture_output=True, text=True, check=False)
    assert once.returncode == 1 and "server fault" in once.stderr.lower(), once
    single = http_server.stats()["requests"]
    http_server.reset_stats()
    env = {**os.environ, "WK_WIDGET_RETRY_BUDGET": "1"}
    retried = subprocess.run(cli, capture_output=True, text=True, check=False, env=env)
    assert retried.returncode == 1 and "server fault" in retried.stderr.lower(), retried
    assert http_server.stats()["requests"] > single >= 1
    for bad in ("-1", "nan", "soon"):
        usage = subprocess.run([*cli, "--retry-budget", bad], capture_output=True, text=True, check=False)
        assert usage.returncode == 2 and "retry-budget" in usage.stderr and "Traceback" not in usage.stderr, usage
