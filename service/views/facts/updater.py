"""Keep the `facts` table in step with the log: each fact's current version and standing.

A correction replaces a fact's summary (its places, period and count, which the duplicate
check reads) and a retraction ends its standing. The checks that read this table before
an append live in `service.ingest.checks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, update

from service.db.bulk import insert_rows
from service.domain.envelope import LoggedEvent
from service.domain.events import META_TYPES, EventType
from service.domain.payloads import (
    FactCorrected,
    FactRetracted,
    Payload,
    SourceRecorded,
)
from service.domain.readers import CountedFigures, figures_of, read_replacement
from service.log.append import WriteOnlyRules
from service.views.facts.longest_period import note_periods
from service.views.facts.queries import fact_targets
from service.views.facts.tables import FACTS

FLOW_TYPES = frozenset({EventType.workers_dispatched.value, EventType.workers_repatriated.value})
RETRACTED = "retracted"


class FactsUpdater(WriteOnlyRules):
    """Implements the log's `AppendRules` for the `facts` table (it checks nothing)."""

    rows_built_ahead = FACTS.name  # a plain fact's row is `fact_row` (views/built_ahead.py)

    def apply(self, conn: Connection, events: Sequence[LoggedEvent]) -> None:
        new_facts = [fact_row(e) for e in events if e.type not in META_TYPES]
        if new_facts:
            insert_rows(conn, FACTS, new_facts)
            note_periods(conn, [(f["period_start"], f["period_end"]) for f in new_facts])
        # One UPDATE statement for all corrections and one for all retractions (a
        # rebuild replays thousands at a time), each run over its rows in log order;
        # a fact retracted after a correction in the same batch ends up retracted.
        metas = [e.payload for e in events if e.type in META_TYPES]  # typed: a few
        corrected_types = fact_targets(
            conn, {p.target_event_id for p in metas if isinstance(p, FactCorrected)}
        )
        corrected: list[dict[str, Any]] = []
        retracted: list[dict[str, Any]] = []
        for payload in metas:
            if isinstance(payload, FactCorrected):
                target = payload.target_event_id
                replacement = read_replacement(payload, corrected_types[target].type)
                corrected.append(
                    {"target": target, "new_data": kept_data(replacement)}
                    | {f"new_{name}": value for name, value in flow_summary(replacement).items()}
                )
            elif isinstance(payload, FactRetracted):
                retracted.append({"target": payload.target_event_id})
        if corrected:
            columns = [
                name.removeprefix("new_") for name in corrected[0] if name.startswith("new_")
            ]
            conn.execute(
                update(FACTS)
                .where(FACTS.c.event_id == bindparam("target"))
                .values(
                    status="corrected",
                    **{
                        "current_data" if c == "data" else c: bindparam(f"new_{c}") for c in columns
                    },
                ),
                corrected,
            )
            note_periods(conn, [(c["new_period_start"], c["new_period_end"]) for c in corrected])
        if retracted:
            conn.execute(
                update(FACTS)
                .where(FACTS.c.event_id == bindparam("target"))
                .values(status=RETRACTED),
                retracted,
            )


def fact_row(event: LoggedEvent) -> dict[str, Any]:
    """The `facts` row of a fact as it is recorded (before any correction): it depends on
    the event alone. None of a meta event (a correction, retraction or corroboration).
    A counted fact's is made of its `figures` (a replay reads them without typing the
    payload); only a source's payload is kept, and so read."""
    kept = kept_data(event.payload) if event.type == EventType.source_recorded else None
    return {
        "event_id": event.id,
        "position": event.position,
        "type": event.type,
        "source_id": event.source_id,
        "status": "active",
        "current_data": kept,
        **figures_summary(event.figures),
    }


def kept_data(payload: Payload) -> dict[str, Any] | None:
    """The payload the `facts` table keeps as JSON: a source's (the views read its
    publication date there), no other."""
    return payload.model_dump(mode="json") if isinstance(payload, SourceRecorded) else None


def flow_summary(payload: Payload) -> dict[str, Any]:
    """The columns a duplicate check reads, for a flow; empty values otherwise."""
    return figures_summary(figures_of(payload))


_NO_FLOW: dict[str, Any] = {
    "place_ids": None,
    "period_start": None,
    "period_end": None,
    "count_min": None,
    "count_max": None,
}


def figures_summary(figures: CountedFigures | None) -> dict[str, Any]:
    """`flow_summary` of a fact's figures (None: not a counted fact)."""
    if figures is None or not figures.flow:
        return dict(_NO_FLOW)
    start, end = figures.start, figures.end
    return {
        "place_ids": " ".join(str(place_id) for place_id, _ in figures.places),
        "period_start": start or end,
        "period_end": end or start,
        "count_min": figures.count_min,
        "count_max": figures.count_max,
    }
