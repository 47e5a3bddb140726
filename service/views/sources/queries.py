"""Sources: every recorded source, and one source with each fact taken from it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Connection

from service.domain.envelope import RecordedEvent
from service.domain.events import META_TYPES, EventType
from service.domain.payloads import SourceRecorded
from service.domain.readers import MetaPayload, read_payload_as
from service.log.read import EventFilter, read_events
from service.views.facts.history import FactVersion, as_they_stood, facts_at

MAX_EVENTS_OF_A_SOURCE = 100_000


class SourceSummary(BaseModel):
    source_id: str
    event_id: UUID
    data: dict[str, Any]


class SourcesView(BaseModel):
    position: int
    head: int
    sources: list[SourceSummary]


class FactOut(BaseModel):
    event: RecordedEvent = Field(description="The fact as first recorded.")
    current: dict[str, Any] | None = Field(description="Its payload now; null if retracted.")
    status: str = Field(description="active, corrected or retracted")
    corrections: list[RecordedEvent]
    retraction: RecordedEvent | None
    corroborations: list[RecordedEvent] = Field(description="Other sources reporting it.")


class SourceDetail(BaseModel):
    source_id: str
    position: int
    head: int
    source: dict[str, Any]
    facts: list[FactOut]
    corroborates: list[RecordedEvent] = Field(
        description="Facts of other sources that this source corroborates."
    )


def sources_view(conn: Connection, position: int, head: int) -> SourcesView:
    """Every source recorded by `position` (its payload as it stands), by id."""
    found = facts_at(conn, [EventType.source_recorded.value], position)
    summaries = (
        SourceSummary(
            source_id=read_payload_as(SourceRecorded, f.data).source_id,
            event_id=f.event.id,
            data=f.data,
        )
        for f in found
    )
    return SourcesView(
        position=position, head=head, sources=sorted(summaries, key=lambda s: s.source_id)
    )


def source_detail(
    conn: Connection, source_id: str, position: int, head: int
) -> SourceDetail | None:
    """The source and each of its facts with what touched it; None if not recorded."""
    detail, _ = source_detail_page(conn, source_id, position, head)
    return detail


def source_detail_page(
    conn: Connection,
    source_id: str,
    position: int,
    head: int,
    *,
    after: int = 0,
    limit: int = MAX_EVENTS_OF_A_SOURCE,
) -> tuple[SourceDetail | None, int | None]:
    """`source_detail` for the source's events after position `after`, at most `limit`
    of them (a source of a large log may hold tens of thousands of facts), and the
    position to read on from, or None on the last page."""
    opening = read_events(
        conn,
        EventFilter(
            source_id=source_id,
            types=(EventType.source_recorded.value,),
            up_to_position=position,
        ),
        1,
    )
    if not opening:
        return None, None
    own = read_events(
        conn, EventFilter(source_id=source_id, after=after, up_to_position=position), limit + 1
    )
    more = len(own) > limit
    own = own[:limit]
    fact_types = {e.type for e in [*opening, *own] if e.type not in META_TYPES}
    own_facts = {e.id: e for e in [*opening, *own] if e.type in fact_types}
    versions, about = as_they_stood(conn, own_facts.values(), fact_types, position)
    touching: dict[UUID, list[RecordedEvent]] = defaultdict(list)
    for event in about:
        touching[_target(event)].append(event)
    facts = [
        _fact_out(e, versions.get(e.id), touching.get(e.id, []))
        for e in own
        if e.type not in META_TYPES and e.type != EventType.source_recorded
    ]
    corroborates = [
        e for e in own if e.type == EventType.fact_corroborated and _target(e) not in own_facts
    ]
    source_now = versions.get(opening[0].id)
    detail = SourceDetail(
        source_id=source_id,
        position=position,
        head=head,
        source=source_now.data if source_now else opening[0].data,
        facts=facts,
        corroborates=corroborates,
    )
    return detail, own[-1].position if more else None


def fact_history(conn: Connection, fact: RecordedEvent, position: int) -> FactOut:
    """One fact (not a source's record, nor an event about a fact) with what touched it
    by `position`: its entry in its source's `source_detail`."""
    versions, about = as_they_stood(conn, [fact], [fact.type], position)
    return _fact_out(fact, versions.get(fact.id), about)


def _target(event: RecordedEvent) -> UUID:
    """The fact an event about a fact (a corroboration, correction, retraction) is about."""
    about = event.payload
    assert isinstance(about, MetaPayload)
    return about.target_event_id


def _fact_out(
    event: RecordedEvent, version: FactVersion | None, touching: list[RecordedEvent]
) -> FactOut:
    retraction = next((e for e in touching if e.type == EventType.fact_retracted), None)
    corrections = [e for e in touching if e.type == EventType.fact_corrected]
    status = "retracted" if retraction else ("corrected" if corrections else "active")
    return FactOut(
        event=event,
        current=version.data if version else None,
        status=status,
        corrections=corrections,
        retraction=retraction,
        corroborations=[e for e in touching if e.type == EventType.fact_corroborated],
    )
