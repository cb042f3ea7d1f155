"""Property tests for Neuroglancer links: any input gives a state or InvalidURIError, and
links we build read back to the same layers."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wk_widget.errors import InvalidURIError
from wk_widget.formats import parse_uri
from wk_widget.neuroglancer import (
    NeuroglancerLayerOut,
    NeuroglancerState,
    build_neuroglancer_url,
    parse_neuroglancer_url,
)
from wk_widget.units import NANOMETERS_PER_UNIT, convert, normalize_unit

FAST = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# --- arbitrary input: a state or InvalidURIError, nothing else --------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)

SOURCE_PIECES = [
    "zarr://", "zarr2://", "zarr3://", "n5://", "precomputed://", "graphene://", "python://",
    "https://", "http://", "s3://", "gs://", "gs+xml://", "gs+ngauth+https://", "s3+http://",
    "s3+https://", "middleauth+https://", "file://", "ftp://", "host", "127.0.0.1:9000",
    "my.bucket", "s3.amazonaws.com", "/", "/a", "|", "|zarr2:", "|zarr3:", "|zip:", "|n5:",
    "|neuroglancer-precomputed:", "#", "?", "dimension_separator=/", "%20", "[", ":", "..",
    "info", ".zarray", "datasource-properties.json", " ", "+",
]  # fmt: skip
source_urls = st.lists(st.sampled_from(SOURCE_PIECES) | st.text(max_size=6), max_size=8).map(
    "".join
)
sources = st.one_of(
    source_urls,
    st.fixed_dictionaries({"url": source_urls}, optional={"transform": json_values}),
    st.lists(source_urls | st.fixed_dictionaries({"url": source_urls}) | json_values, max_size=3),
    json_values,
)
dimension_entries = st.one_of(
    st.tuples(
        st.floats() | st.integers(), st.sampled_from(["m", "nm", "um", "s", "", "Ym", "ym", "x"])
    ).map(list),
    json_values,
)
dimensions = st.dictionaries(
    st.sampled_from(["x", "y", "z", "t", "c'", "c^"]), dimension_entries, max_size=5
)
layer_specs = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(
                [
                    "image",
                    "segmentation",
                    "annotation",
                    "mesh",
                    "segmentation_with_graph",
                    "new",
                    "auto",
                    "x",
                ]
            )
            | json_values,
            "name": st.text(max_size=8) | json_values,
            "source": sources,
            "opacity": st.floats() | json_values,
            "selectedAlpha": st.floats(),
            "visible": st.booleans() | json_values,
            "archived": st.booleans(),
            "shader": st.text(max_size=40) | st.just('#uicontrol vec3 color color(default="red")'),
            "shaderControls": st.fixed_dictionaries(
                {},
                optional={
                    "normalized": st.fixed_dictionaries(
                        {},
                        optional={
                            "range": json_values,
                            "window": json_values,
                            "channel": json_values,
                        },
                    )
                    | json_values,
                    "color": st.text(max_size=8) | json_values,
                    "invert": json_values,
                },
            )
            | json_values,
            "localDimensions": json_values,
            "localPosition": json_values,
        },
    ),
    json_values,
)
states = st.fixed_dictionaries(
    {},
    optional={
        "dimensions": dimensions | json_values,
        "layers": st.lists(layer_specs, max_size=4)
        | st.dictionaries(st.text(max_size=5), layer_specs, max_size=3)
        | json_values,
        "position": json_values,
        "layout": json_values,
        "navigation": json_values,
    },
)


def encodings() -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            lambda t: t,
            lambda t: quote(t, safe="~@#$&()*!+=:;,.?/'"),
            lambda t: quote(t, safe=""),
            lambda t: quote(quote(t, safe=""), safe=""),
        ]
    )


def check_outcome(text: Any) -> NeuroglancerState | None:
    try:
        state = parse_neuroglancer_url(text)
    except InvalidURIError as exc:
        assert exc.cause
        return None
    assert isinstance(state, NeuroglancerState)
    for layer in state.layers:
        assert layer.category in ("color", "segmentation", None)
        assert layer.type in ("image", "segmentation", None)
        assert (layer.type is None) == (layer.category is None)
        parsed = parse_uri(layer.uri)  # accepted, and with the same format hint
        assert parsed.format_hint == layer.format_hint
        assert parsed.scheme in ("http", "https", "s3", "gs")
        assert isinstance(layer.view_configuration, dict)
        if layer.voxel_size is not None:
            assert all(math.isfinite(v) and v > 0 for v in layer.voxel_size)
            assert layer.unit in NANOMETERS_PER_UNIT
    for skipped in state.skipped:
        assert skipped.reason
        assert "unexpected layer structure" not in skipped.reason, skipped.reason
    if state.voxel_size is not None:
        assert all(math.isfinite(v) and v > 0 for v in state.voxel_size)
        assert state.unit in NANOMETERS_PER_UNIT
    return state


@FAST
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    check_outcome(text)


@FAST
@given(st.text(max_size=30), st.sampled_from(["#!", "%23!", "%2523!", "#%21"]), st.text())
def test_arbitrary_text_after_marker(prefix: str, marker: str, rest: str) -> None:
    check_outcome(prefix + marker + rest)


@FAST
@given(json_values, encodings())
def test_arbitrary_json_as_state(value: Any, encode: Any) -> None:
    state = check_outcome("https://ng.example/#!" + encode(json.dumps(value)))
    if state is not None:
        assert isinstance(value, dict)
        assert json.dumps(state.raw) == json.dumps(value)  # NaN-safe comparison


@FAST
@given(states, encodings())
def test_link_like_states(value: dict[str, Any], encode: Any) -> None:
    state = check_outcome("https://ng.example/#!" + encode(json.dumps(value)))
    layers = value.get("layers")
    if isinstance(layers, list | dict):
        assert state is not None
        assert len(state.layers) + len(state.skipped) == len(layers)
    elif layers is None:
        assert state is not None and state.layers == []


# --- round trip: what we build reads back the same --------------------------------------

segment = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_", min_size=1, max_size=8
).filter(lambda s: s not in (".zattrs", ".zarray", ".zgroup", "info"))
key_paths = st.lists(segment, min_size=1, max_size=4).map("/".join)
locations = st.one_of(
    st.tuples(st.sampled_from(["https://host.example", "http://127.0.0.1:8000"]), key_paths).map(
        lambda t: (f"{t[0]}/{t[1]}", f"{t[0]}/{t[1]}")
    ),
    st.tuples(st.sampled_from(["bucket", "my-bucket", "b0"]), key_paths).map(
        lambda t: (f"s3://{t[0]}/{t[1]}", f"s3://{t[0]}/{t[1]}")
    ),
    st.tuples(st.sampled_from(["bucket", "other.bucket"]), key_paths).map(
        lambda t: (f"gs://{t[0]}/{t[1]}", f"gs://{t[0]}/{t[1]}")
    ),
    key_paths.map(
        lambda k: (f"s3://127.0.0.1:9000/bucket/{k}", f"http://127.0.0.1:9000/bucket/{k}")
    ),
    key_paths.map(
        lambda k: (f"s3://minio.example.org/bucket/{k}", f"https://minio.example.org/bucket/{k}")
    ),
)
FORMATS = {"zarr": "zarr2", "zarr3": "zarr3", "n5": "n5", "neuroglancerPrecomputed": "precomputed"}
layer_outs = st.tuples(
    st.sampled_from(["color", "segmentation"]), st.sampled_from(sorted(FORMATS)), locations
)
UNITS = [
    "nanometer",
    "nm",
    "micrometer",
    "um",
    "µm",
    "angstrom",
    "millimeter",
    "picometer",
    "meter",
    "inch",
]


@settings(max_examples=120, deadline=None, database=None)
@given(
    st.lists(st.text(max_size=12), min_size=0, max_size=5, unique=True).filter(
        lambda ns: "" not in ns
    ),
    st.data(),
    st.tuples(*[st.floats(min_value=1e-3, max_value=1e5, allow_nan=False)] * 3),
    st.sampled_from(UNITS),
    st.none() | st.tuples(*[st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)] * 3),
)
def test_round_trip(
    names: list[str],
    data: st.DataObject,
    voxel_size: tuple[float, float, float],
    unit: str,
    position: tuple[float, float, float] | None,
) -> None:
    specs = [data.draw(layer_outs) for _ in names]
    layers = [
        NeuroglancerLayerOut(name, category, data_format, path)
        for name, (category, data_format, (path, _)) in zip(names, specs, strict=True)
    ]
    url = build_neuroglancer_url(layers, voxel_size, unit, position=position)
    state = parse_neuroglancer_url(url)
    assert state.skipped == []
    assert [(ly.name, ly.category, ly.source, ly.format_hint) for ly in state.layers] == [
        (name, category, source, FORMATS[data_format])
        for name, (category, data_format, (_, source)) in zip(names, specs, strict=True)
    ]
    for layer in state.layers:
        assert parse_uri(layer.uri).format_hint == layer.format_hint
    # The voxel size comes back in a WEBKNOSSOS unit (nanometer when it fits), same length.
    long_unit = normalize_unit(unit)
    assert long_unit is not None and state.unit is not None and state.voxel_size is not None
    for got, given_size in zip(state.voxel_size, voxel_size, strict=True):
        assert math.isclose(convert(got, state.unit, long_unit), given_size, rel_tol=1e-14)
    assert state.position == (None if position is None else [float(p) for p in position])


decimal_sizes = st.decimals(min_value="0.01", max_value="99999", places=3, allow_nan=False).map(
    float
)


@settings(max_examples=60, deadline=None, database=None)
@given(st.tuples(decimal_sizes, decimal_sizes, decimal_sizes))
def test_round_trip_keeps_exact_decimal_voxel_sizes(voxel_size: tuple[float, float, float]) -> None:
    state = parse_neuroglancer_url(build_neuroglancer_url([], voxel_size, "nanometer"))
    assert state.unit == "nanometer"
    assert state.voxel_size == voxel_size
