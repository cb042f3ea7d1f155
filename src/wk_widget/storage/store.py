"""Read-only, counted, retrying access to HTTP, S3, GCS and local storage.

A `Storage` is built once per (scheme, endpoint, credentials) in each process and shared
by every path on it. It offers only reads (`get`, `get_range`, `list_dir`): no code path
can write, delete or create anything remotely. Paths are fsspec paths of the storage
(`https://host/a/b`, `bucket/a/b`, `/local/a/b`); messages show them as user URLs.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import errno
import os
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import (
    AccessDeniedError,
    CredentialsError,
    RemoteDatasetError,
    ServerFaultError,
    SourceNotFoundError,
    SourceTimeoutError,
    SourceUnreachableError,
    register_secret,
    scrub,
)
from ._http import HttpStatusError, RangeMismatch, bounded_get, too_large
from ._loop import io_loop, run_sync
from ._object_ranges import gcs_get_range, s3_get_range
from ._public import PublicResolver, public_get
from .credentials import (
    Credentials,
    GcsCredentials,
    HttpBasicAuth,
    HttpBearerToken,
    S3Credentials,
)
from .meter import RequestMeter
from .origins import (
    NOTEBOOK,
    Access,
    ambient_s3_endpoint,
    check_public_uri,
    resolve_public,
    s3_endpoint_key,
    scoped,
)
from .retry import RetryClock, parse_retry_after, retry_policy
from .uri import SourceURI, redact_url

# gcsfs 2026.x stalls ~60 s per call against emulators unless this is off before import.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

DEFAULT_CONCURRENCY = 128
DEFAULT_RETRIES = 4
DEFAULT_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 10.0
METADATA_MAX_BYTES = 16 * 1024 * 1024  # a whole-object read without a known size: metadata


@dataclass(frozen=True)
class StorageConfig:
    """Everything needed to rebuild a `Storage` in another process (picklable)."""

    scheme: str  # "http" (also https), "s3", "gs", "file"
    endpoint_url: str | None = None
    credentials: Credentials | None = field(default=None, repr=False)
    concurrency: int = DEFAULT_CONCURRENCY
    retries: int = DEFAULT_RETRIES
    timeout: float = DEFAULT_TIMEOUT
    access: Access = NOTEBOOK  # ambient credentials allowed? public addresses only?
    withheld: str = ""  # why credentials were not sent here (said on 401/403)


class _Transient(Exception):
    """A failure worth retrying (5xx, connection reset, timeout)."""

    def __init__(self, error: RemoteDatasetError, retry_after: float | None = None, range_mismatch: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        self.range_mismatch = range_mismatch


def _status_of(exc: BaseException) -> int | None:
    for attr in ("status", "code", "status_code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        meta = response.get("ResponseMetadata") or {}
        status = meta.get("HTTPStatusCode")
        if isinstance(status, int):
            return status
        code = (response.get("Error") or {}).get("Code")
        if code in ("AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "Forbidden"):
            return 403
        if code in ("NoSuchKey", "NoSuchBucket", "404", "NotFound"):
            return 404
    return None


def _from_status(status: int, display: str, detail: str = "") -> RemoteDatasetError:
    suffix = f" ({detail})" if detail else ""
    if status in (401, 403):
        what = "authentication required" if status == 401 else "access denied"
        return AccessDeniedError(display, f"{what} (HTTP {status}); check the credentials{suffix}")
    if status == 404:
        return SourceNotFoundError(display, f"not found (HTTP 404){suffix}")
    if status >= 500 or status == 429:
        return ServerFaultError(display, f"server fault (HTTP {status}){suffix}")
    return RemoteDatasetError(display, f"request failed (HTTP {status}){suffix}")


def classify_error(exc: BaseException, display: str) -> RemoteDatasetError | _Transient | None:
    """Map any client library's exception to our errors; None means 'not found'.

    `_Transient` wraps errors worth retrying. Never lets secrets through (messages scrubbed).
    """
    if isinstance(exc, RemoteDatasetError):
        return exc
    if isinstance(exc, FileNotFoundError):
        return None
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return _Transient(SourceTimeoutError(display, "timed out waiting for the server"))
    if isinstance(exc, RangeMismatch):
        return _Transient(ServerFaultError(display, f"wrong byte range: {exc}"), range_mismatch=True)
    if isinstance(exc, MemoryError):
        return RemoteDatasetError(display, "out of memory while reading; the response is too large")
    status = _status_of(exc)
    if status == 404:
        return None
    if status is not None:
        err = _from_status(status, display, type(exc).__name__ if status >= 500 and not isinstance(exc, HttpStatusError) else "")
        retry_after = exc.retry_after if isinstance(exc, HttpStatusError) else _s3_retry_after(exc)
        return _Transient(err, retry_after) if (status >= 500 or status == 429) else err
    if isinstance(exc, PermissionError) or (isinstance(exc, OSError) and exc.errno == errno.EACCES):
        return AccessDeniedError(display, "access denied; check the credentials")
    name = type(exc).__name__
    text = scrub(str(exc)).splitlines()[0] if str(exc) else name
    if "NoCredentials" in name or "Credential" in name:
        return AccessDeniedError(display, f"no usable credentials ({text})")
    if "SignatureDoesNotMatch" in text or "InvalidAccessKeyId" in text or "AccessDenied" in text:
        return AccessDeniedError(display, f"access denied; check the credentials ({text})")
    if "NoSuchBucket" in text or "NoSuchKey" in text:
        return None
    connection_like = (
        "Connect" in name
        or "Connection" in name
        or "ServerDisconnected" in name
        or "EndpointConnectionError" in name
        or isinstance(exc, ConnectionError)
        or (isinstance(exc, OSError) and exc.errno in (errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH))
    )
    if connection_like:
        return _Transient(SourceUnreachableError(display, f"cannot reach the server ({text})"))
    if "ClientPayloadError" in name or "IncompleteRead" in name:
        return _Transient(ServerFaultError(display, f"the connection broke mid-answer ({text})"))
    if isinstance(exc, IsADirectoryError | NotADirectoryError):
        return None
    return RemoteDatasetError(display, f"{name}: {text}")


def _s3_retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
        return parse_retry_after(headers.get("retry-after"))
    return None


def _public_resolver(access: Access) -> dict[str, Any]:
    if not access.public_only:
        return {}
    return {"resolver": PublicResolver()}


async def _check_public_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    await asyncio.get_running_loop().run_in_executor(None, resolve_public, host, port, redact_url(endpoint))


_OBJECT_RANGE_GETS = {"s3": s3_get_range, "gs": gcs_get_range}


def _detect_s3_env_credentials() -> bool:
    if os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE"):
        return True
    shared = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or str(Path.home() / ".aws" / "credentials")
    return Path(shared).is_file()


def _detect_gcs_env_credentials() -> bool:
    if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return True
    adc = Path.home() / ".config" / "gcloud" / "application_default_credentials.json"
    return adc.is_file()


class Storage:
    """Read-only access to one storage endpoint with one set of credentials."""

    def __init__(self, config: StorageConfig) -> None:
        self.config = config
        self.meter = RequestMeter()
        self._fs: Any = None
        self._fs_lock = asyncio.Lock()
        self._semaphore = asyncio.Semaphore(config.concurrency)
        # gcsfs retries 5xx itself; a second layer would multiply its backoff.
        self._retry = config.scheme != "gs" and config.retries > 0

    def __repr__(self) -> str:
        return f"Storage({self.config.scheme}, endpoint={self.config.endpoint_url!r}, {self.meter!r})"

    # -- construction of the fsspec filesystem (on the I/O loop) ---------------------
    async def _filesystem(self) -> Any:
        if self._fs is None:
            async with self._fs_lock:
                if self._fs is None:
                    self._fs = await self._build_filesystem()
        return self._fs

    async def _build_filesystem(self) -> Any:
        cfg = self.config
        loop = asyncio.get_running_loop()
        creds = cfg.credentials
        if cfg.scheme == "http":
            import aiohttp
            from fsspec.implementations.http import HTTPFileSystem

            client_kwargs: dict[str, Any] = {
                "timeout": aiohttp.ClientTimeout(
                    # No sock_read: it re-arms a timer on every received packet (hot path).
                    total=cfg.timeout, connect=DEFAULT_CONNECT_TIMEOUT
                ),
                "connector": aiohttp.TCPConnector(
                    limit=cfg.concurrency, loop=loop, **_public_resolver(cfg.access)
                ),
                # Encodings are decoded by us, within the response's size cap.
                "auto_decompress": False,
            }
            headers: dict[str, str] = {"Accept-Encoding": "gzip, deflate"}
            if isinstance(creds, HttpBasicAuth):
                token = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
                register_secret(token)
                headers["Authorization"] = f"Basic {token}"
            elif isinstance(creds, HttpBearerToken):
                headers["Authorization"] = f"Bearer {creds.token}"

            async def get_client(**kwargs: Any) -> aiohttp.ClientSession:
                return aiohttp.ClientSession(**kwargs)

            return HTTPFileSystem(
                asynchronous=True,
                loop=loop,
                client_kwargs=client_kwargs,
                get_client=get_client,
                headers=headers,
                skip_instance_cache=True,
            )
        if cfg.scheme == "s3":
            import s3fs

            kwargs: dict[str, Any] = {
                "asynchronous": True,
                "loop": loop,
                "skip_instance_cache": True,
                # One GET per object: the default splits big reads after a HEAD.
                "max_concurrency": 1,
                "config_kwargs": {
                    "retries": {"max_attempts": 1, "mode": "standard"},
                    "connect_timeout": DEFAULT_CONNECT_TIMEOUT,
                    "read_timeout": cfg.timeout,
                    "max_pool_connections": cfg.concurrency,
                },
            }
            client_kwargs = {}
            endpoint = self.s3_endpoint()
            region: str | None = None
            if isinstance(creds, S3Credentials):
                kwargs["key"] = creds.access_key_id
                kwargs["secret"] = creds.secret_access_key
                region = creds.region
            elif cfg.access.ambient and _detect_s3_env_credentials() and (
                s3_endpoint_key(endpoint) == s3_endpoint_key(ambient_s3_endpoint())
            ):
                pass  # botocore's standard chain, only towards the endpoint it is configured for
            else:
                kwargs["anon"] = True
            region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            if endpoint:
                client_kwargs["endpoint_url"] = endpoint
                if cfg.access.public_only:
                    await _check_public_endpoint(endpoint)
            if region:
                client_kwargs["region_name"] = region
            kwargs["client_kwargs"] = client_kwargs
            fs = s3fs.S3FileSystem(**kwargs)
            fs.retries = 1  # one attempt per call: retries with backoff are ours
            await fs.set_session()
            return fs
        if cfg.scheme == "gs":
            import gcsfs

            gkwargs: dict[str, Any] = {"asynchronous": True, "loop": loop, "skip_instance_cache": True}
            if isinstance(creds, GcsCredentials):
                gkwargs["token"] = creds.service_account or creds.token
            elif not (cfg.access.ambient and _detect_gcs_env_credentials()):
                gkwargs["token"] = "anon"
            endpoint = cfg.endpoint_url or os.environ.get("STORAGE_EMULATOR_HOST")
            if endpoint:
                if "://" not in endpoint:
                    endpoint = f"http://{endpoint}"
                gkwargs["endpoint_url"] = endpoint
            if cfg.access.public_only:
                await _check_public_endpoint(endpoint or "https://storage.googleapis.com")
            fs = gcsfs.GCSFileSystem(**gkwargs)
            return fs
        if cfg.scheme == "file":
            if cfg.access.public_only:
                raise RemoteDatasetError("", "refused: local files cannot be opened here")
            from fsspec.implementations.asyn_wrapper import AsyncFileSystemWrapper
            from fsspec.implementations.local import LocalFileSystem

            return AsyncFileSystemWrapper(LocalFileSystem(), asynchronous=True)
        raise ValueError(f"unsupported scheme {cfg.scheme}")

    def s3_endpoint(self) -> str | None:
        """The S3 endpoint in effect: credentials, then the URI (path-style), then env."""
        creds = self.config.credentials
        if isinstance(creds, S3Credentials) and creds.endpoint_url:
            return creds.endpoint_url
        return (
            self.config.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
            or None
        )

    # -- user-facing naming ------------------------------------------------------------
    def display(self, path: str) -> str:
        """The URL of an fsspec path as users write it (for messages and exports)."""
        scheme = self.config.scheme
        if scheme == "http":
            return redact_url(path)
        if scheme == "file":
            return Path(path).as_uri() if path.startswith("/") else path
        if scheme == "s3":
            # Path-style for non-default endpoints, so that an exported URI opens again.
            endpoint = self.s3_endpoint()
            if endpoint:
                return f"s3://{urlsplit(endpoint).netloc}/{path}"
        return f"{scheme}://{path}"

    # -- reads ---------------------------------------------------------------------------
    async def _attempt(self, coro_factory: Any, path: str, meters: Iterable[RequestMeter]) -> Any:
        """Run one request with retries: transient faults are retried with backoff (or the
        server's Retry-After) while the policy's budget lasts; a wrong Content-Range once."""
        meters = tuple(meters)
        policy = retry_policy()
        clock = RetryClock(policy)
        range_retried = False
        while True:
            try:
                async with self._semaphore:
                    async with asyncio.timeout(policy.read_timeout):
                        result = await coro_factory()
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                mapped = classify_error(exc, self.display(path))  # named only when it failed
                for m in (self.meter, *meters):
                    m.add(0, retries=1 if isinstance(mapped, _Transient) else 0)
                if mapped is None:
                    return None
                if isinstance(mapped, _Transient):
                    if mapped.range_mismatch:
                        if range_retried:
                            raise mapped.error from None
                        range_retried = True
                        continue
                    delay = clock.next_delay(mapped.retry_after, random.random()) if self._retry else None
                    if delay is None:
                        raise mapped.error from None
                    await asyncio.sleep(delay)
                    continue
                if isinstance(mapped, AccessDeniedError) and self.config.withheld:
                    raise AccessDeniedError(mapped.uri, f"{mapped.cause}; {self.config.withheld}") from None
                raise mapped from None
            else:
                nbytes = len(result) if isinstance(result, bytes | bytearray | memoryview) else 0
                for m in (self.meter, *meters):
                    m.add(nbytes)
                return result

    async def _http_get(self, fs: Any, url: str, cap: int, span: tuple[int, int | None] | None) -> bytes:
        """One GET on the filesystem's aiohttp session (fsspec's _cat_file costs ~2x more CPU
        per request: URL re-encoding, kwargs copies; chunk reads are the hot path)."""
        import yarl

        session = fs._session if getattr(fs, "_session", None) is not None else await fs.set_session()
        headers = fs.kwargs.get("headers") or {}
        if self.config.access.public_only:
            return await public_get(session, url, headers, self.display(url), cap, span)
        return await bounded_get(session, yarl.URL(url, encoded=True), headers, self.display(url), cap, span)

    async def get(
        self, path: str, *, meters: Iterable[RequestMeter] = (), max_bytes: int | None = None
    ) -> bytes | None:
        """The whole object at `path`, or None when it does not exist (404). Larger than
        `max_bytes` (default: what metadata may need) is an error, found before reading it."""
        fs = await self._filesystem()
        cap = METADATA_MAX_BYTES if max_bytes is None else int(max_bytes)
        if self.config.scheme == "http":
            return await self._attempt(lambda: self._http_get(fs, path, cap, None), path, meters)

        async def capped() -> bytes:
            # One byte more than allowed tells 'too large' without reading the rest.
            data = await fs._cat_file(path, start=0, end=cap + 1)
            if len(data) > cap:
                raise too_large(self.display(path), cap)
            return bytes(data)

        return await self._attempt(capped, path, meters)

    async def get_range(
        self, path: str, start: int, length: int | None, *, meters: Iterable[RequestMeter] = ()
    ) -> bytes | None:
        """Bytes [start, start+length) of `path`; a negative `start` with length None reads the
        last -start bytes (a suffix range, no HEAD). None when the object does not exist.
        Anything but exactly that range is an error (retried once), never data."""
        fs = await self._filesystem()
        if length is not None and length <= 0:
            return b""
        end = None if length is None else start + length
        cap = -start if start < 0 else (length if length is not None else METADATA_MAX_BYTES)
        if self.config.scheme == "http":
            return await self._attempt(lambda: self._http_get(fs, path, cap, (start, end)), path, meters)

        display = self.display(path)
        object_get = _OBJECT_RANGE_GETS.get(self.config.scheme)

        async def ranged() -> bytes:
            if object_get is not None:  # Content-Range checked as over HTTP
                return await object_get(fs, path, start, end, cap, display)
            data = await fs._cat_file(path, start=start, end=end)
            # Local files: a range past the end gives the file's tail (shorter);
            # more than asked for is never data.
            if len(data) > cap:
                raise RangeMismatch(f"{length} bytes at {start}", f"{len(data)} bytes")
            return bytes(data)

        return await self._attempt(ranged, path, meters)

    @property
    def can_list(self) -> bool:
        return self.config.scheme in ("s3", "gs", "file")

    async def list_dir(self, path: str, *, meters: Iterable[RequestMeter] = ()) -> list[tuple[str, bool]] | None:
        """Names of the entries directly below `path` with whether each is a folder;
        None when this storage cannot list (HTTP) or the folder does not exist."""
        if not self.can_list:
            return None
        fs = await self._filesystem()

        async def ls() -> list[tuple[str, bool]]:
            entries = await fs._ls(path.rstrip("/") or "/", detail=True, **({"refresh": True} if self.config.scheme != "file" else {}))
            out: list[tuple[str, bool]] = []
            base = path.rstrip("/")
            for entry in entries:
                name = str(entry.get("name", "")).rstrip("/")
                leaf = name.rsplit("/", 1)[-1]
                if not leaf or name == base:
                    continue
                out.append((leaf, entry.get("type") == "directory"))
            return out

        result = await self._attempt(ls, path, meters)
        return result


_storages: dict[tuple[int, StorageConfig], Storage] = {}
_storages_lock = threading.Lock()


async def _close_sessions() -> None:
    for (pid, _), storage in list(_storages.items()):
        fs = storage._fs
        if pid != os.getpid() or fs is None:
            continue
        session = getattr(fs, "_session", None) or getattr(fs, "session", None)
        try:
            if session is not None and hasattr(session, "close") and not getattr(session, "closed", True):
                await session.close()
            s3 = getattr(fs, "_s3", None)
            if s3 is not None:
                await s3.__aexit__(None, None, None)
        except Exception:
            pass


@atexit.register
def _close_at_exit() -> None:
    """Close client sessions so that aiohttp does not warn about them at exit."""
    if not _storages:
        return
    with contextlib.suppress(Exception):
        run_sync(_close_sessions(), timeout=2)


def get_storage(config: StorageConfig) -> Storage:
    """The process's shared `Storage` for a configuration (one filesystem per source).

    Must be called with the I/O loop available; the filesystem itself is built lazily
    on that loop.
    """
    io_loop()
    key = (os.getpid(), config)
    with _storages_lock:
        storage = _storages.get(key)
        if storage is None:
            storage = _storages[key] = Storage(config)
        return storage


def storage_config_for(
    uri: SourceURI, credentials: Credentials | None = None, access: Access = NOTEBOOK
) -> StorageConfig:
    """The storage of `uri`: with `credentials` only on the origin they were given for
    (`access.origin`), and the kernel's own credentials only where `access` allows."""
    scheme = "http" if uri.scheme in ("http", "https") else uri.scheme
    if access.public_only:
        check_public_uri(uri)
    kept, access, withheld = scoped(uri, credentials, access)
    credentials = kept  # type: ignore[assignment]

    if credentials is not None:
        ok = {
            "http": (HttpBasicAuth, HttpBearerToken),
            "s3": (S3Credentials,),
            "gs": (GcsCredentials,),
            "file": (),
        }[scheme]
        if not isinstance(credentials, ok):
            raise CredentialsError(
                uri.url, f"{type(credentials).__name__} cannot be used for {uri.scheme}:// URIs"
            )
    endpoint = uri.endpoint_url if scheme == "s3" else None
    return StorageConfig(
        scheme=scheme, endpoint_url=endpoint, credentials=credentials, access=access, withheld=withheld
    )


def storage_for(uri: SourceURI, credentials: Credentials | None = None, access: Access = NOTEBOOK) -> Storage:
    return get_storage(storage_config_for(uri, credentials, access))
