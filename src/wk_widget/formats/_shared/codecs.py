"""Codec modules are imported through here, when a reader is compiled (not at the first chunk),
so that a missing module is an `UnsupportedDataError` naming the codec and the package to
install - never a corrupt chunk, and never a traceback."""

from __future__ import annotations

import importlib
from types import ModuleType

from ...errors import UnsupportedDataError

# import name -> PyPI distribution that provides it (all are runtime dependencies)
PACKAGES: dict[str, str] = {
    "imagecodecs": "imagecodecs",
    "google_crc32c": "google-crc32c",
    "numcodecs": "numcodecs",
    "compressed_segmentation": "compressed-segmentation",
    "compresso": "compresso",
}


def codec_module(module: str, codec: str, where: str) -> ModuleType:
    """Import the module that decodes `codec`, or explain what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = PACKAGES.get(module, module)
        raise UnsupportedDataError(
            where,
            f"codec {codec!r} needs the Python package {package!r}, which is not installed "
            f"(pip install {package})",
        ) from None


def imagecodecs_codec(name: str, codec: str, where: str) -> ModuleType:
    """imagecodecs, checked to be built with `name` (e.g. "JPEGXL": optional in some builds)."""
    mod = codec_module("imagecodecs", codec, where)
    available = getattr(getattr(mod, name, None), "available", False)
    if not available:
        raise UnsupportedDataError(
            where, f"codec {codec!r}: the installed imagecodecs is built without {name}"
        )
    return mod
