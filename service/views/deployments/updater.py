"""Keep `flow_contributions` and `corroborations` in step with the log.

Runs inside each append transaction (it is one of the store's `AppendRules`),
so a fact is in the totals as soon as its POST returns; `rebuild` replays the
same code over the whole log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, bindparam, literal_column, select, update

from service.db.bulk import insert_rows
from service.domain.dates import ReportedDate
from service.domain.envelope import LoggedEvent
from service.domain.events import EventType
from service.domain.payloads import (
    FactCorrected,
    FactCorroborated,
    FactRetracted,
    SourceRecorded,
    WorkersDispatched,
    WorkersRepatriated,
    WorkforceEstimated,
)
from service.domain.readers import (
    CountedFigures,
    MetaPayload,
    figures_of,
    read_payload_as,
    read_replacement,
)
from service.log.append import WriteOnlyRules
from service.views.deployments.tables import CORROBORATIONS, FLOWS
from service.views.facts.tables import FACTS

# event type → the kind of contribution its facts make (a plan's kind: `PLAN_KINDS`)
COUNTED_TYPES: dict[str, str] = {
    EventType.workers_dispatched.value: "dispatched",
    EventType.workers_repatriated.value: "repatriated",
    EventType.workforce_estimated.value: "estimate",
}
PLAN_KINDS: dict[str, str] = {
    EventType.workers_dispatched.value: "planned",
    EventType.workers_repatriated.value: "planned_return",
}
"""The kind of a planned or announced flow's rows: kept apart, so that no fold of the
flows counts a plan as workers sent. The views show planned dispatches (`planned`);
planned repatriations are kept for the duplicate search only."""
UNDATED = date.max
"""The `period_start` of an undated plan's rows: after every date, so that it is in a
view without a date filter (`as_of`, `period_to`) and in none with one. A stock of unknown
`as_of` has it too: it counts from its source's publication date, which the fold reads
from `reported_on` (`fold.stock_interval`), so a corrected source date moves it."""

CountedPayload = WorkersDispatched | WorkersRepatriated | WorkforceEstimated
"""The payloads of `COUNTED_TYPES`: what `CountedFigures` are read of."""


def contribution_rows(
    fact_id: UUID,
    position: int,
    figures: CountedFigures | None,
    source_id: str,
    reported_on: date | None,
) -> list[dict[str, Any]]:
    """One row per place of a counted fact (its `figures`); none for other facts."""
    if figures is None:
        return []
    if not figures.flow:
        kind = "estimate"
    elif figures.counted:
        kind = COUNTED_TYPES[figures.type]
    else:
        kind = PLAN_KINDS[figures.type]
    # a stock's: the first and last day of its `as_of` (UNDATED and None: unknown)
    start = figures.start or figures.end or UNDATED
    end = figures.end
    places = figures.places
    place_ids = [place_id for place_id, _ in places]
    countries = [country for _, country in places]
    distinct_places, distinct_countries = len(set(place_ids)), len(set(countries))
    return [
        {
            "fact_id": fact_id,
            "position": position,
            "superseded_at": None,
            "kind": kind,
            "place_id": place_id,
            "country": country,
            "affiliation": figures.affiliation,
            "places_in_fact": len(places),
            "distinct_places": distinct_places,
            "distinct_countries": distinct_countries,
            "first_of_place": place_ids.index(place_id) == index,
            "first_of_country": countries.index(country) == index,
            "first_of_fact": index == 0,
            "count_min": figures.count_min,
            "count_best": figures.count_best,
            "count_max": figures.count_max,
            "period_start": start,
            "period_end": end,
            "source_id": source_id,
            "reported_on": reported_on,
        }
        for index, (place_id, country) in enumerate(places)
    ]


def published_on(source: SourceRecorded) -> ReportedDate | None:
    """When a source was published, as precise as it says: this edition's date, else its
    original's."""
    return source.published_on or (source.original.published_on if source.original else None)


def published_date(source: SourceRecorded) -> date | None:
    """The day a source was out by: the last day of its `published_on` ("2023-05" →
    2023-05-31). A row's `reported_on`, and the date of a quota or wage without one."""
    published = published_on(source)
    return None if published is None else published.last


def source_report_date(source: Mapping[str, Any]) -> date | None:
    """`published_date` of a stored `source.recorded` payload."""
    return published_date(read_payload_as(SourceRecorded, source))


@dataclass
class ProjectionRules(WriteOnlyRules):
    """The store's `AppendRules` for the projection tables. Checks nothing itself."""

    rows_built_ahead = FLOWS.name  # a plain fact's rows: `contribution_rows` (built_ahead.py)

    def apply(self, conn: Connection, events: Sequence[LoggedEvent]) -> None:
        """Rows for the batch, built in log order with a few queries for the whole batch
        (a rebuild replays thousands of events at a time): rows made in the batch are
        ended in memory; rows stored before it, by one UPDATE per fact, run before the
        batch's rows are written."""
        targets = _targets(conn, events)
        dates = report_dates(
            conn,
            {e.source_id for e in events} | {source_id for _, source_id in targets.values()},
        )
        rows: list[dict[str, Any]] = []
        unended: dict[UUID, list[dict[str, Any]]] = {}  # made in this batch, still current
        stored_ended: dict[UUID, int] = {}  # stored rows' facts → the position ending them
        corroborations: list[dict[str, Any]] = []
        redated: set[str] = set()  # sources whose record was corrected (maybe their date)
        for event in events:
            if event.type in COUNTED_TYPES:
                source_id = event.source_id
                made = contribution_rows(
                    event.id, event.position, event.figures, source_id, dates.get(source_id)
                )
                rows += made
                unended[event.id] = made
                continue
            if event.type not in META_EVENT_TYPES:  # its payload is not read: no rows
                continue
            meta = event.payload
            if not isinstance(meta, MetaPayload):
                continue
            target = meta.target_event_id
            if isinstance(meta, FactCorroborated):
                corroborations.append(
                    {
                        "event_id": event.id,
                        "fact_id": target,
                        "source_id": event.source_id,
                        "position": event.position,
                    }
                )
                continue
            target_type, source_id = targets[target]
            if target_type == EventType.source_recorded and isinstance(meta, FactCorrected):
                redated.add(source_id)
            if target_type not in COUNTED_TYPES:
                continue
            ended = unended.pop(target, None)
            if ended is not None:
                for row in ended:
                    row["superseded_at"] = event.position
            else:  # its current rows are stored (the check refuses anything after a retraction)
                stored_ended.setdefault(target, event.position)
            if isinstance(meta, FactCorrected):
                made = contribution_rows(
                    target,
                    event.position,
                    figures_of(read_replacement(meta, target_type)),
                    source_id,
                    dates.get(source_id),
                )
                rows += made
                unended[target] = made
        if stored_ended:
            conn.execute(
                update(FLOWS)
                .where(FLOWS.c.fact_id == bindparam("target"), FLOWS.c.superseded_at.is_(None))
                .values(superseded_at=bindparam("ended_at")),
                [{"target": t, "ended_at": p} for t, p in stored_ended.items()],
            )
        insert_rows(conn, FLOWS, rows)
        insert_rows(conn, CORROBORATIONS, corroborations)
        if redated:
            # A row's `reported_on` is its source's publication date as known now, on
            # every row of the source, whichever batch made it: so a replay, whatever
            # its chunks, makes the rows the appends made. The one field a `known_at`
            # view does not show as it was then: versioning the rows instead would
            # give them the correction's position, which names the event behind a row.
            conn.execute(
                update(FLOWS)
                .where(FLOWS.c.source_id == bindparam("source"))
                .values(reported_on=bindparam("published")),
                [{"source": s, "published": dates.get(s)} for s in sorted(redated)],
            )


META_EVENT_TYPES = frozenset(
    {EventType.fact_corrected, EventType.fact_retracted, EventType.fact_corroborated}
)
_TARGETING = frozenset({EventType.fact_corrected, EventType.fact_retracted})


def _targets(conn: Connection, events: Sequence[LoggedEvent]) -> dict[UUID, tuple[str, str]]:
    """The type and source of each fact a correction or retraction in `events` targets."""
    wanted = {
        e.payload.target_event_id
        for e in events
        if e.type in _TARGETING and isinstance(e.payload, FactCorrected | FactRetracted)
    }
    found: dict[UUID, tuple[str, str]] = {}
    ids = list(wanted)
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(FACTS.c.event_id, FACTS.c.type, FACTS.c.source_id).where(
                FACTS.c.event_id.in_(ids[start : start + 500])
            )
        )
        found |= {row.event_id: (row.type, row.source_id) for row in rows}
    return found


_SOURCE_DATA = select(FACTS.c.source_id, FACTS.c.current_data).where(
    # a literal, so that the planner can see the partial index `ix_facts_sources` covers
    # it (a prepared statement's generic plan on PostgreSQL cannot, with a bound value)
    FACTS.c.type == literal_column(f"'{EventType.source_recorded.value}'"),
    FACTS.c.source_id.in_(bindparam("sources", expanding=True)),
)


def report_dates(conn: Connection, source_ids: set[str]) -> dict[str, date | None]:
    """Each source's publication date as the facts table knows it now."""
    rows = conn.execute(_SOURCE_DATA, {"sources": list(source_ids)})
    return {row.source_id: source_report_date(row.current_data) for row in rows}
