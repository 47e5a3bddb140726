"""The facts of some types as the ledger knew them at a position: a fold over the log.

Used by the smaller views (remittances, rates, statements, sources), where
reading the few events of their types is cheaper than keeping another table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from service.domain.envelope import RecordedEvent
from service.domain.events import META_TYPES, EventType
from service.log.read import EventFilter, read_events

PAGE = 5000


@dataclass
class FactVersion:
    """A fact as it stands: its first event, its payload now, and what touched it."""

    event: RecordedEvent
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


def fold_facts(events: Iterable[RecordedEvent], types: Iterable[str]) -> dict[UUID, FactVersion]:
    """Corrections replace, retractions remove, corroborations add a source."""
    kinds = set(types)
    facts: dict[UUID, FactVersion] = {}
    for event in events:
        if event.type in kinds:
            facts[event.id] = FactVersion(event=event, data=dict(event.data))
            continue
        target = UUID(str(event.data.get("target_event_id")))
        fact = facts.get(target)
        if fact is None:
            continue
        if event.type == EventType.fact_corrected:
            replacement = event.data["replacement"]
            assert isinstance(replacement, dict)
            fact.data = dict(replacement)
            fact.corrections.append(event)
        elif event.type == EventType.fact_retracted:
            del facts[target]
        elif event.type == EventType.fact_corroborated:
            fact.corroborations.append(event)
    return facts


def facts_at(conn: Connection, types: Iterable[str], position: int) -> list[FactVersion]:
    kinds = list(types)
    return list(fold_facts(read_log(conn, kinds, position), kinds).values())
