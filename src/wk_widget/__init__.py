"""wk_widget: WEBKNOSSOS-style remote datasets, streamed lazily and read-only into Jupyter."""

from .dataset import Dataset, Layer, Mag, explore, open_datasource
from .engine import set_cache_budget, set_request_limit
from .errors import RemoteDatasetError
from .estimate import estimate, measured, set_prices
from .storage import (
    GcsCredentials,
    HttpBasicAuth,
    HttpBearerToken,
    S3Credentials,
    register_credentials,
)
from .storage.retry import set_retry_policy

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # The widget pulls in anywidget/ipywidgets; import it only when asked for.
    if name == "Viewer":
        from .widget.viewer import Viewer

        return Viewer
    raise AttributeError(f"module 'wk_widget' has no attribute {name!r}")


__all__ = [
    "Dataset",
    "GcsCredentials",
    "HttpBasicAuth",
    "HttpBearerToken",
    "Layer",
    "Mag",
    "RemoteDatasetError",
    "S3Credentials",
    "Viewer",
    "__version__",
    "estimate",
    "explore",
    "measured",
    "open_datasource",
    "register_credentials",
    "set_cache_budget",
    "set_prices",
    "set_request_limit",
    "set_retry_policy",
]
