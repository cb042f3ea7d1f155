"""Session-wide fixtures. Keep logic in ``tests/support/``; this file only wires it up.

Environment rule: ``isolate_cloud_env()`` runs at import time, before any test module
imports gcsfs/s3fs/boto3, so no developer credentials or cloud config leak into tests
and gcsfs does not hang on the emulator (``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false``).

Retry rule: reads against a server that keeps failing would wait the default 30 s retry
budget (``wk.set_retry_policy``) in every such test; the suite runs with
``TEST_RETRY_BUDGET`` instead. Tests marked ``real_retry_budget`` (the ones that test the
budget itself) start from the library's defaults.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_PROJECT_ROOT = str(Path(__file__).resolve().parents[1])
if _PROJECT_ROOT not in sys.path:  # so that ``tests.support`` imports in any import mode
    sys.path.insert(0, _PROJECT_ROOT)

from tests.support.servers import (  # noqa: E402
    HTTP_AUTH,
    GcsServer,
    HttpServer,
    S3Server,
    isolate_cloud_env,
)
from wk_widget.storage.retry import RetryPolicy, set_retry_policy  # noqa: E402

_STORAGE_ENV = isolate_cloud_env()

TEST_RETRY_BUDGET = 5.0  # seconds: room for a few retries on a loaded machine, not 30 s of waiting
_DEFAULTS = RetryPolicy()


def _retry_policy_for_tests(real: bool) -> None:
    set_retry_policy(
        budget=_DEFAULTS.budget if real else TEST_RETRY_BUDGET,
        read_timeout=_DEFAULTS.read_timeout,
        max_retry_after=_DEFAULTS.max_retry_after,
    )


_retry_policy_for_tests(real=False)  # also for fixtures that read before the first test
os.environ["WK_WIDGET_RETRY_BUDGET"] = str(TEST_RETRY_BUDGET)  # the CLI in child processes too


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_retry_budget: run with the library's default retry policy (30 s budget)"
    )


@pytest.fixture(autouse=True)
def _test_retry_policy(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts from the suite's short retry budget (or the defaults when marked
    ``real_retry_budget``), whatever the previous test set."""
    _retry_policy_for_tests(real=request.node.get_closest_marker("real_retry_budget") is not None)
    yield
    _retry_policy_for_tests(real=False)


@pytest.fixture(scope="session")
def storage_env() -> dict[str, str]:
    """The environment variables set for storage isolation (already applied)."""
    return dict(_STORAGE_ENV)


# --------------------------------------------------------------------------- servers


@pytest.fixture(scope="session")
def http_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("http-root")


@pytest.fixture(scope="session")
def http_server(http_root: Path) -> Iterator[HttpServer]:
    with HttpServer(http_root) as server:
        yield server


@pytest.fixture(scope="session")
def http_auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    """Basic auth: user ``alice``, password ``wonderland-s3cret`` (``servers.HTTP_AUTH``)."""
    with HttpServer(tmp_path_factory.mktemp("http-auth-root"), basic_auth=HTTP_AUTH) as server:
        yield server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture(scope="session")
def s3_auth_server() -> Iterator[S3Server]:
    with S3Server(enforce_auth=True) as server:
        yield server


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GcsServer]:
    with GcsServer() as server:
        # gs:// URIs reach the emulator the standard way, as a user's would.
        os.environ["STORAGE_EMULATOR_HOST"] = server.endpoint_url
        try:
            yield server
        finally:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
