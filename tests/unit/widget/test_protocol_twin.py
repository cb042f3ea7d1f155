"""The typed payloads of widget/state.py and the interfaces of js/src/protocol.ts are twins:
the same keys, optional on both sides or on neither."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wk_widget.widget import state

PROTOCOL_TS = Path(__file__).resolve().parents[3] / "js" / "src" / "protocol.ts"

TWINS = [
    "AdditionalAxis",
    "LayerInfo",
    "DatasetInfo",
    "LayerSettings",
    "Preview",
    "TileRequest",
    "TileReplyOk",
    "TileReplyError",
    "ResultMessage",
    "StatsMessage",
    "ClickMessage",
]


def ts_interface(name: str) -> dict[str, bool]:
    """Top-level fields of `export interface name` -> optional?"""
    text = PROTOCOL_TS.read_text()
    m = re.search(rf"^export interface {name} \{{\n(.*?)^\}}", text, re.S | re.M)
    assert m, f"no interface {name} in protocol.ts"
    return {f.group(1): bool(f.group(2)) for f in re.finditer(r"^  (\w+)(\?)?:", m.group(1), re.M)}


@pytest.mark.parametrize("name", TWINS)
def test_typed_dict_and_ts_interface_have_the_same_keys(name: str) -> None:
    ts = ts_interface(name)
    td = getattr(state, name)
    py = {key: key in td.__optional_keys__ for key in td.__annotations__}
    assert sorted(py) == sorted(ts), f"{name}: python-only {set(py) - set(ts)}, ts-only {set(ts) - set(py)}"
    assert py == ts, f"{name}: optional keys differ"


def test_the_parser_sees_optional_fields() -> None:
    assert ts_interface("ResultMessage")["error"] is True
    assert ts_interface("ResultMessage")["ok"] is False
