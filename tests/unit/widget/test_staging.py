"""Every transition of the form's staging machine, without a kernel or a browser."""

from __future__ import annotations

import pytest

from wk_widget.widget import staging as st
from wk_widget.widget.protocol import MSG_DISCARD, MSG_EXPLORE, MSG_IMPORT


def kinds(effects: list[st.Effect]) -> list[str]:
    return [type(e).__name__ for e in effects]


def reply(effects: list[st.Effect]) -> st.Reply:
    (r,) = [e for e in effects if isinstance(e, st.Reply)]
    return r


def test_explore_starts_from_idle_and_sets_busy():
    state, effects = st.apply(st.State(), st.Explore("s3://b/x", "s3://b/x"))
    assert state == st.State("exploring", ())
    assert kinds(effects) == ["SetTraits", "StartExplore"]
    traits = effects[0]
    assert isinstance(traits, st.SetTraits)
    assert traits.values == {"busy": True, "form_error": "", "status": "Exploring s3://b/x …"}
    assert effects[1] == st.StartExplore("s3://b/x")


@pytest.mark.parametrize("state,busy", [(st.State("exploring"), False), (st.State(), True)])
def test_a_second_explore_is_refused_while_one_runs(state: st.State, busy: bool):
    new, effects = st.apply(state, st.Explore("https://h/a", "https://h/a", busy=busy))
    assert new == state
    assert kinds(effects) == ["Reply"]
    assert reply(effects) == st.Reply(MSG_EXPLORE, False, {"error": st.BUSY})


def test_an_empty_uri_is_a_form_error_before_the_access_check():
    new, effects = st.apply(st.State(), st.Explore("", "", refused="not allowed"))
    assert new == st.State()
    assert effects[0] == st.SetTraits({"form_error": st.EMPTY_URI})
    assert reply(effects).extra == {"error": st.EMPTY_URI}


def test_a_refused_uri_is_a_form_error_and_nothing_starts():
    new, effects = st.apply(st.State(), st.Explore("file:///etc", "file:///etc", refused="refused: local"))
    assert new == st.State()
    assert kinds(effects) == ["SetTraits", "Reply"]
    assert reply(effects) == st.Reply(MSG_EXPLORE, False, {"error": "refused: local"})


def test_explored_layers_are_staged_once_in_order():
    state = st.State("exploring", ("a",))
    new, effects = st.apply(state, st.Explored(("b", "a", "c", "b"), "Found …"))
    assert new == st.State("idle", ("a", "b", "c"))
    assert kinds(effects) == ["SetTraits", "Sync", "Reply"]
    assert effects[0] == st.SetTraits({"status": "Found …", "busy": False})
    assert reply(effects) == st.Reply(MSG_EXPLORE, True, {"layers": ["b", "a", "c", "b"]})


def test_a_failed_exploration_goes_idle_and_keeps_what_was_staged():
    new, effects = st.apply(st.State("exploring", ("a",)), st.ExploreFailed("404 at https://h/x"))
    assert new == st.State("idle", ("a",))
    assert effects[0] == st.SetTraits({"form_error": "404 at https://h/x", "status": "", "busy": False})
    assert reply(effects) == st.Reply(MSG_EXPLORE, False, {"error": "404 at https://h/x"})


@pytest.mark.parametrize("first", [True, False])
def test_import_clears_the_staging_and_promotes_the_first_dataset(first: bool):
    new, effects = st.apply(st.State("idle", ("a", "b")), st.Import(first=first))
    assert new == st.State("idle", ())
    assert kinds(effects) == (["Promote"] if first else []) + ["SetTraits", "Sync", "Reply"]
    assert st.Sync(reset_view=first) in effects
    assert st.SetTraits({"status": "Imported 2 layers: a, b"}) in effects
    assert reply(effects) == st.Reply(MSG_IMPORT, True, {"layers": ["a", "b"]})
    _, one = st.apply(st.State("idle", ("a",)), st.Import(first=False))
    assert st.SetTraits({"status": "Imported 1 layer: a"}) in one


def test_discard_drops_the_staged_layers():
    new, effects = st.apply(st.State("idle", ("a", "b")), st.Discard())
    assert new == st.State("idle", ())
    assert kinds(effects) == ["Drop", "SetTraits", "Sync", "Reply"]
    assert effects[0] == st.Drop(("a", "b"))
    assert effects[1] == st.SetTraits({"status": "Discarded a, b", "form_error": ""})
    assert reply(effects) == st.Reply(MSG_DISCARD, True, {"layers": ["a", "b"]})
    _, nothing = st.apply(st.State(), st.Discard())
    assert nothing[1] == st.SetTraits({"status": "", "form_error": ""})


def test_renames_keep_and_reset_edit_the_staged_names_only():
    state = st.State("exploring", ("a", "b"))
    assert st.apply(state, st.Renamed({"a": "z"})) == (st.State("exploring", ("z", "b")), [])
    assert st.apply(state, st.Keep(frozenset({"b", "q"}))) == (st.State("exploring", ("b",)), [])
    assert st.apply(state, st.Reset()) == (st.State("exploring", ()), [])


def test_found_status_text():
    assert st.found_status(["a", "b"], "s3://b/x", 1.234) == (
        "Found 2 layers in s3://b/x (1.2 s): a, b. Check the preview, then Import."
    )
    assert st.found_status(["a"], "u", 0).startswith("Found 1 layer in u ")


def test_unknown_events_are_a_type_error():
    with pytest.raises(TypeError):
        st.apply(st.State(), object())  # type: ignore[arg-type]
