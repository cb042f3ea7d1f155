"""Ranged GETs on S3 and GCS with the same checks as HTTP: the answer's `Content-Range` must
be the range asked for (else `RangeMismatch`, retried once by the caller), and a body is
refused before it is read when it is larger than the caller's cap.

fsspec's `_cat_file` returns whatever bytes come back and drops the headers, so a shifted
206 would be decoded as data; here the S3 and GCS clients' own request calls are used and
their headers kept."""

from __future__ import annotations

from typing import Any

from ._http import RangeMismatch, check_content_range, too_large

# A server that ignores Range sends the whole object; that much is read to cut the range out.
_IGNORED_RANGE_SLACK = 1 << 20


def range_header(start: int, end: int | None) -> str:
    """`end` exclusive or None (to the end); a negative `start` is a suffix range."""
    if start < 0:
        return f"bytes={start}"
    return f"bytes={start}-" if end is None else f"bytes={start}-{end - 1}"


def _cut_whole_object(data: bytes, start: int, end: int | None) -> bytes:
    return data[start:] if start < 0 else data[start:end]


def _whole_object_cap(cap: int, start: int) -> int:
    return max(start, 0) + cap + _IGNORED_RANGE_SLACK


async def s3_get_range(fs: Any, path: str, start: int, end: int | None, cap: int, display: str) -> bytes:
    """One GetObject with a Range header through s3fs's client (its error translation kept)."""
    bucket, key, version = fs.split_path(path)
    asked = range_header(start, end)
    extra = {"VersionId": version} if version else {}
    resp = await fs._call_s3("get_object", Bucket=bucket, Key=key, Range=asked, **extra)
    body = resp["Body"]
    try:
        length = resp.get("ContentLength")
        content_range = resp.get("ContentRange")
        if content_range is None:  # 200: the whole object
            if length is not None and int(length) > _whole_object_cap(cap, start):
                raise too_large(display, cap)
            return _cut_whole_object(bytes(await body.read()), start, end)
        check_content_range(content_range, start, end, asked)
        if length is not None and int(length) > cap:
            raise too_large(display, cap)
        data = bytes(await body.read())
    finally:
        body.close()
    if len(data) > cap:
        raise RangeMismatch(asked, f"{content_range} with {len(data)} bytes")
    return data


async def gcs_get_range(fs: Any, path: str, start: int, end: int | None, cap: int, display: str) -> bytes:
    """One media GET with a Range header through gcsfs's request call (its error mapping kept:
    404 -> FileNotFoundError, 403 -> PermissionError, ...)."""
    asked = range_header(start, end)
    status, headers, _info, contents = await fs._request("GET", fs.url(path), headers={"Range": asked})
    data = bytes(contents)
    if status == 206:
        check_content_range(headers.get("Content-Range"), start, end, asked)
        if len(data) > cap:
            raise RangeMismatch(asked, f"{headers.get('Content-Range')} with {len(data)} bytes")
        return data
    if len(data) > _whole_object_cap(cap, start):
        raise too_large(display, cap)
    return _cut_whole_object(data, start, end)
