"""The facts of some types as the ledger knew them at a position: a fold over the log.

Used by the smaller views (remittances, rates, statements, sources), where
reading the few events of their types is cheaper than keeping another table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Select, select

from service.domain.envelope import RecordedEvent
from service.domain.payloads import FactCorrected, FactRetracted, Payload
from service.domain.readers import MetaPayload, read_replacement
from service.log.read import EventFilter, read_events
from service.log.tables import ABOUT_A_FACT, EVENTS_BY_TARGET, TargetOfEvent

PAGE = 5000
BATCH = 500
"""Fact ids asked for in one query."""


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


def read_of_types(conn: Connection, types: Iterable[str], position: int) -> list[RecordedEvent]:
    """Every event of these types up to `position`, in order."""
    wanted = tuple(sorted(set(types)))
    events: list[RecordedEvent] = []
    after = 0
    while page := read_events(
        conn, EventFilter(after=after, types=wanted, up_to_position=position), PAGE
    ):
        events += page
        after = page[-1].position
    return events


def events_about(conn: Connection, fact_ids: Iterable[UUID], position: int) -> list[RecordedEvent]:
    """The corrections, retractions and corroborations of these facts up to `position`,
    in order, found by the index on the fact each is about (`ix_events_target`)."""
    wanted = sorted({str(fact_id) for fact_id in fact_ids})
    found = [
        RecordedEvent.model_validate(row, from_attributes=True)
        for start in range(0, len(wanted), BATCH)
        for row in conn.execute(about_query(wanted[start : start + BATCH], position))
    ]
    return sorted(found, key=lambda event: event.position)


def about_query(fact_ids: list[str], position: int) -> Select[Any]:
    """The events about these facts (ids as text) up to `position`."""
    return select(EVENTS_BY_TARGET).where(
        ABOUT_A_FACT, TargetOfEvent().in_(fact_ids), EVENTS_BY_TARGET.c.position <= position
    )


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


def as_they_stood(
    conn: Connection, facts: Iterable[RecordedEvent], types: Iterable[str], position: int
) -> tuple[dict[UUID, FactVersion], list[RecordedEvent]]:
    """These facts (of `types`) as they stood at `position`, folded with only their own
    corrections, retractions and corroborations (not every one in the log); and those."""
    facts = list(facts)
    about = events_about(conn, [e.id for e in facts], position)
    in_order = sorted([*facts, *about], key=lambda e: e.position)
    return fold_facts(in_order, types), about


def facts_at(conn: Connection, types: Iterable[str], position: int) -> list[FactVersion]:
    """The facts of these types standing at `position`."""
    kinds = list(types)
    versions, _ = as_they_stood(conn, read_of_types(conn, kinds, position), kinds, position)
    return list(versions.values())
