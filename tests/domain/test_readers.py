"""Reading stored payloads: the typed model of each type, and upcasting older versions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from service.domain.counts import CountQualifier
from service.domain.events import EventType
from service.domain.examples import seed_bodies
from service.domain.payloads import Payload, WorkersDispatched
from service.domain.readers import PayloadReader, UnreadablePayload, read_payload


def test_every_seed_payload_reads_back_as_its_model_and_dumps_to_the_same_json() -> None:
    bodies = seed_bodies()
    assert bodies
    for body in bodies:
        stored = read_payload(body["type"], 1, body["data"]).model_dump(mode="json")
        # what ingest stores is the model's dump; reading it back changes nothing
        payload = read_payload(body["type"], 1, stored)
        assert payload.model_dump(mode="json") == stored


def test_a_dispatch_reads_as_typed_fields() -> None:
    body = next(b for b in seed_bodies() if b["type"] == EventType.workers_dispatched)
    payload = read_payload(body["type"], 1, body["data"])
    assert isinstance(payload, WorkersDispatched)
    assert payload.count.min is not None
    assert payload.count.qualifier in CountQualifier
    assert payload.period.effective_start is not None
    assert payload.destinations[0].name == "Moscow"


def test_an_unknown_type_or_a_newer_version_is_unreadable() -> None:
    body = next(b for b in seed_bodies() if b["type"] == EventType.workers_dispatched)
    with pytest.raises(UnreadablePayload):
        read_payload("workers.teleported", 1, body["data"])
    with pytest.raises(UnreadablePayload):
        read_payload(body["type"], 3, body["data"])


def test_a_version_1_flow_is_read_as_version_2_that_happened_by_no_route() -> None:
    body = next(b for b in seed_bodies() if b["type"] == EventType.workers_dispatched)
    stored = dict(body["data"])
    payload = read_payload(body["type"], 1, stored)
    assert isinstance(payload, WorkersDispatched)
    assert (payload.status, payload.via) == ("completed", [])
    assert stored == body["data"]  # the stored payload is never changed
    # a replacement recorded in version 2 (read at 1 by its correction) keeps its status
    planned = {**payload.model_dump(mode="json"), "status": "planned"}
    again = read_payload(body["type"], 1, planned)
    assert isinstance(again, WorkersDispatched) and again.status == "planned"


class ToyV2(Payload):
    """A toy type whose version 2 renamed `n` to `number` and added `status`."""

    number: int
    status: str


def _v1_to_v2(v1: Mapping[str, Any]) -> dict[str, Any]:
    return {"number": v1["n"], "status": "completed"}


TOY_READER = PayloadReader(
    models={"toy.counted": ToyV2},
    versions={"toy.counted": 2},
    upcasters={("toy.counted", 1): _v1_to_v2},
)


def test_a_stored_v1_payload_is_read_as_v2_through_its_upcaster() -> None:
    stored = {"n": 7}
    payload = TOY_READER.read("toy.counted", 1, stored)
    assert payload == ToyV2(number=7, status="completed")
    assert stored == {"n": 7}  # the stored payload itself is never changed


def test_a_current_payload_is_read_without_upcasting() -> None:
    assert TOY_READER.read("toy.counted", 2, {"number": 3, "status": "planned"}) == ToyV2(
        number=3, status="planned"
    )


def test_a_version_without_an_upcaster_is_unreadable() -> None:
    reader = PayloadReader(models={"toy.counted": ToyV2}, versions={"toy.counted": 3})
    with pytest.raises(UnreadablePayload, match="no upcaster"):
        reader.read("toy.counted", 1, {"n": 1})
