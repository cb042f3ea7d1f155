"""Recognising a Neuroglancer link and decoding (and encoding) its `#!` state fragment."""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import InvalidURIError, scrub

# `#!` raw, or percent-encoded once or twice (either character).
_STATE_MARKER = re.compile(r"(?:#|%23|%2523)(?:!|%21|%2521)", re.IGNORECASE)
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_MAX_DECODES = 4  # state encoded twice, plus a link that was itself encoded twice
_SHORT_LINK = 100


def is_neuroglancer_url(text: str) -> bool:
    """Whether `text` carries a Neuroglancer `#!` state (raw or percent-encoded)."""
    return isinstance(text, str) and _STATE_MARKER.search(text) is not None


def _short(text: str) -> str:
    """The link for messages: secrets removed first, then cut to a readable length."""
    clean = scrub(text)
    if len(clean) > _SHORT_LINK:
        clean = clean[: _SHORT_LINK - 3] + "..."
    return clean


class _DecodeError(Exception):
    pass


def _percent_decode(text: str) -> str:
    """Decode `%XX` escapes strictly (UTF-8); `+` stays `+`."""
    bad = _BAD_ESCAPE.search(text)
    if bad is not None:
        snippet = text[bad.start() : bad.start() + 3]
        raise _DecodeError(f"malformed percent-escape {snippet!r} at position {bad.start()}")

    def decode_run(match: re.Match[str]) -> str:
        run = match.group(0)
        data = bytes(int(run[i + 1 : i + 3], 16) for i in range(0, len(run), 3))
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise _DecodeError(
                f"percent-escapes {run[:30]!r} at position {match.start()} are not UTF-8"
            ) from None

    return _ESCAPE_RUN.sub(decode_run, text)


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _load_state(fragment: str, link: str) -> dict[str, Any]:
    if not fragment.strip():
        raise InvalidURIError(link, "no Neuroglancer state after '#!'")
    candidate = fragment.strip()
    json_error = ""
    for _ in range(_MAX_DECODES + 1):
        try:
            value = json.loads(candidate)
        except RecursionError:
            raise InvalidURIError(link, "the Neuroglancer state is nested too deeply") from None
        except ValueError as exc:  # JSONDecodeError, also too-long integer literals
            json_error = str(exc)
        else:
            if not isinstance(value, dict):
                raise InvalidURIError(
                    link, f"the Neuroglancer state is {_json_kind(value)}, not a JSON object"
                )
            return value
        if "%" not in candidate:
            break
        try:
            candidate = _percent_decode(candidate)
        except _DecodeError as exc:
            raise InvalidURIError(link, f"the Neuroglancer state has a {exc}") from None
    raise InvalidURIError(link, f"the Neuroglancer state is not valid JSON ({json_error})")


# What Neuroglancer's Python package leaves unescaped; '#' is escaped so that the first
# '#!' stays the only one.
_URL_SAFE = "~@$&()*!+=:;,.?/'"
