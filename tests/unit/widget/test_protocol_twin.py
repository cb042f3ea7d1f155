"""The typed payloads of widget/state.py and the interfaces of js/src/protocol.ts are twins:
the same keys, optional on both sides or on neither; every TypedDict has its twin and every
exported interface has one or is listed as front-end only. js/test/fixtures/protocol.json
(one payload per twin, made by make_protocol_fixtures.py) is read by js/test/protocol.test.ts,
so a field renamed on either side fails a test."""

from __future__ import annotations

import importlib.util
import json
import re
import typing
from pathlib import Path
from types import ModuleType

import pytest

from wk_widget.widget import state

ROOT = Path(__file__).resolve().parents[3]
PROTOCOL_TS = ROOT / "js" / "src" / "protocol.ts"
FIXTURES = ROOT / "js" / "test" / "fixtures"

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
# TypedDicts whose twin is written inline in protocol.ts: name -> (interface, field).
INLINE_TWINS = {"BBox": ("LayerInfo", "bbox"), "Meter": ("TileReplyOk", "meter")}
# Interfaces with no TypedDict: not a payload state.py types.
TS_ONLY = {
    "TileBatch",  # the transport of tile replies (widget/protocol.py packs it)
    "ExploreReport",  # UriReport.to_json() of the explore module, inside Preview.reports
    "WidgetModel",  # the traits themselves (widget/viewer.py)
}


def ts_interface(name: str) -> dict[str, bool]:
    """Top-level fields of `export interface name` -> optional?"""
    text = PROTOCOL_TS.read_text()
    m = re.search(rf"^export interface {name} \{{\n(.*?)^\}}", text, re.S | re.M)
    assert m, f"no interface {name} in protocol.ts"
    return {f.group(1): bool(f.group(2)) for f in re.finditer(r"^  (\w+)(\?)?:", m.group(1), re.M)}


def ts_inline_keys(interface: str, field: str) -> set[str]:
    """The keys of an inline object type `field: { a: ...; b: ... }` of an interface."""
    text = PROTOCOL_TS.read_text()
    m = re.search(rf"^export interface {interface} \{{\n.*?^  {field}\??: \{{ ([^}}]*) \}}", text, re.S | re.M)
    assert m, f"no inline type {interface}.{field} in protocol.ts"
    return {part.split(":")[0].strip().rstrip("?") for part in m.group(1).split(";") if part.strip()}


def typed_dicts() -> set[str]:
    return {name for name, obj in vars(state).items() if typing.is_typeddict(obj)}


def keys(name: str) -> dict[str, bool]:
    td = getattr(state, name)
    return {key: key in td.__optional_keys__ for key in td.__annotations__}


@pytest.mark.parametrize("name", TWINS)
def test_typed_dict_and_ts_interface_have_the_same_keys(name: str) -> None:
    ts = ts_interface(name)
    py = keys(name)
    assert sorted(py) == sorted(ts), f"{name}: python-only {set(py) - set(ts)}, ts-only {set(ts) - set(py)}"
    assert py == ts, f"{name}: optional keys differ"


@pytest.mark.parametrize("name", sorted(INLINE_TWINS))
def test_inline_twins_have_the_same_keys(name: str) -> None:
    interface, field = INLINE_TWINS[name]
    assert set(keys(name)) == ts_inline_keys(interface, field)


def test_every_typed_dict_and_every_interface_has_its_twin() -> None:
    assert typed_dicts() == set(TWINS) | set(INLINE_TWINS), "a TypedDict in state.py without a twin here"
    interfaces = set(re.findall(r"^export interface (\w+)", PROTOCOL_TS.read_text(), re.M))
    assert interfaces == set(TWINS) | TS_ONLY, "an interface in protocol.ts without a twin here"


def test_the_parser_sees_optional_fields() -> None:
    assert ts_interface("ResultMessage")["error"] is True
    assert ts_interface("ResultMessage")["ok"] is False
    assert ts_inline_keys("LayerInfo", "bbox") == {"top_left", "size"}


def _fixture_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_protocol_fixtures", FIXTURES / "make_protocol_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_protocol_fixtures_shared_with_the_js_tests_are_current() -> None:
    payloads = _fixture_module().payloads()
    assert sorted(payloads) == sorted(TWINS)
    for name, payload in payloads.items():
        assert set(payload) == set(keys(name)), f"{name}: the fixture misses or adds keys"
    assert payloads["LayerInfo"]["bbox"].keys() == keys("BBox").keys()
    assert json.loads((FIXTURES / "protocol.json").read_text()) == payloads, (
        "js/test/fixtures/protocol.json is stale: run js/test/fixtures/make_protocol_fixtures.py"
    )
