"""The facts of some types as the ledger knew them at a position: a fold over the log.

Used by the smaller views (remittances, rates, statements, sources), where
reading the few events of their types is cheaper than keeping another table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, select

from service.domain.envelope import RecordedEvent
from service.domain.events import META_TYPES
from service.domain.payloads import FactCorrected, FactRetracted, Payload
from service.domain.readers import MetaPayload, read_replacement
from service.log.read import EventFilter, read_events, read_events_at
from service.log.tables import EVENTS

PAGE = 5000


@dataclass
class FactVersion:
    """A fact as it stands: its first event, its payload now (typed, and as the stored
    JSON a response shows), and what touched it."""

    event: RecordedEvent
    payload: Payload
    data: dict[str, Any]
    corrections: list[RecordedEvent] = field(default_factory=list)
    corroborations: list[RecordedEvent] = field(default_factory=list)

    @property
    def source_ids(self) -> list[str]:
        own = str(self.event.provenance["source_id"])
        others = [str(c.provenance["source_id"]) for c in self.corroborations]
        return list(dict.fromkeys([own, *others]))


def read_log(conn: Connection, types: Iterable[str], position: int) -> list[RecordedEvent]:
    wanted = tuple(sorted({*types, *(t.value for t in META_TYPES)}))
    events: list[RecordedEvent] = []
    after = 0
    while page := read_events(
        conn, EventFilter(after=after, types=wanted, up_to_position=position), PAGE
    ):
        events += page
        after = page[-1].position
    return events


def events_about(
    conn: Connection, fact_ids: Iterable[UUID], position: int
) -> list[RecordedEvent]:
    """The corrections, retractions and corroborations of these facts up to `position`,
    in order. Only each one's target is read to pick them (a few per cent of a large
    log), then the events picked: a source's page need not read the whole log."""
    wanted = {str(fact_id) for fact_id in fact_ids}
    if not wanted:
        return []
    target = EVENTS.c.data["target_event_id"].as_string()
    picked = [
        int(row.position)
        for row in conn.execute(
            select(EVENTS.c.position, target.label("target")).where(
                EVENTS.c.type.in_(sorted(t.value for t in META_TYPES)),
                EVENTS.c.position <= position,
            )
        )
        if row.target in wanted
    ]
    return [
        event
        for start in range(0, len(picked), PAGE)
        for event in read_events_at(conn, sorted(picked)[start : start + PAGE])
    ]


def fold_facts(events: Iterable[RecordedEvent], types: Iterable[str]) -> dict[UUID, FactVersion]:
    """Corrections replace, retractions remove, corroborations add a source."""
    kinds = set(types)
    facts: dict[UUID, FactVersion] = {}
    for event in events:
        payload = event.payload
        if event.type in kinds:
            facts[event.id] = FactVersion(event=event, payload=payload, data=dict(event.data))
            continue
        if not isinstance(payload, MetaPayload):
            continue
        target = payload.target_event_id
        fact = facts.get(target)
        if fact is None:
            continue
        if isinstance(payload, FactCorrected):
            fact.payload = read_replacement(payload, fact.event.type)
            fact.data = dict(payload.replacement)
            fact.corrections.append(event)
        elif isinstance(payload, FactRetracted):
            del facts[target]
        else:
            fact.corroborations.append(event)
    return facts


def facts_at(conn: Connection, types: Iterable[str], position: int) -> list[FactVersion]:
    kinds = list(types)
    return list(fold_facts(read_log(conn, kinds, position), kinds).values())
