"""Turn validated request models into events the store records."""

from __future__ import annotations

from collections.abc import Sequence

from service.domain.events import EventInBase, EventType
from service.gazetteer import Gazetteer
from service.ingest.placing import resolve_payload_places
from service.log.append import NewEvent


def new_events(events: Sequence[EventInBase], gazetteer: Gazetteer) -> list[NewEvent]:
    """Resolve places and freeze each event as JSON; errors point into the request."""
    many = len(events) > 1
    prepared = []
    for index, event in enumerate(events):
        pointer: tuple[str | int, ...] = ("events", index, "data") if many else ("data",)
        payload = resolve_payload_places(event.payload, gazetteer, pointer)
        prepared.append(
            NewEvent(
                type=event.event_type.value,
                schema_version=event.schema_version,
                payload=payload,
                data=payload.model_dump(mode="json"),
                provenance=event.provenance.model_dump(mode="json"),
                expected_version=event.expected_version,
                correlation_id=event.correlation_id,
                causation_id=event.causation_id,
                opens_stream=event.event_type is EventType.source_recorded,
            )
        )
    return prepared
