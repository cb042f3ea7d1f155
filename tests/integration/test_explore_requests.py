"""Exploration costs few requests: probes run concurrently, nothing is fetched twice.

The budgets are the figures measured when this test was written; a change that makes
exploration fetch more must update them knowingly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

import wk_widget as wk
from tests.integration.conftest import manifest
from tests.support.servers import HttpServer

# 6 root probes (datasource-properties.json, .zattrs, .zarray, zarr.json, attributes.json,
# info) fetched at once, then the format's own files (levels, labels) at once.
REQUEST_BUDGET = {
    "ngff04_multiscale_uint16": 14,  # 6 probes + 3 levels + labels/.zattrs + label .zattrs + 3 label levels
    "ngff04_two_channels_uint8": 9,
    "ngff04_timelapse_float32": 9,
    "ngff04_translation_uint8": 9,
    "ngff04_2d_uint16": 9,
    "ngff05_multiscale_uint8": 9,
    "zarr2_uint8_blosc": 6,
    "zarr2_uint16_forder_slash": 6,
    "zarr3_int16_gzip": 6,
    "zarr3_uint16_transpose_crc32c": 6,
    "zarr3_sharded_uint8": 6,
    "zarr3_v2_chunk_keys_uint32": 6,
    "zarr3_float64": 6,
    "n5_uint16_gzip": 6,
    "n5_uint8_raw": 6,
    "n5_float32_blosc": 6,
    "n5_int32_zstd": 6,
    "n5_multiscales_cosem": 9,
    "n5_multiscales_bdv": 9,
    "precomputed_raw_multiscale_uint8": 6,
    "precomputed_jpeg_uint8": 6,
    "precomputed_segmentation_cseg_uint64": 6,
    "precomputed_sharded_identity_uint8": 6,
    "precomputed_sharded_murmur_gzip_uint16": 6,
    "precomputed_two_channels_uint16": 6,
    "cloudvolume_segmentation_offset_uint32": 6,
    "webknossos_zarr3": 4,  # the file name is a format hint: 1 probe + 3 mag arrays
}


@pytest.fixture(scope="module")
def counting_server() -> HttpServer:
    with HttpServer(manifest().root) as server:
        yield server


@pytest.mark.parametrize("case_id", sorted(REQUEST_BUDGET))
def test_exploration_request_count(case_id: str, counting_server: HttpServer) -> None:
    m = manifest()
    counting_server.reset_stats()
    wk.explore(m.uri(m.case(case_id), counting_server.url))
    stats = counting_server.stats()
    assert set(stats["methods"]) == {"GET"}
    assert len(stats["paths"]) == len(set(stats["paths"])), "a file was fetched twice"
    assert stats["requests"] <= REQUEST_BUDGET[case_id], sorted(stats["paths"])


def test_ngff_with_five_scales(tmp_path: Path) -> None:
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_image

    data = np.random.default_rng(0).integers(0, 255, (32, 256, 256), dtype=np.uint8)
    group = zarr.open_group(str(tmp_path / "five.ome.zarr"), mode="w", zarr_format=2)
    write_image(data, group, axes="zyx", fmt=FormatV04(), scale_factors=[2, 4, 8, 16])
    with HttpServer(tmp_path) as http:
        http.reset_stats()
        ds = wk.explore(f"{http.url}/five.ome.zarr")
        stats = http.stats()
    layer = next(iter(ds.layers.values()))
    assert [m.mag for m in layer.mags] == [(1, 1, 1), (2, 2, 1), (4, 4, 1), (8, 8, 1), (16, 16, 1)]
    # 6 concurrent probes + 5 level .zarray + labels/.zattrs (404) = 12, in 2 round trips.
    assert stats["requests"] == 12, sorted(stats["paths"])
    assert len(set(stats["paths"])) == 12
