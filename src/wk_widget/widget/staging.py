"""The add-layer form's staging area as a pure state machine.

The form explores a URI (layers arrive *staged*: shown in the preview, not in the views),
then imports or discards them; export writes the preview's datasource. `apply(state, event)`
returns the next state and the effects the `Viewer` performs (set a trait, start the
exploration on the I/O loop, drop layers, reply to the browser). No I/O and no widget here,
so every transition is testable without a kernel or a browser (tests/unit/widget/test_staging.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .protocol import MSG_DISCARD, MSG_EXPLORE, MSG_IMPORT

EMPTY_URI = "Enter the URI of a dataset (https://, s3://, gs://, or a Neuroglancer link)."
BUSY = "an exploration is running already"


@dataclass(frozen=True)
class State:
    phase: Literal["idle", "exploring"] = "idle"
    staged: tuple[str, ...] = ()  # layers added by the form, not imported into the views


# -- events -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Explore:
    """The form asks to explore `uri`; `refused`: the browser may not (access rules)."""

    uri: str
    shown_uri: str = ""  # the URI without secrets, for the status line
    busy: bool = False
    refused: str | None = None


@dataclass(frozen=True)
class Explored:
    added: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class ExploreFailed:
    error: str


@dataclass(frozen=True)
class Import:
    first: bool  # no dataset in the views yet: the explored one becomes it


@dataclass(frozen=True)
class Discard:
    pass


@dataclass(frozen=True)
class Renamed:
    renames: Mapping[str, str]


@dataclass(frozen=True)
class Keep:
    """Only these layers still exist (the dataset changed from Python)."""

    names: frozenset[str]


@dataclass(frozen=True)
class Reset:
    """A new dataset was set from Python: nothing is staged or pending any more."""


Event = Explore | Explored | ExploreFailed | Import | Discard | Renamed | Keep | Reset


# -- effects ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SetTraits:
    values: Mapping[str, Any]  # busy / status / form_error


@dataclass(frozen=True)
class StartExplore:
    uri: str


@dataclass(frozen=True)
class Promote:
    """The explored (pending) dataset becomes the views' dataset."""


@dataclass(frozen=True)
class Drop:
    names: tuple[str, ...]  # staged layers to remove (no dataset yet: drop the pending one)


@dataclass(frozen=True)
class Sync:
    reset_view: bool = False


@dataclass(frozen=True)
class Reply:
    request: str
    ok: bool
    extra: Mapping[str, Any] = field(default_factory=dict)


Effect = SetTraits | StartExplore | Promote | Drop | Sync | Reply


def _plural(n: int) -> str:
    return "s" if n != 1 else ""


def found_status(added: Sequence[str], shown_uri: str, elapsed: float) -> str:
    return (
        f"Found {len(added)} layer{_plural(len(added))} in {shown_uri} "
        f"({elapsed:.1f} s): {', '.join(added)}. Check the preview, then Import."
    )


def apply(state: State, event: Event) -> tuple[State, list[Effect]]:
    """The next state and what to do, for one event."""
    if isinstance(event, Explore):
        if state.phase == "exploring" or event.busy:
            return state, [Reply(MSG_EXPLORE, False, {"error": BUSY})]
        error = EMPTY_URI if not event.uri else event.refused
        if error is not None:
            return state, [SetTraits({"form_error": error}), Reply(MSG_EXPLORE, False, {"error": error})]
        return State("exploring", state.staged), [
            SetTraits({"busy": True, "form_error": "", "status": f"Exploring {event.shown_uri} …"}),
            StartExplore(event.uri),
        ]
    if isinstance(event, ExploreFailed):
        return State("idle", state.staged), [
            SetTraits({"form_error": event.error, "status": "", "busy": False}),
            Reply(MSG_EXPLORE, False, {"error": event.error}),
        ]
    if isinstance(event, Explored):
        staged = state.staged + tuple(n for n in dict.fromkeys(event.added) if n not in state.staged)
        return State("idle", staged), [
            SetTraits({"status": event.status, "busy": False}),
            Sync(),
            Reply(MSG_EXPLORE, True, {"layers": list(event.added)}),
        ]
    if isinstance(event, Import):
        imported = list(state.staged)
        status = f"Imported {len(imported)} layer{_plural(len(imported))}: {', '.join(imported)}"
        effects: list[Effect] = [Promote()] if event.first else []
        effects += [SetTraits({"status": status}), Sync(reset_view=event.first)]
        return State(state.phase, ()), [*effects, Reply(MSG_IMPORT, True, {"layers": imported})]
    if isinstance(event, Discard):
        dropped = list(state.staged)
        status = f"Discarded {', '.join(dropped)}" if dropped else ""
        return State(state.phase, ()), [
            Drop(tuple(dropped)),
            SetTraits({"status": status, "form_error": ""}),
            Sync(),
            Reply(MSG_DISCARD, True, {"layers": dropped}),
        ]
    if isinstance(event, Renamed):
        return State(state.phase, tuple(event.renames.get(n, n) for n in state.staged)), []
    if isinstance(event, Keep):
        return State(state.phase, tuple(n for n in state.staged if n in event.names)), []
    if isinstance(event, Reset):
        return State(state.phase, ()), []
    raise TypeError(f"unknown staging event {event!r}")
