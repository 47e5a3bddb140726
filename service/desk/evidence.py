"""The reports behind an answer: for every number, who said it and in what words.

One read for a whole page: the facts behind the answer's scope (as the deployments
view counts them, corrections applied), the facts they correct, and the sources
they cite, each as it stood at the page's position.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import Connection

from service.desk.records import event_ids_at, events_by_id, source_records
from service.domain.envelope import RecordedEvent
from service.domain.events import EventType
from service.domain.intervals import Bounds
from service.domain.payloads import (
    FactCorrected,
    FlowStatus,
    Payload,
    SourceRecorded,
    WorkersDispatched,
    WorkersRepatriated,
    WorkforceEstimated,
)
from service.domain.readers import read_replacement
from service.log.read import read_events_at
from service.views.deployments.fold import DeploymentQuery, facts_behind
from service.views.deployments.queries import Range, corroborating_sources
from service.views.facts.history import as_they_stood

REPORTS_LISTED = 100
"""At most this many reports are listed under an answer (a ledger of a million events
may hold tens of thousands behind one country): the page says when there are more, and
each city's own are one click away, a page of them at a time (`/reports`)."""

PLANS = {FlowStatus.planned, FlowStatus.announced}


class SourceCard(BaseModel):
    """What a reader needs to find a source again."""

    source_id: str
    outlet: str
    title: str | None
    url: str | None
    published_on: str | None
    language: str


@dataclass(frozen=True)
class Report:
    """One counted fact as the report gave it."""

    fact_id: UUID
    kind: str
    """`sent`, `sent home`, `planned` or `stock`."""
    count_text: str
    count: Range
    gives_number: bool
    """False where the report gave no number at all ("workers who had been there for
    over three years"): its bounds are the counting rule's, not the report's."""
    period_text: str
    period_start: date | None
    place_ids: tuple[str, ...]
    affiliation: str
    quote: str
    source_id: str
    corrected: bool
    corroborated_by: tuple[str, ...] = ()
    """Other sources that corroborated the fact: counted among the row's sources."""

    @property
    def vague(self) -> bool:
        """No best figure: the report gave a bound, a word, or nothing countable."""
        return self.count.best is None


@dataclass(frozen=True)
class Evidence:
    reports: list[Report]
    sources: dict[str, SourceCard]
    more: bool
    """More reports stand behind the answer than are listed."""
    last_position: int = 0
    """The log position of the last report listed: a list read on starts after it."""

    def at(self, place_id: str) -> list[Report]:
        return self._by_place.get(place_id, [])

    @cached_property
    def _by_place(self) -> dict[str, list[Report]]:
        found: dict[str, list[Report]] = defaultdict(list)
        for report in self.reports:
            for place_id in dict.fromkeys(report.place_ids):
                found[place_id].append(report)
        return found


class ReportsRead:
    """Each event's report, made once per process: a report is made of recorded events
    alone (a fact, or a correction and the fact it corrects), which never change. Reading
    and parsing the events of the reports an answer lists was most of its time at a
    million events; after an append the same reports are listed again. Kept by
    event id (unique across databases), the most recently used first."""

    def __init__(self, size: int = 20_000) -> None:
        self._kept: OrderedDict[UUID, Report | None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def reports(self, conn: Connection, positions: list[int]) -> list[Report]:
        """The reports of the events at `positions`, in their order."""
        ids = event_ids_at(conn, positions)
        with self._lock:
            missing = [p for p in positions if ids[p] not in self._kept]
        made = _reports_of(conn, missing)
        with self._lock:
            for position in missing:
                self._kept[ids[position]] = made.get(position)
            found = []
            for position in positions:
                self._kept.move_to_end(ids[position])
                found.append(self._kept[ids[position]])
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return [report for report in found if report is not None]


READ = ReportsRead()


def gather_evidence(
    conn: Connection,
    query: DeploymentQuery,
    scope: dict[str, str],
    listed: int,
    after: int = 0,
) -> Evidence:
    """The reports the deployments view counts for `scope` (e.g. `{"country": "RU"}`),
    at `query.position` and within its dates: the first `listed` after position `after`."""
    positions = facts_behind(conn, query, scope, listed + 1, after)
    more = len(positions) > listed
    positions = positions[:listed]
    reports = READ.reports(conn, positions)
    others = corroborating_sources(conn, [r.fact_id for r in reports], query.position)
    reports = [replace(r, corroborated_by=tuple(others.get(r.fact_id, ()))) for r in reports]
    ids = {i for r in reports for i in (r.source_id, *r.corroborated_by)}
    last = positions[-1] if positions else after
    return Evidence(reports, sources_at(conn, ids, query.position), more, last)


def _reports_of(conn: Connection, positions: list[int]) -> dict[int, Report | None]:
    """The report of each event at `positions` (None for one that makes none)."""
    events = [
        event
        for chunk in (positions[i : i + 500] for i in range(0, len(positions), 500))
        for event in read_events_at(conn, chunk)
    ]
    corrected = {e.id: e.payload for e in events if e.type == EventType.fact_corrected.value}
    targets = {
        t.id: t
        for t in events_by_id(
            conn, {p.target_event_id for p in corrected.values() if isinstance(p, FactCorrected)}
        )
    }
    return {event.position: _report(event, targets) for event in events}


def sources_at(conn: Connection, ids: Iterable[str], position: int) -> dict[str, SourceCard]:
    """The sources named, as they stood at `position` (corrections applied)."""
    kinds = [EventType.source_recorded.value]
    # with the corrections of those records alone: not every correction of their facts
    versions, _ = as_they_stood(conn, source_records(conn, set(ids), position), kinds, position)
    cards: dict[str, SourceCard] = {}
    for version in versions.values():
        if isinstance(version.payload, SourceRecorded):
            cards[version.payload.source_id] = source_card(version.payload)
    return cards


def source_card(source: SourceRecorded) -> SourceCard:
    return SourceCard(
        source_id=source.source_id,
        outlet=source.outlet,
        title=source.title,
        url=str(source.url) if source.url else None,
        published_on=str(source.published_on) if source.published_on else None,
        language=str(source.language),
    )


def _report(event: RecordedEvent, targets: dict[UUID, RecordedEvent]) -> Report | None:
    payload: Payload = event.payload
    fact, corrected = event, False
    if isinstance(payload, FactCorrected):
        target = targets.get(payload.target_event_id)
        if target is None:
            return None
        fact, corrected = target, True
        payload = read_replacement(payload, target.type)
    if isinstance(payload, WorkersDispatched):
        kind = "planned" if payload.status in PLANS else "sent"
        places = payload.destinations
    elif isinstance(payload, WorkersRepatriated):
        if payload.status in PLANS:
            return None  # a planned repatriation is in no view
        kind, places = "sent home", payload.from_places
    elif isinstance(payload, WorkforceEstimated):
        kind, places = "stock", [payload.place]
    else:
        return None
    bounds = Bounds(payload.count.min or 0, payload.count.best, payload.count.max)
    period = getattr(payload, "period", None)
    period_text = (period.text or _dates(period.start, period.end)) if period is not None else ""
    if isinstance(payload, WorkforceEstimated):
        period_text = f"as of {payload.as_of}"
    return Report(
        fact_id=fact.id,
        kind=kind,
        count_text=payload.count.text,
        count=Range.of(bounds),
        gives_number=payload.count.qualifier.value != "unknown",
        period_text=period_text,
        period_start=period.start if period is not None else None,
        place_ids=tuple(p.place_id for p in places if p.place_id),
        affiliation=payload.affiliation.value,
        quote=str(fact.provenance.get("locator", "")),
        source_id=fact.source_id,
        corrected=corrected,
    )


def _dates(start: object, end: object) -> str:
    if start and end:
        return f"{start} to {end}"
    return f"by {end}" if end else (str(start) if start else "no date given")
