"""A counted fact's figures read straight from the stored dict (`read_figures`, a replay's
path) are exactly those of its validated payload (`figures_of(read_payload(...))`)."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import hypothesis.strategies as st
from hypothesis import given, settings

from service.domain.envelope import LoggedEvent, ReplayedEvent
from service.domain.events import EventType
from service.domain.examples import event_examples, seed_bodies
from service.domain.readers import (
    COUNTED_MODELS,
    current_version,
    figures_of,
    read_figures,
    read_payload,
)
from tests.projections.test_properties import AFFILIATIONS, counts, days, periods

DISPATCHED, REPATRIATED, ESTIMATED = (
    EventType.workers_dispatched.value,
    EventType.workers_repatriated.value,
    EventType.workforce_estimated.value,
)
V1_FIELDS = {"status", "via", "sector", "transport"}  # what version 2 of a flow added


def _stored(type: str, data: dict[str, Any], version: int) -> dict[str, Any]:
    """What ingest stores: the validated model's dump (a version 1 flow without the
    fields version 2 added), through JSON as the log keeps it."""
    dumped = read_payload(type, current_version(type), data).model_dump(mode="json")
    if version == 1:
        dumped = {k: v for k, v in dumped.items() if k not in V1_FIELDS}
    loaded: dict[str, Any] = json.loads(json.dumps(dumped))
    return loaded


def _same_figures(type: str, version: int, stored: dict[str, Any]) -> None:
    plain = figures_of(read_payload(type, version, stored))
    assert read_figures(type, version, stored) == plain
    assert (plain is None) == (type not in COUNTED_MODELS)
    logged = LoggedEvent.stored(uuid4(), 1, type, "a-source", version, stored)
    assert logged.figures == plain
    assert logged.payload == read_payload(type, version, stored)
    typed = LoggedEvent(uuid4(), 1, type, "a-source", read_payload(type, version, stored))
    assert typed.figures == plain


def test_every_seed_and_example_payload_gives_the_same_figures_both_ways() -> None:
    bodies = [*seed_bodies(), *(e.body for e in event_examples().values())]
    assert any(b["type"] in COUNTED_MODELS for b in bodies)
    for body in bodies:
        type = body["type"]
        _same_figures(type, current_version(type), _stored(type, body["data"], 2))
        # as sent (a count without its bounds, a place by name): read by the model
        _same_figures(type, 1, json.loads(json.dumps(body["data"])))
        if current_version(type) == 2:
            _same_figures(type, 1, _stored(type, body["data"], 1))


# Places by id and country, by id alone or by name; drawn with repeats (a shared place).
PLACES = (
    {"place_id": "ru-moscow", "country": "RU", "kind": "city"},
    {"place_id": "ru-vladivostok", "country": "RU"},
    {"place_id": "cn-dandong", "country": "CN"},
    {"place_id": "ru", "country": "RU", "kind": "country"},
    {"place_id": "ua-donetsk"},
    {"name": "Moscow"},
)
place_lists = st.lists(st.sampled_from(PLACES), min_size=1, max_size=4)
statuses = st.sampled_from(["completed", "underway", "planned", "announced"])
undated = st.sampled_from([{}, {"precision": "unknown"}, {"text": "soon", "precision": "unknown"}])


@st.composite
def flows(draw: st.DrawFn) -> tuple[str, dict[str, Any], int]:
    type = draw(st.sampled_from([DISPATCHED, REPATRIATED]))
    version = draw(st.sampled_from([1, 2]))
    status = "completed" if version == 1 else draw(statuses)
    data: dict[str, Any] = {
        "destinations" if type == DISPATCHED else "from_places": draw(place_lists),
        "count": draw(counts()),
        "status": status,
    }
    if draw(st.booleans()):
        data["affiliation"] = draw(st.sampled_from(AFFILIATIONS))
    if status in ("planned", "announced") and draw(st.booleans()):
        if period := draw(undated):
            data["period"] = period
    else:
        data["period"] = draw(periods())
    if version == 2 and draw(st.booleans()):
        data["via"] = draw(place_lists)
    return type, data, version


@st.composite
def stocks(draw: st.DrawFn) -> tuple[str, dict[str, Any], int]:
    data: dict[str, Any] = {
        "place": draw(st.sampled_from(PLACES)),
        "count": draw(counts(top=300)),
        "as_of": draw(days).isoformat(),
    }
    if draw(st.booleans()):
        data["affiliation"] = draw(st.sampled_from(AFFILIATIONS))
    return ESTIMATED, data, 1


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.one_of(flows(), stocks()))
def test_random_counted_payloads_give_the_same_figures_both_ways(
    drawn: tuple[str, dict[str, Any], int],
) -> None:
    type, data, version = drawn
    _same_figures(type, version, _stored(type, data, version))


def test_a_replayed_event_reads_its_payload_only_when_asked() -> None:
    body = next(b for b in seed_bodies() if b["type"] == DISPATCHED)
    stored = _stored(DISPATCHED, body["data"], 2)
    replayed = ReplayedEvent(uuid4(), 7, DISPATCHED, 2, stored, "a-source")
    logged = replayed.logged()
    assert (logged.id, logged.position, logged.type, logged.source_id) == (
        replayed.id,
        7,
        DISPATCHED,
        "a-source",
    )
    assert logged.figures is not None and logged._payload is None  # read without typing
    assert logged.payload == read_payload(DISPATCHED, 2, stored)
