"""Neuroglancer links: reading states into layers, and building links (pure, no I/O)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote

import pytest

from wk_widget.errors import InvalidURIError, RemoteDatasetError, register_secret
from wk_widget.formats import parse_uri
from wk_widget.neuroglancer import (
    NeuroglancerLayer,
    NeuroglancerLayerOut,
    NeuroglancerState,
    build_neuroglancer_url,
    is_neuroglancer_url,
    parse_neuroglancer_url,
)

BASE = "https://neuroglancer-demo.appspot.com/"
DIMENSIONS = {"x": [8e-9, "m"], "y": [8e-9, "m"], "z": [3.3e-8, "m"]}


def encode_uri(text: str) -> str:
    """Like JavaScript's encodeURI, which Neuroglancer uses for its own links."""
    return quote(text, safe="~@#$&()*!+=:;,.?/'-_")


def encode_component(text: str) -> str:
    """Like encodeURIComponent: everything but unreserved characters."""
    return quote(text, safe="-_.!~*'()")


def link(state: dict[str, Any], encode: Any = None, base: str = BASE) -> str:
    text = json.dumps(state)
    return base + "#!" + (encode(text) if encode else text)


def one_layer(source: Any, **extra: Any) -> dict[str, Any]:
    return {
        "dimensions": DIMENSIONS,
        "layers": [{"type": "image", "name": "img", "source": source, **extra}],
    }


def only_layer(state: NeuroglancerState) -> NeuroglancerLayer:
    assert state.skipped == [], state.skipped
    assert len(state.layers) == 1
    return state.layers[0]


def check_uri(layer: NeuroglancerLayer) -> None:
    """`layer.uri` is accepted by parse_uri and keeps the format hint."""
    parsed = parse_uri(layer.uri)
    assert parsed.format_hint == layer.format_hint


# --- recognising links ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "https://neuroglancer-demo.appspot.com/#!{}",
        "https://host/#!%7B%7D",
        "https%3A%2F%2Fhost%2F%23!%7B%7D",
        "https%253A%252F%252Fhost%252F%2523!%257B%257D",
        "https://host/%23%21%7B%7D",
        "#!{}",
    ],
)
def test_is_neuroglancer_url(text: str) -> None:
    assert is_neuroglancer_url(text)


@pytest.mark.parametrize(
    "text", ["https://host/ds.zarr", "s3://b/k", "https://host/#fragment", "", "%23", "#", "!"]
)
def test_is_not_neuroglancer_url(text: str) -> None:
    assert not is_neuroglancer_url(text)


def test_is_neuroglancer_url_tolerates_non_strings() -> None:
    assert not is_neuroglancer_url(None)  # type: ignore[arg-type]
    assert not is_neuroglancer_url(b"https://h/#!{}")  # type: ignore[arg-type]


# --- decoding the state -----------------------------------------------------------------


STATE = {
    "dimensions": DIMENSIONS,
    "position": [10.5, 20.5, 30.5],
    "layout": "4panel",
    "layers": [
        {"type": "image", "name": "em image", "source": "precomputed://gs://bucket/image"},
        {
            "type": "segmentation",
            "name": "seg #1",
            "source": "precomputed://gs://bucket/seg",
            "segmentQuery": "#interneuron #L2",
        },
    ],
}


@pytest.mark.parametrize(
    "encode",
    [
        None,
        encode_uri,
        encode_component,
        lambda t: quote(t, safe=""),
        lambda t: encode_component(encode_component(t)),
        lambda t: quote(encode_uri(t), safe=""),
    ],
    ids=["raw", "encodeURI", "encodeURIComponent", "quote", "twice", "twice-mixed"],
)
def test_state_raw_once_or_twice_encoded(encode: Any) -> None:
    state = parse_neuroglancer_url(link(STATE, encode))
    assert state.raw == STATE
    assert [layer.name for layer in state.layers] == ["em image", "seg #1"]
    assert [layer.category for layer in state.layers] == ["color", "segmentation"]
    assert state.voxel_size == (8.0, 8.0, 33.0)
    assert state.unit == "nanometer"
    assert state.position == [10.5, 20.5, 30.5]
    assert state.layout == "4panel"


def test_encoded_state_marker() -> None:
    """The whole link percent-encoded (e.g. passed on as a query parameter)."""
    once = quote(link(STATE, encode_uri), safe="")
    assert "%23!" in once or "%23%21" in once
    assert parse_neuroglancer_url(once).raw == STATE
    twice = quote(once, safe="")
    assert parse_neuroglancer_url(twice).raw == STATE
    embedded = "https://redirect.example/?to=" + once
    assert parse_neuroglancer_url(embedded).raw == STATE


@pytest.mark.parametrize(
    "encode",
    [
        None,
        encode_uri,
        lambda t: encode_uri(t).replace("+", "%2B"),
        lambda t: encode_uri(encode_uri(t)),
    ],
)
def test_plus_stays_plus(encode: Any) -> None:
    state = {"layers": [{"type": "image", "name": "a+b", "source": "zarr2://https://host/a+b/c d"}]}
    layer = only_layer(parse_neuroglancer_url(link(state, encode)))
    assert layer.name == "a+b"
    assert layer.source == "https://host/a+b/c d"


def test_literal_percent_in_raw_state() -> None:
    state = {"layers": [{"type": "image", "name": "50%", "source": "https://host/my%20data"}]}
    layer = only_layer(parse_neuroglancer_url(link(state)))
    assert layer.name == "50%"
    assert layer.source == "https://host/my%20data"
    # Encoded once, the escapes inside the JSON survive as they were.
    layer = only_layer(parse_neuroglancer_url(link(state, encode_uri)))
    assert layer.source == "https://host/my%20data"


def test_whitespace_around_link() -> None:
    assert parse_neuroglancer_url("  \n" + link(STATE, encode_uri) + "\n ").raw == STATE


# --- failures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("https://host/ds.zarr", "no '#!' state"),
        ("https://host/#!", "no Neuroglancer state"),
        ("https://host/#!%E0%A4%A", "malformed percent-escape"),
        ("https://host/#!%7B%22a%22:%22b%zz%22%7D", "malformed percent-escape"),
        ("https://host/#!%E0%A4", "not UTF-8"),
        ("https://host/#!{bad json", "not valid JSON"),
        ("https://host/#!%7Bbad", "not valid JSON"),
        ("https://host/#!not-json-at-all", "not valid JSON"),
        ('https://host/#!{"layers": []} trailing', "not valid JSON"),
        ("https://host/#![1, 2]", "a list, not a JSON object"),
        ('https://host/#!"text"', "a string, not a JSON object"),
        ("https://host/#!42", "a number, not a JSON object"),
        ("https://host/#!null", "null, not a JSON object"),
        ("https://host/#!%5B%5D", "a list, not a JSON object"),
        ('https://host/#!{"layers": 5}', "'layers'"),
        ('https://host/#!{"layers": "image"}', "'layers'"),
        ("https://host/#!" + "[" * 100_000, "nested too deeply"),
        ("https://host/#!" + "1" * 5000, "not valid JSON"),
    ],
)
def test_malformed_links_raise_invalid_uri(text: str, cause: str) -> None:
    with pytest.raises(InvalidURIError) as info:
        parse_neuroglancer_url(text)
    assert isinstance(info.value, RemoteDatasetError)
    assert cause in info.value.cause
    assert info.value.uri.startswith(text[:20])  # the message names the link
    assert len(info.value.uri) <= 100  # shortened
    assert str(info.value).startswith(info.value.uri)


def test_error_message_is_scrubbed_and_shortened() -> None:
    register_secret("s3cr3t-t0ken-value")
    text = "https://user:hunter2@host/#!{broken s3cr3t-t0ken-value" + "x" * 500
    with pytest.raises(InvalidURIError) as info:
        parse_neuroglancer_url(text)
    message = str(info.value)
    assert "hunter2" not in message
    assert "s3cr3t-t0ken-value" not in message
    assert "host/#!" in message
    assert len(info.value.uri) <= 100


def test_non_string_input() -> None:
    with pytest.raises(InvalidURIError):
        parse_neuroglancer_url(None)  # type: ignore[arg-type]


def test_bad_layers_are_skipped_not_fatal() -> None:
    state = {
        "layers": [
            "just a string",
            42,
            None,
            {"type": 7, "name": "typed", "source": "https://h/x"},
            {"type": "image"},
            {"type": "image", "name": "empty", "source": ""},
            {"type": "image", "name": "list", "source": [None, 3, {"no": "url"}]},
            {"type": "image", "name": "dict", "source": {"url": 5}},
        ]
    }
    parsed = parse_neuroglancer_url(link(state))
    assert parsed.layers == []
    assert [s.name for s in parsed.skipped] == [
        "layer 1",
        "layer 2",
        "layer 3",
        "typed",
        "layer 5",
        "empty",
        "list",
        "dict",
    ]
    reasons = [s.reason for s in parsed.skipped]
    assert reasons[0] == "the layer is a string, not a JSON object"
    assert reasons[3] == "the layer type is not a string"
    assert reasons[4:] == ["no source"] * 4


def test_state_without_layers() -> None:
    parsed = parse_neuroglancer_url(link({"dimensions": DIMENSIONS}))
    assert parsed.layers == [] and parsed.skipped == []
    assert parsed.voxel_size == (8.0, 8.0, 33.0)
    assert parse_neuroglancer_url(link({"layers": None})).layers == []


# --- layers and sources -----------------------------------------------------------------

INNER = [
    ("https://host/data/ds", "https://host/data/ds"),
    ("http://127.0.0.1:8000/ds", "http://127.0.0.1:8000/ds"),
    ("s3://bucket/key/ds", "s3://bucket/key/ds"),
    ("gs://bucket/key/ds", "gs://bucket/key/ds"),
    ("https://host/data/ds/", "https://host/data/ds"),
]


@pytest.mark.parametrize("prefix", ["zarr", "zarr2", "zarr3", "n5", "precomputed"])
@pytest.mark.parametrize(("inner", "source"), INNER)
def test_every_prefix_and_location(prefix: str, inner: str, source: str) -> None:
    layer = only_layer(parse_neuroglancer_url(link(one_layer(f"{prefix}://{inner}"))))
    assert layer.source == source
    assert layer.format_hint == prefix
    assert layer.uri == f"{prefix}://{source}"
    parsed = parse_uri(layer.uri)
    assert parsed.url == source
    assert parsed.format_hint == prefix
    assert parsed.endpoint_url is None


@pytest.mark.parametrize(
    ("pipe", "hint"),
    [
        ("zarr:", "zarr"),
        ("zarr2:", "zarr2"),
        ("zarr3:", "zarr3"),
        ("n5:", "n5"),
        ("neuroglancer-precomputed:", "precomputed"),
        ("precomputed:", "precomputed"),
    ],
)
@pytest.mark.parametrize(("inner", "source"), INNER)
def test_pipe_syntax(pipe: str, hint: str, inner: str, source: str) -> None:
    for url in (f"{inner}|{pipe}", f"{inner}/|{pipe}"):
        layer = only_layer(parse_neuroglancer_url(link(one_layer(url))))
        assert layer.source == source
        assert layer.format_hint == hint
        assert layer.uri == f"{hint}://{source}"
        check_uri(layer)
        assert parse_uri(layer.uri).url == source


def test_pipe_syntax_with_path_and_options() -> None:
    layer = only_layer(
        parse_neuroglancer_url(
            link(one_layer("gs://bucket/root.zarr/|zarr2:labels/cells/#dimension_separator=/"))
        )
    )
    assert layer.source == "gs://bucket/root.zarr/labels/cells"
    assert layer.format_hint == "zarr2"
    assert any("dimension_separator" in note for note in layer.notes)
    check_uri(layer)


def test_legacy_prefix_and_pipe_agree() -> None:
    layer = only_layer(
        parse_neuroglancer_url(link(one_layer("precomputed://gs://b/p|neuroglancer-precomputed:")))
    )
    assert (layer.source, layer.format_hint) == ("gs://b/p", "precomputed")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("gs://b/data.zip|zip:inner/|zarr3:", "'|zip:' containers"),
        ("gs://b/db.ocdbt/|ocdbt:|zarr3:", "'|ocdbt:' containers"),
        ("https://h/p|zarr2:|zarr3:", "after the data format"),
        ("https://h/p|foo:", "unknown data source kind 'foo'"),
        ("https://h/p|nifti:", "nifti:// sources are not supported"),
        ("https://h/p|no-colon", "cannot read"),
        ("ftp://host/p", "ftp:// locations are not supported"),
        ("zarr://ftp://host/p", "ftp:// locations are not supported"),
        ("file:///data/x.zarr", "file://"),
        ("zarr://file:///data/x.zarr", "file://"),
        ("zarr://relative/path", "names no location"),
        ("just-a-name", "names no location"),
        ("zarr://precomputed://gs://b/k", "more than one format prefix"),
        ("https://", "names no host"),
        ("gs://", "names no host"),
        ("s3+https://[::1/b/k", "malformed location"),
    ],
)
def test_unusable_sources_are_skipped(url: str, reason: str) -> None:
    parsed = parse_neuroglancer_url(link(one_layer(url)))
    assert parsed.layers == []
    assert len(parsed.skipped) == 1
    assert parsed.skipped[0].name == "img"
    assert reason in parsed.skipped[0].reason


def test_plain_location_keeps_no_format_hint() -> None:
    for inner, source in INNER:
        layer = only_layer(parse_neuroglancer_url(link(one_layer(inner))))
        assert layer.source == source
        assert layer.format_hint is None
        assert layer.uri == source
        check_uri(layer)


def test_http_source_options_are_dropped_but_other_query_kept() -> None:
    url = "zarr://https://host/p?dimension_separator=/&X-Amz-Signature=abc#frag"
    layer = only_layer(parse_neuroglancer_url(link(one_layer(url))))
    assert layer.source == "https://host/p?X-Amz-Signature=abc"
    assert len(layer.notes) == 2
    assert all("abc" not in note for note in layer.notes)
    check_uri(layer)


@pytest.mark.parametrize(
    ("url", "source", "uri", "authority", "endpoint"),
    [
        ("zarr2://gs+xml://b/k", "gs://b/k", "zarr2://gs://b/k", "b", None),
        (
            "zarr3://gs+ngauth+https://auth.example.org/b/k",
            "gs://b/k",
            "zarr3://gs://b/k",
            "b",
            None,
        ),
        (
            "gs+xml+ngauth+http://127.0.0.1:8080/b/k|zarr3:",
            "gs://b/k",
            "zarr3://gs://b/k",
            "b",
            None,
        ),
        (
            "n5://s3+http://127.0.0.1:9000/b/k",
            "s3://127.0.0.1:9000/b/k",
            "n5://s3://127.0.0.1:9000/b/k",
            "b",
            "http://127.0.0.1:9000",
        ),
        (
            "s3+https://minio.example.org/b/k|zarr2:",
            "s3://minio.example.org/b/k",
            "zarr2://s3://minio.example.org/b/k",
            "b",
            "https://minio.example.org",
        ),
        # An s3+http URL that parse_uri would read with https: plain HTTP instead.
        (
            "s3+http://minio.lan:9000/b/k|zarr2:",
            "http://minio.lan:9000/b/k",
            "zarr2://http://minio.lan:9000/b/k",
            "minio.lan:9000",
            None,
        ),
        (
            "precomputed://middleauth+https://cave.example.org/seg",
            "https://cave.example.org/seg",
            "precomputed://https://cave.example.org/seg",
            "cave.example.org",
            None,
        ),
        # Neuroglancer's s3://BUCKET is always a bucket, even with dots in its name.
        (
            "zarr2://s3://my.bucket/k",
            "s3://my.bucket/k",
            "zarr2://s3://my.bucket.s3.amazonaws.com/k",
            "my.bucket",
            None,
        ),
        # WEBKNOSSOS-style path-style endpoints are read as such.
        (
            "zarr2://s3://s3.eu-central-1.amazonaws.com/b/k",
            "s3://s3.eu-central-1.amazonaws.com/b/k",
            "zarr2://s3://s3.eu-central-1.amazonaws.com/b/k",
            "b",
            "https://s3.eu-central-1.amazonaws.com",
        ),
        (
            "zarr2://s3://127.0.0.1:9000/b/k",
            "s3://127.0.0.1:9000/b/k",
            "zarr2://s3://127.0.0.1:9000/b/k",
            "b",
            "http://127.0.0.1:9000",
        ),
    ],
)
def test_neuroglancer_location_variants(
    url: str, source: str, uri: str, authority: str, endpoint: str | None
) -> None:
    layer = only_layer(parse_neuroglancer_url(link(one_layer(url))))
    assert (layer.source, layer.uri) == (source, uri)
    parsed = parse_uri(layer.uri)
    assert parsed.authority == authority
    assert parsed.endpoint_url == endpoint
    assert parsed.format_hint == layer.format_hint


def test_source_forms() -> None:
    forms: list[Any] = [
        "zarr2://https://host/a",
        {"url": "zarr2://https://host/a"},
        {
            "url": "zarr2://https://host/a",
            "subsources": {"default": True},
            "enableDefaultSubsources": False,
        },
        {
            "url": "zarr2://https://host/a",
            "transform": {
                "outputDimensions": {"x": [4e-9, "m"], "y": [4e-9, "m"], "z": [4e-8, "m"]}
            },
        },
        ["zarr2://https://host/a"],
        [{"url": "zarr2://https://host/a"}, "precomputed://https://host/props"],
    ]
    for form in forms:
        layer = only_layer(parse_neuroglancer_url(link(one_layer(form))))
        assert (layer.source, layer.format_hint) == ("https://host/a", "zarr2")


def test_source_list_uses_first_usable_and_notes_the_others() -> None:
    source = [7, {"url": "ftp://old/a"}, "zarr3://gs://b/a", "precomputed://gs://b/props"]
    layer = only_layer(parse_neuroglancer_url(link(one_layer(source))))
    assert (layer.source, layer.format_hint) == ("gs://b/a", "zarr3")
    assert len(layer.notes) == 2
    assert "ftp://old/a" in layer.notes[0]
    assert "precomputed://gs://b/props" in layer.notes[1]


def test_source_list_whose_first_is_graphene_skips_the_layer() -> None:
    state = {
        "layers": [
            {
                "type": "segmentation",
                "name": "proofread",
                "source": [
                    "graphene://https://cave.example/segmentation/table/x",
                    "precomputed://gs://b/skeletons",
                ],
            }
        ]
    }
    parsed = parse_neuroglancer_url(link(state))
    assert parsed.layers == []
    assert parsed.skipped[0].reason == "graphene:// sources are not supported"


def test_mixed_link_imports_supported_layers_and_explains_the_rest() -> None:
    state = {
        "dimensions": DIMENSIONS,
        "layers": [
            {"type": "image", "name": "em", "source": "precomputed://gs://b/em"},
            {
                "type": "annotation",
                "name": "notes",
                "source": {"url": "local://annotations"},
                "annotations": [],
            },
            {"type": "annotation", "name": "synapses", "source": "precomputed://gs://b/synapses"},
            {
                "type": "segmentation",
                "name": "cave",
                "source": "graphene://middleauth+https://cave.example/seg",
            },
            {
                "type": "segmentation_with_graph",
                "name": "old graph",
                "source": "graphene://https://x/y",
            },
            {"type": "mesh", "name": "brain", "source": "obj://https://h/brain.obj"},
            {"type": "image", "name": "served", "source": "python://volume/abc"},
            {"type": "image", "name": "boss", "source": "boss://https://api.bossdb.io/c/e/ch"},
            {
                "type": "segmentation",
                "name": "seg",
                "source": "zarr3://s3://b/seg.zarr/0",
                "visible": False,
            },
            {
                "type": "image",
                "name": "archived",
                "source": "n5://https://h/x.n5/s0",
                "archived": True,
            },
            {"type": "volumeRendering", "name": "odd", "source": "zarr://https://h/x"},
            {"type": "image", "name": "untyped-new", "source": ""},
            {"name": "untyped", "source": "precomputed://gs://b/auto"},
        ],
    }
    parsed = parse_neuroglancer_url(link(state, encode_uri))
    assert [(ly.name, ly.type, ly.category) for ly in parsed.layers] == [
        ("em", "image", "color"),
        ("seg", "segmentation", "segmentation"),
        ("archived", "image", "color"),
        ("untyped", None, None),
    ]
    assert {s.name: s.reason for s in parsed.skipped} == {
        "notes": "annotation layers are not volume data",
        "synapses": "annotation layers are not volume data",
        "cave": "graphene:// sources are not supported",
        "old graph": "segmentation_with_graph (graphene) layers are not supported",
        "brain": "mesh layers are not volume data",
        "served": "python:// sources live in a running Neuroglancer Python session and cannot be read",
        "boss": "boss:// sources are not supported",
        "odd": "layer type 'volumeRendering' is not supported",
        "untyped-new": "no source",
    }
    seg, archived = parsed.layers[1], parsed.layers[2]
    assert not seg.visible and seg.view_configuration == {"isDisabled": True}
    assert not archived.visible and archived.view_configuration == {"isDisabled": True}
    for layer in parsed.layers:
        check_uri(layer)


def test_legacy_layers_object() -> None:
    state = {
        "layers": {
            "image": {"type": "image", "source": "precomputed://gs://b/img"},
            "ann": {"type": "annotation"},
        }
    }
    parsed = parse_neuroglancer_url(link(state))
    assert [ly.name for ly in parsed.layers] == ["image"]
    assert [s.name for s in parsed.skipped] == ["ann"]


def test_layer_names() -> None:
    state = {
        "layers": [
            {"type": "image", "source": "https://h/a"},
            {"type": "image", "name": 3, "source": "https://h/b"},
        ]
    }
    assert [ly.name for ly in parse_neuroglancer_url(link(state)).layers] == ["layer 1", "3"]


# --- view configuration -----------------------------------------------------------------


def test_image_view_configuration() -> None:
    layer = only_layer(
        parse_neuroglancer_url(
            link(
                one_layer(
                    "zarr://https://h/a",
                    opacity=0.7,
                    shaderControls={
                        "normalized": {"range": [100, 2500], "window": [0, 4095]},
                        "color": "#ff8000",
                    },
                )
            )
        )
    )
    assert layer.view_configuration == {
        "alpha": 70,
        "intensityRange": [100, 2500],
        "min": 0,
        "max": 4095,
        "color": [255, 128, 0],
    }


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"opacity": 1}, {"alpha": 100}),
        ({"opacity": 0.255}, {"alpha": 25.5}),
        ({"opacity": 2.0}, {"alpha": 100}),
        ({"opacity": -1}, {"alpha": 0}),
        ({"opacity": "0.5"}, {}),
        ({"opacity": True}, {}),
        (
            {"shaderControls": {"normalized": {"range": [2500, 100]}}},
            {"intensityRange": [100, 2500], "isInverted": True},
        ),
        (
            {"shaderControls": {"normalized": {"range": [0.1, 0.9]}, "invert": True}},
            {"intensityRange": [0.1, 0.9], "isInverted": True},
        ),
        (
            {"shaderControls": {"normalized": {"range": [9, 1]}, "invert": True}},
            {"intensityRange": [1, 9]},
        ),
        ({"shaderControls": {"normalized": {"range": [1]}}}, {}),
        ({"shaderControls": {"normalized": {"range": ["a", 2]}}}, {}),
        ({"shaderControls": {"normalized": "x"}}, {}),
        ({"shaderControls": [1, 2]}, {}),
        ({"shaderControls": {"color": "green"}}, {"color": [0, 128, 0]}),
        ({"shaderControls": {"color": "#0f0"}}, {"color": [0, 255, 0]}),
        ({"shaderControls": {"color": "not a color"}}, {}),
        (
            {"shader": '#uicontrol vec3 color color(default="magenta")\nvoid main() {}'},
            {"color": [255, 0, 255]},
        ),
        ({"visible": False}, {"isDisabled": True}),
        ({"archived": True, "visible": True}, {"isDisabled": True}),
    ],
)
def test_image_view_configuration_details(extra: dict[str, Any], expected: dict[str, Any]) -> None:
    layer = only_layer(parse_neuroglancer_url(link(one_layer("https://h/a", **extra))))
    assert layer.view_configuration == expected


def test_segmentation_view_configuration() -> None:
    state = {
        "layers": [
            {"type": "segmentation", "name": "a", "source": "https://h/a", "selectedAlpha": 0.3},
            {
                "type": "segmentation",
                "name": "b",
                "source": "https://h/b",
                "opacity": 0.6,
                "selectedAlpha": 0.3,
            },
            {
                "type": "segmentation",
                "name": "c",
                "source": "https://h/c",
                "shaderControls": {"normalized": {"range": [0, 1]}},
            },
        ]
    }
    configs = [ly.view_configuration for ly in parse_neuroglancer_url(link(state)).layers]
    assert configs == [{"alpha": 30}, {"alpha": 60}, {}]


# --- dimensions and voxel sizes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("dimensions", "voxel_size", "unit"),
    [
        ({"x": [8e-9, "m"], "y": [8e-9, "m"], "z": [3.3e-8, "m"]}, (8.0, 8.0, 33.0), "nanometer"),
        (
            {"x": [1.124e-8, "m"], "y": [1.124e-8, "m"], "z": [2.8e-8, "m"]},
            (11.24, 11.24, 28.0),
            "nanometer",
        ),
        ({"x": [4, "nm"], "y": [4, "nm"], "z": [40, "nm"]}, (4.0, 4.0, 40.0), "nanometer"),
        ({"x": [0.5, "um"], "y": [0.5, "µm"], "z": [2, "um"]}, (500.0, 500.0, 2000.0), "nanometer"),
        ({"x": [2e-3, "m"], "y": [2e-3, "m"], "z": [5e-3, "m"]}, (2.0, 2.0, 5.0), "millimeter"),
        ({"x": [1e-3, "m"], "y": [1e-3, "m"], "z": [1e-3, "m"]}, (1.0, 1.0, 1.0), "millimeter"),
        (
            {"x": [1e-11, "m"], "y": [1e-11, "m"], "z": [1e-11, "m"]},
            (0.01, 0.01, 0.01),
            "nanometer",
        ),
        (
            {"x": [1e-13, "m"], "y": [1e-13, "m"], "z": [1e-13, "m"]},
            (100.0, 100.0, 100.0),
            "femtometer",
        ),
        ({"x": [3, "m"], "y": [3, "m"], "z": [3, "km"]}, (3.0, 3.0, 3000.0), "meter"),
        (
            {"t": [1, "s"], "x": [8e-9, "m"], "c^": [1, ""], "y": [8e-9, "m"], "z": [8e-9, "m"]},
            (8.0, 8.0, 8.0),
            "nanometer",
        ),
    ],
)
def test_dimensions(
    dimensions: dict[str, Any], voxel_size: tuple[float, float, float], unit: str
) -> None:
    parsed = parse_neuroglancer_url(link({"dimensions": dimensions}))
    assert parsed.voxel_size == voxel_size
    assert parsed.unit == unit


@pytest.mark.parametrize(
    "dimensions",
    [
        {"x": [8e-9, "m"], "y": [8e-9, "m"]},
        {"d0": [1, ""], "d1": [1, ""], "d2": [1, ""]},
        {"x": [1, "s"], "y": [1, "s"], "z": [1, "s"]},
        {"x": [1, ""], "y": [1, ""], "z": [1, ""]},
        {"x": [0, "m"], "y": [1, "m"], "z": [1, "m"]},
        {"x": [-1, "m"], "y": [1, "m"], "z": [1, "m"]},
        {"x": ["8", "m"], "y": [1, "m"], "z": [1, "m"]},
        {"x": [8e-9], "y": [8e-9, "m"], "z": [8e-9, "m"]},
        {"x": [1e308, "m"], "y": [1e-308, "m"], "z": [1, "m"]},
        [8, 8, 8],
        "8nm",
    ],
)
def test_dimensions_without_a_voxel_size(dimensions: Any) -> None:
    parsed = parse_neuroglancer_url(link({"dimensions": dimensions}))
    assert parsed.voxel_size is None and parsed.unit is None


def test_legacy_navigation_voxel_size() -> None:
    state = {
        "layers": {"img": {"type": "image", "source": "precomputed://gs://b/img"}},
        "navigation": {
            "pose": {"position": {"voxelSize": [4, 4, 40], "voxelCoordinates": [1, 2, 3]}},
            "zoomFactor": 8,
        },
    }
    parsed = parse_neuroglancer_url(link(state, encode_uri))
    assert (parsed.voxel_size, parsed.unit, parsed.position) == (
        (4.0, 4.0, 40.0),
        "nanometer",
        [1.0, 2.0, 3.0],
    )


def test_layer_transform_voxel_size_channel_and_dimension_names() -> None:
    source = {
        "url": "zarr2://https://h/a.zarr/0",
        "transform": {
            "outputDimensions": {
                "c'": [1, ""],
                "z": [4e-8, "m"],
                "y": [4e-9, "m"],
                "x": [4e-9, "m"],
            },
            "matrix": [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0]],
        },
    }
    layer = only_layer(parse_neuroglancer_url(link(one_layer(source, localPosition=[3.5]))))
    assert (layer.voxel_size, layer.unit) == ((4.0, 4.0, 40.0), "nanometer")
    assert layer.dimension_names == ("c'", "z", "y", "x")
    assert layer.channel_index == 3
    plain = only_layer(parse_neuroglancer_url(link(one_layer("zarr2://https://h/a.zarr/0"))))
    assert (plain.voxel_size, plain.unit, plain.channel_index, plain.dimension_names) == (
        None,
        None,
        None,
        None,
    )


def test_channel_from_shader_controls() -> None:
    layer = only_layer(
        parse_neuroglancer_url(
            link(
                one_layer(
                    "precomputed://gs://b/rgb", shaderControls={"normalized": {"channel": [2]}}
                )
            )
        )
    )
    assert layer.channel_index == 2


def test_position_and_layout_forms() -> None:
    parsed = parse_neuroglancer_url(
        link({"position": [1, "x", 3], "layout": {"type": "xy-3d", "orientation": "x"}})
    )
    assert (parsed.position, parsed.layout) == (None, "xy-3d")
    parsed = parse_neuroglancer_url(link({"position": [], "layout": 5}))
    assert (parsed.position, parsed.layout) == (None, None)


# --- building links ---------------------------------------------------------------------


def state_of(url: str) -> dict[str, Any]:
    assert url.startswith(BASE + "#!")
    fragment = url.split("#!", 1)[1]
    assert "#" not in fragment and " " not in fragment and '"' not in fragment
    result: dict[str, Any] = json.loads(unquote(fragment))
    return result


def test_build_basic_state() -> None:
    url = build_neuroglancer_url(
        [
            NeuroglancerLayerOut("em", "color", "zarr", "https://host/ds.zarr/em/0"),
            NeuroglancerLayerOut("cells", "segmentation", "zarr3", "gs://bucket/ds.zarr/cells/0"),
            NeuroglancerLayerOut("n5", "color", "n5", "https://host/x.n5/s0/attributes.json"),
            NeuroglancerLayerOut(
                "pc", "segmentation", "neuroglancerPrecomputed", "s3://bucket/seg/"
            ),
        ],
        (11.24, 11.24, 28.0),
        "nanometer",
        position=(512, 512.5, 64),
    )
    state = state_of(url)
    assert state["dimensions"] == {
        "x": [1.124e-08, "m"],
        "y": [1.124e-08, "m"],
        "z": [2.8e-08, "m"],
    }
    assert state["position"] == [512, 512.5, 64]
    assert state["layout"] == "4panel"
    assert [(ly["name"], ly["type"], ly["source"]) for ly in state["layers"]] == [
        ("em", "image", "zarr2://https://host/ds.zarr/em/0"),
        ("cells", "segmentation", "zarr3://gs://bucket/ds.zarr/cells/0"),
        ("n5", "image", "n5://https://host/x.n5/s0"),
        ("pc", "segmentation", "precomputed://s3://bucket/seg"),
    ]
    assert state["layers"][0]["opacity"] == 1.0  # WEBKNOSSOS shows color layers opaque
    assert "position" not in state_of(build_neuroglancer_url([], (1, 1, 1), "nm"))


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("s3://bucket/key/0", "s3://bucket/key/0"),
        ("s3://bucket.s3.amazonaws.com/key/0", "s3://bucket/key/0"),
        ("s3://127.0.0.1:9000/bucket/key/0", "http://127.0.0.1:9000/bucket/key/0"),
        ("s3://localhost:9000/bucket/key/0", "http://localhost:9000/bucket/key/0"),
        (
            "s3://s3.eu-central-1.amazonaws.com/bucket/key/0",
            "https://s3.eu-central-1.amazonaws.com/bucket/key/0",
        ),
        ("s3://minio.example.org:9000/bucket/key", "https://minio.example.org:9000/bucket/key"),
        ("gs://bucket/key/0", "gs://bucket/key/0"),
        ("https://host/a/b/.zarray", "https://host/a/b"),
        ("http://127.0.0.1:8000/a?sig=1", "http://127.0.0.1:8000/a?sig=***"),  # signatures never leave
    ],
)
def test_build_locations(path: str, location: str) -> None:
    state = state_of(
        build_neuroglancer_url([NeuroglancerLayerOut("a", "color", "zarr", path)], (1, 1, 1), "nm")
    )
    assert state["layers"][0]["source"] == f"zarr2://{location}"


def test_build_prefers_multiscale_root() -> None:
    layer = NeuroglancerLayerOut(
        "a", "color", "zarr", "https://h/img.zarr/0", multiscale_root="https://h/img.zarr"
    )
    assert (
        state_of(build_neuroglancer_url([layer], (1, 1, 1), "nm"))["layers"][0]["source"]
        == "zarr2://https://h/img.zarr"
    )


def test_build_local_files_cannot_be_linked(tmp_path: Any) -> None:
    for path in (str(tmp_path / "a.zarr"), (tmp_path / "a.zarr").as_uri()):
        with pytest.raises(InvalidURIError, match="local files"):
            build_neuroglancer_url(
                [NeuroglancerLayerOut("a", "color", "zarr", path)], (1, 1, 1), "nm"
            )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"unit": "parsecs-ish"}, "unknown length unit"),
        ({"voxel_size": (1, 0, 1)}, "voxel_size"),
        ({"voxel_size": (1, 1)}, "voxel_size"),
        ({"voxel_size": (1, float("nan"), 1)}, "voxel_size"),
        ({"voxel_size": (1e300, 1, 1), "unit": "parsec"}, "out of range"),
        ({"position": (1, 2)}, "position"),
        ({"position": (1, 2, float("inf"))}, "position"),
        ({"layers": [NeuroglancerLayerOut("a", "image", "zarr", "https://h/a")]}, "category"),
        ({"layers": [NeuroglancerLayerOut("a", "color", "wkw", "https://h/a")]}, "data_format"),
        (
            {
                "layers": [
                    NeuroglancerLayerOut("a", "color", "zarr", "https://h/a", channel_index=-1)
                ]
            },
            "channel_index",
        ),
        (
            {
                "layers": [
                    NeuroglancerLayerOut("a", "color", "zarr", "https://h/a", channel_index=1)
                ]
            },
            "needs axis_order",
        ),
        (
            {
                "layers": [
                    NeuroglancerLayerOut(
                        "a", "color", "zarr", "https://h/a", axis_order={"x": 0, "y": 1}
                    )
                ]
            },
            "axis_order",
        ),
        (
            {
                "layers": [
                    NeuroglancerLayerOut(
                        "a", "color", "zarr", "https://h/a", axis_order={"x": 0, "y": 1, "z": 5}
                    )
                ]
            },
            "axis_order",
        ),
    ],
)
def test_build_rejects_what_it_cannot_express(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"layers": [], "voxel_size": (1, 1, 1), "unit": "nm", **kwargs}
    with pytest.raises(ValueError, match=message):
        build_neuroglancer_url(**arguments)


def test_build_view_configuration() -> None:
    layers = [
        NeuroglancerLayerOut(
            "dapi",
            "color",
            "zarr",
            "https://h/a/0",
            view_configuration={
                "color": [0, 0, 255],
                "alpha": 80,
                "intensityRange": [10, 900],
                "min": 0,
                "max": 4095,
            },
        ),
        NeuroglancerLayerOut(
            "inv",
            "color",
            "zarr",
            "https://h/b/0",
            view_configuration={"isInverted": True, "isDisabled": True},
        ),
        NeuroglancerLayerOut(
            "seg",
            "segmentation",
            "zarr",
            "https://h/c/0",
            view_configuration={"alpha": 20, "color": [1, 2, 3]},
        ),
        NeuroglancerLayerOut("plain", "color", "zarr", "https://h/d/0", view_configuration={}),
    ]
    state = state_of(build_neuroglancer_url(layers, (1, 1, 1), "nm"))
    dapi, inv, seg, plain = state["layers"]
    assert dapi["opacity"] == 0.8
    assert dapi["shaderControls"] == {
        "normalized": {"range": [10, 900], "window": [0, 4095]},
        "color": "#0000ff",
    }
    assert '#uicontrol vec3 color color(default="#0000ff")' in dapi["shader"]
    assert "#uicontrol invlerp normalized" in dapi["shader"]
    assert "emitRGB(color * v)" in dapi["shader"]
    assert inv["visible"] is False
    assert inv["shaderControls"] == {"invert": True}
    assert "#uicontrol bool invert checkbox(default=true)" in inv["shader"]
    assert "emitGrayscale(v)" in inv["shader"]
    assert seg == {
        "type": "segmentation",
        "source": "zarr2://https://h/c/0",
        "selectedAlpha": 0.2,
        "name": "seg",
    }
    assert plain == {
        "type": "image",
        "source": "zarr2://https://h/d/0",
        "opacity": 1.0,
        "name": "plain",
    }
    # ... and reading them back gives the same WEBKNOSSOS view configuration.
    parsed = parse_neuroglancer_url(build_neuroglancer_url(layers, (1, 1, 1), "nm"))
    assert [ly.view_configuration for ly in parsed.layers] == [
        {"alpha": 80, "intensityRange": [10, 900], "min": 0, "max": 4095, "color": [0, 0, 255]},
        {"isDisabled": True, "alpha": 100, "isInverted": True},
        {"alpha": 20},
        {"alpha": 100},
    ]


def test_build_axis_order_and_channels() -> None:
    layers = [
        NeuroglancerLayerOut(
            "zarr",
            "color",
            "zarr",
            "https://h/a/0",
            channel_index=2,
            axis_order={"c": 1, "x": 4, "y": 3, "z": 2, "t": 0},
        ),
        NeuroglancerLayerOut(
            "n5", "color", "n5", "https://h/b.n5/s0", axis_order={"x": 2, "y": 1, "z": 0}
        ),
        NeuroglancerLayerOut(
            "n5c",
            "color",
            "n5",
            "https://h/c.n5/s0",
            channel_index=1,
            axis_order={"c": 0, "x": 3, "y": 2, "z": 1},
        ),
        NeuroglancerLayerOut(
            "pc",
            "color",
            "neuroglancerPrecomputed",
            "gs://b/rgb",
            channel_index=1,
            axis_order={"x": 0, "y": 1, "z": 2, "c": 3},
        ),
    ]
    state = state_of(build_neuroglancer_url(layers, (2, 2, 5), "nm"))
    zarr, n5, n5c, pc = state["layers"]
    assert zarr["source"]["transform"]["outputDimensions"] == {
        "t'": [1, ""],
        "c'": [1, ""],
        "z": [5e-09, "m"],
        "y": [2e-09, "m"],
        "x": [2e-09, "m"],
    }
    assert list(zarr["source"]["transform"]["outputDimensions"]) == ["t'", "c'", "z", "y", "x"]
    assert zarr["localDimensions"] == {"t'": [1, ""], "c'": [1, ""]}
    assert zarr["localPosition"] == [0.5, 2.5]
    assert list(n5["source"]["transform"]["outputDimensions"]) == ["x", "y", "z"]
    assert "localPosition" not in n5
    assert list(n5c["source"]["transform"]["outputDimensions"]) == ["x", "y", "z", "c'"]
    assert n5c["localPosition"] == [1.5]
    assert pc["source"] == "precomputed://gs://b/rgb"  # precomputed names its own dimensions
    assert pc["shaderControls"] == {"normalized": {"channel": [1]}}
    parsed = parse_neuroglancer_url(build_neuroglancer_url(layers, (2, 2, 5), "nm"))
    assert [ly.channel_index for ly in parsed.layers] == [2, None, 1, 1]
    assert [ly.voxel_size for ly in parsed.layers] == [
        (2.0, 2.0, 5.0),
        (2.0, 2.0, 5.0),
        (2.0, 2.0, 5.0),
        None,
    ]


def test_build_unique_names_and_options() -> None:
    layers = [
        NeuroglancerLayerOut(n, "color", "zarr", "https://h/a") for n in ("a", "a", "", "a_2")
    ]
    url = build_neuroglancer_url(
        layers, (1, 1, 1), "nm", base="https://ng.example/viewer#old", layout="xy"
    )
    assert url.startswith("https://ng.example/viewer#!")
    state = json.loads(unquote(url.split("#!", 1)[1]))
    assert [ly["name"] for ly in state["layers"]] == ["a", "a_2", "layer", "a_2_2"]
    assert state["layout"] == "xy"


def test_build_escapes_hash_and_keeps_the_first_marker() -> None:
    layers = [NeuroglancerLayerOut("a #!b +c ünï", "color", "zarr", "https://h/a+b")]
    url = build_neuroglancer_url(layers, (1, 1, 1), "nm")
    assert url.count("#!") == 1
    layer = only_layer(parse_neuroglancer_url(url))
    assert (layer.name, layer.source) == ("a #!b +c ünï", "https://h/a+b")


@pytest.mark.parametrize(
    ("voxel_size", "unit", "expected", "expected_unit"),
    [
        ((11.24, 11.24, 28.0), "nanometer", (11.24, 11.24, 28.0), "nanometer"),
        ((4, 4, 40), "nm", (4.0, 4.0, 40.0), "nanometer"),
        ((0.1, 0.1, 0.3), "micrometer", (100.0, 100.0, 300.0), "nanometer"),
        ((0.325, 0.325, 1.0), "µm", (325.0, 325.0, 1000.0), "nanometer"),
        ((5, 5, 5), "angstrom", (0.5, 0.5, 0.5), "nanometer"),
        ((2, 2, 2), "millimeter", (2.0, 2.0, 2.0), "millimeter"),
        ((1, 1, 1), "inch", (25.4, 25.4, 25.4), "millimeter"),
    ],
)
def test_round_trip_voxel_sizes(
    voxel_size: tuple[float, float, float],
    unit: str,
    expected: tuple[float, float, float],
    expected_unit: str,
) -> None:
    parsed = parse_neuroglancer_url(build_neuroglancer_url([], voxel_size, unit))
    assert (parsed.voxel_size, parsed.unit) == (expected, expected_unit)


def test_round_trip_layers() -> None:
    layers = [
        NeuroglancerLayerOut("em", "color", "zarr", "https://host/ds.zarr/em/0"),
        NeuroglancerLayerOut("v3", "color", "zarr3", "gs://bucket/ds.zarr/v3/0"),
        NeuroglancerLayerOut("n5", "color", "n5", "s3://bucket/x.n5/s0"),
        NeuroglancerLayerOut("minio", "color", "zarr", "s3://127.0.0.1:9000/bucket/key/0"),
        NeuroglancerLayerOut("dotted", "color", "zarr3", "s3://my.bucket.s3.amazonaws.com/key/0"),
        NeuroglancerLayerOut(
            "ngff", "color", "zarr", "https://h/img.zarr/0", multiscale_root="https://h/img.zarr"
        ),
        NeuroglancerLayerOut("seg", "segmentation", "neuroglancerPrecomputed", "gs://bucket/seg"),
    ]
    url = build_neuroglancer_url(layers, (8, 8, 33), "nanometer", position=(1.5, 2.5, 3.5))
    assert is_neuroglancer_url(url)
    parsed = parse_neuroglancer_url(url)
    assert parsed.skipped == []
    assert [(ly.name, ly.category, ly.source, ly.format_hint) for ly in parsed.layers] == [
        ("em", "color", "https://host/ds.zarr/em/0", "zarr2"),
        ("v3", "color", "gs://bucket/ds.zarr/v3/0", "zarr3"),
        ("n5", "color", "s3://bucket/x.n5/s0", "n5"),
        ("minio", "color", "http://127.0.0.1:9000/bucket/key/0", "zarr2"),
        ("dotted", "color", "s3://my.bucket/key/0", "zarr3"),
        ("ngff", "color", "https://h/img.zarr", "zarr2"),
        ("seg", "segmentation", "gs://bucket/seg", "precomputed"),
    ]
    assert (parsed.voxel_size, parsed.unit, parsed.position, parsed.layout) == (
        (8.0, 8.0, 33.0),
        "nanometer",
        [1.5, 2.5, 3.5],
        "4panel",
    )
    dotted = parse_uri(parsed.layers[4].uri)
    assert (dotted.authority, dotted.path, dotted.endpoint_url) == ("my.bucket", "/key/0", None)
    for layer in parsed.layers:
        check_uri(layer)
