"""Keep `flow_contributions` and `corroborations` in step with the log.

Runs inside each append transaction (it is one of the store's `AppendRules`),
so a fact is in the totals as soon as its POST returns; `rebuild` replays the
same code over the whole log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, insert, select, update

from service.domain.envelope import RecordedEvent
from service.domain.events import EventType
from service.store.append import AppendWarning, NewEvent
from service.store.tables import CORROBORATIONS, FACTS, FLOWS

# event type → (kind of contribution, the payload field holding its places)
COUNTED_TYPES: dict[str, tuple[str, str]] = {
    EventType.workers_dispatched.value: ("dispatched", "destinations"),
    EventType.workers_repatriated.value: ("repatriated", "from_places"),
    EventType.workforce_estimated.value: ("estimate", "place"),
}


def contribution_rows(
    fact_id: UUID,
    position: int,
    event_type: str,
    data: dict[str, Any],
    source_id: str,
    reported_on: date | None,
) -> list[dict[str, Any]]:
    """One row per place of a counted fact; none for other facts."""
    if event_type not in COUNTED_TYPES:
        return []
    kind, places_field = COUNTED_TYPES[event_type]
    places = data[places_field]
    places = places if isinstance(places, list) else [places]
    if kind == "estimate":
        start, end = date.fromisoformat(data["as_of"]), None
    else:
        period = data["period"]
        start = date.fromisoformat(period.get("start") or period["end"])
        end = date.fromisoformat(period["end"]) if period.get("end") else None
    count = data["count"]
    return [
        {
            "fact_id": fact_id,
            "position": position,
            "superseded_at": None,
            "kind": kind,
            "place_id": place["place_id"],
            "country": place["country"],
            "affiliation": data.get("affiliation") or "unknown",
            "places_in_fact": len(places),
            "count_min": count["min"],
            "count_best": count.get("best"),
            "count_max": count.get("max"),
            "period_start": start,
            "period_end": end,
            "source_id": source_id,
            "reported_on": reported_on,
        }
        for place in places
    ]


def source_report_date(source: dict[str, Any]) -> date | None:
    """When a source was published: this edition's date, else its original's."""
    published = source.get("published_on") or (source.get("original") or {}).get("published_on")
    return date.fromisoformat(published) if published else None


@dataclass
class ProjectionRules:
    """The store's `AppendRules` for the projection tables. Checks nothing itself."""

    def check(self, conn: Connection, events: Sequence[NewEvent]) -> list[NewEvent]:
        return list(events)

    def warnings(self, conn: Connection, events: Sequence[NewEvent]) -> list[AppendWarning]:
        return []

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        report_dates = _report_dates(conn, {str(e.provenance["source_id"]) for e in events})
        pending: list[dict[str, Any]] = []
        for event in events:
            if event.type in COUNTED_TYPES:
                source_id = str(event.provenance["source_id"])
                pending += contribution_rows(
                    event.id,
                    event.position,
                    event.type,
                    event.data,
                    source_id,
                    report_dates.get(source_id),
                )
                continue
            if event.type not in (
                EventType.fact_corrected,
                EventType.fact_retracted,
                EventType.fact_corroborated,
            ):
                continue
            if pending:  # earlier rows first: a later event may supersede them
                conn.execute(insert(FLOWS), pending)
                pending = []
            self._apply_meta(conn, event)
        if pending:
            conn.execute(insert(FLOWS), pending)

    def _apply_meta(self, conn: Connection, event: RecordedEvent) -> None:
        target = UUID(str(event.data["target_event_id"]))
        if event.type == EventType.fact_corroborated:
            conn.execute(
                insert(CORROBORATIONS).values(
                    event_id=event.id,
                    fact_id=target,
                    source_id=event.provenance["source_id"],
                    position=event.position,
                )
            )
            return
        conn.execute(
            update(FLOWS)
            .where(FLOWS.c.fact_id == target, FLOWS.c.superseded_at.is_(None))
            .values(superseded_at=event.position)
        )
        if event.type == EventType.fact_corrected:
            fact = conn.execute(
                select(FACTS.c.type, FACTS.c.source_id).where(FACTS.c.event_id == target)
            ).one()
            replacement = event.data["replacement"]
            assert isinstance(replacement, dict)
            rows = contribution_rows(
                target,
                event.position,
                fact.type,
                replacement,
                fact.source_id,
                _report_dates(conn, {fact.source_id}).get(fact.source_id),
            )
            if rows:
                conn.execute(insert(FLOWS), rows)


def _report_dates(conn: Connection, source_ids: set[str]) -> dict[str, date | None]:
    rows = conn.execute(
        select(FACTS.c.source_id, FACTS.c.current_data).where(
            FACTS.c.type == EventType.source_recorded.value, FACTS.c.source_id.in_(source_ids)
        )
    )
    return {row.source_id: source_report_date(row.current_data) for row in rows}
