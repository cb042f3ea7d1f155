"""The readers' shared pieces: the bytes-codec table, the LRU and single-flight loads."""

from __future__ import annotations

import asyncio
import bz2
import gzip
import lzma
import zlib

import google_crc32c
import imagecodecs
import pytest

from wk_widget.errors import UnsupportedDataError
from wk_widget.formats._shared import limits as _limits
from wk_widget.formats._shared.bytes_codecs import BYTES_CODECS, bounded_decode, bytes_decoder
from wk_widget.formats._shared.cache import LRU, MISSING, SingleFlight, cached_load

DATA = bytes(range(256)) * 64


def _crc32c(data: bytes) -> bytes:
    return data + google_crc32c.value(data).to_bytes(4, "little")


ENCODERS = {
    "gzip": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zstd": imagecodecs.zstd_encode,
    "blosc": imagecodecs.blosc_encode,
    "crc32c": _crc32c,
}


def test_the_table_is_what_the_formats_read() -> None:
    assert set(BYTES_CODECS) == set(ENCODERS)
    assert bounded_decode("lz4", "where") is None  # a format's own framing, not in the table


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_each_codec_decodes_real_streams(name: str) -> None:
    decode = bytes_decoder(name, "where", len(DATA))
    assert decode is not None
    assert bytes(decode(ENCODERS[name](DATA))) == DATA


def test_gzip_entry_reads_zlib_streams_too() -> None:
    decode = bounded_decode("gzip", "where")
    assert decode is not None
    assert decode(zlib.compress(DATA), len(DATA)) == DATA


@pytest.mark.parametrize("name", ["gzip", "bz2", "xz", "zstd", "blosc"])
def test_each_compressor_stops_at_its_limit(name: str) -> None:
    decode = bytes_decoder(name, "where", len(DATA) - 1)
    assert decode is not None
    with pytest.raises(_limits.DecodeLimit):
        decode(ENCODERS[name](DATA))


def test_crc32c_mismatch_is_an_error() -> None:
    decode = bytes_decoder("crc32c", "where", len(DATA))
    assert decode is not None
    bad = bytearray(_crc32c(DATA))
    bad[0] ^= 1
    with pytest.raises(ValueError, match="crc32c checksum mismatch"):
        decode(bytes(bad))


def test_a_missing_codec_module_is_named_when_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "imagecodecs", None)  # as if not installed
    with pytest.raises(UnsupportedDataError, match="pip install imagecodecs"):
        bounded_decode("zstd", "s3://bucket/a.zarr/zarr.json")
    assert bounded_decode("gzip", "where") is not None  # zlib is the standard library's


def test_lru_evicts_least_recent_by_entries_and_bytes() -> None:
    lru: LRU[str, int | None] = LRU(max_entries=2, max_bytes=100)
    lru.put("a", 1, 10)
    lru.put("b", None, 10)  # None is a value, not a miss
    assert lru.get("a") == 1  # now "b" is the least recent
    lru.put("c", 3, 10)
    assert "b" not in lru and lru.get("b") is MISSING
    assert lru["a"] == 1 and lru["c"] == 3 and len(lru) == 2
    lru.put("d", 4, 95)  # over the byte budget: the others go
    assert len(lru) == 1 and lru.nbytes == 95
    lru.put("d", 5, 5)  # replacing counts the new size only
    assert lru.nbytes == 5 and lru["d"] == 5


def test_single_flight_shares_one_load_and_survives_a_cancelled_caller() -> None:
    calls = 0
    release = asyncio.Event()

    async def load() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 42

    async def run() -> tuple[list[int], int]:
        lru: LRU[str, int] = LRU(10, 1000)
        flights: SingleFlight[str, int] = SingleFlight()
        first = asyncio.ensure_future(cached_load(lru, flights, "k", load, lambda v: 8))
        others = [asyncio.ensure_future(cached_load(lru, flights, "k", load, lambda v: 8)) for _ in range(3)]
        await asyncio.sleep(0)
        first.cancel()  # the caller goes away; the load goes on for the others
        await asyncio.sleep(0)
        release.set()
        got = list(await asyncio.gather(*others))
        assert flights.pending("k") is None and lru["k"] == 42
        got.append(await cached_load(lru, flights, "k", load, lambda v: 8))  # from the LRU
        return got, calls

    got, n = asyncio.run(run())
    assert got == [42, 42, 42, 42] and n == 1


def test_a_failed_load_is_not_kept() -> None:
    attempts = 0

    async def load() -> int:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise OSError("flaky")
        return 7

    async def run() -> int:
        lru: LRU[str, int] = LRU(10, 1000)
        flights: SingleFlight[str, int] = SingleFlight()
        with pytest.raises(OSError, match="flaky"):
            await cached_load(lru, flights, "k", load, lambda v: 1)
        assert "k" not in lru
        return await cached_load(lru, flights, "k", load, lambda v: 1)

    assert asyncio.run(run()) == 7 and attempts == 2
