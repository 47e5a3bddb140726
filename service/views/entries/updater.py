"""Keep `entry_figures` in step with the log: each entry statistic's figures, versioned.

Runs inside each append transaction (one of the store's `AppendRules`) and in a rebuild's
replay, as the flows' updater does; it reads nothing but entry statistics and the
corrections and retractions that target them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, bindparam, select, update

from service.db.bulk import insert_rows
from service.domain.counts import Count
from service.domain.envelope import LoggedEvent
from service.domain.events import EventType
from service.domain.payloads import EntriesRecorded, FactCorrected, FactRetracted
from service.domain.readers import read_replacement
from service.log.append import WriteOnlyRules
from service.views.entries.tables import ENTRIES, TOTAL

ENTRIES_TYPE = EventType.entries_recorded.value
_TARGETING = frozenset({EventType.fact_corrected.value, EventType.fact_retracted.value})


def entry_rows(
    fact_id: UUID, position: int, source_id: str, statistic: EntriesRecorded
) -> list[dict[str, Any]]:
    """One row per figure of a statistic's version: its total, then each purpose."""
    figures: list[tuple[str, Count]] = [
        *([(TOTAL, statistic.total)] if statistic.total is not None else []),
        *((figure.purpose.value, figure.count) for figure in statistic.by_purpose),
    ]
    period = statistic.period
    place_ids = " ".join(str(place.place_id) for place in statistic.places) or None
    return [
        {
            "fact_id": fact_id,
            "position": position,
            "superseded_at": None,
            "source_id": source_id,
            "publisher": statistic.publisher,
            "origin_country": statistic.origin_country,
            "destination_country": statistic.destination_country,
            "place_ids": place_ids,
            "purpose": purpose,
            "count_text": count.text,
            "qualifier": count.qualifier.value,
            "count_min": count.min,
            "count_best": count.best,
            "count_max": count.max,
            "bounds_rule": count.bounds_rule,
            "period_start": period.start,
            "period_end": period.end,
            "precision": period.precision.value,
            "period_text": period.text,
        }
        for purpose, count in figures
    ]


def plain_entry_rows(event: LoggedEvent) -> list[dict[str, Any]]:
    """The rows an event makes as recorded (before any correction): an entry
    statistic's figures; none for any other event. They depend on the event alone."""
    if event.type != ENTRIES_TYPE:
        return []
    statistic = event.payload
    assert isinstance(statistic, EntriesRecorded)
    return entry_rows(event.id, event.position, event.source_id, statistic)


class EntriesUpdater(WriteOnlyRules):
    """The store's `AppendRules` for `entry_figures`. Checks nothing itself."""

    rows_built_ahead = ENTRIES.name  # a statistic's rows: `plain_entry_rows` (built_ahead.py)

    def apply(self, conn: Connection, events: Sequence[LoggedEvent]) -> None:
        """Rows for the batch in log order: rows made in the batch are ended in memory,
        stored rows by one UPDATE (run before the batch's rows are written)."""
        stored = _stored_statistics(conn, events)
        rows: list[dict[str, Any]] = []
        unended: dict[UUID, list[dict[str, Any]]] = {}  # made in this batch, still current
        stored_ended: dict[UUID, int] = {}  # stored statistics → the position ending them
        for event in events:
            if event.type == ENTRIES_TYPE:
                made = plain_entry_rows(event)
                rows += made
                unended[event.id] = made
                continue
            if event.type not in _TARGETING:
                continue
            meta = event.payload
            assert isinstance(meta, FactCorrected | FactRetracted)
            target = meta.target_event_id
            ended = unended.pop(target, None)
            if ended is not None:
                source_id = str(ended[0]["source_id"])
                for row in ended:
                    row["superseded_at"] = event.position
            elif target in stored and target not in stored_ended:
                source_id = stored[target]
                stored_ended[target] = event.position
            else:
                continue  # not an entry statistic
            if isinstance(meta, FactCorrected):
                replacement = read_replacement(meta, ENTRIES_TYPE)
                assert isinstance(replacement, EntriesRecorded)
                made = entry_rows(target, event.position, source_id, replacement)
                rows += made
                unended[target] = made
        if stored_ended:
            conn.execute(
                update(ENTRIES)
                .where(ENTRIES.c.fact_id == bindparam("target"), ENTRIES.c.superseded_at.is_(None))
                .values(superseded_at=bindparam("ended_at")),
                [{"target": t, "ended_at": p} for t, p in stored_ended.items()],
            )
        insert_rows(conn, ENTRIES, rows)


def _stored_statistics(conn: Connection, events: Sequence[LoggedEvent]) -> dict[UUID, str]:
    """The stored, current statistics a correction or retraction in `events` targets,
    each with its source."""
    wanted = {
        meta.target_event_id
        for event in events
        if event.type in _TARGETING
        for meta in [event.payload]
        if isinstance(meta, FactCorrected | FactRetracted)
    }
    if not wanted:
        return {}
    rows = conn.execute(
        select(ENTRIES.c.fact_id, ENTRIES.c.source_id)
        .where(ENTRIES.c.fact_id.in_(list(wanted)), ENTRIES.c.superseded_at.is_(None))
        .distinct()
    )
    return {row.fact_id: row.source_id for row in rows}
