"""The checks that refuse or warn, inside the append transaction.

A fact must cite a recorded source; a source is recorded once; corroborations,
corrections and retractions must target a fact that is still standing; a source
does not corroborate its own fact; a correction's replacement must be a valid
payload of the target's type. A new flow that may repeat a recorded one, another
source's or its own source's, is recorded with a warning. The checks read the views
(`facts`, the flow rows); the views are kept by their own updaters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import Connection, select

from service.domain.envelope import LoggedEvent, RecordedEvent
from service.domain.errors import (
    FieldValueError,
    InvalidReplacement,
    SelfCorroboration,
    SourceAlreadyRecorded,
    TargetRetracted,
    UnknownSource,
    UnknownTarget,
)
from service.domain.events import PAYLOAD_TYPES, EventType
from service.domain.payloads import FactCorrected, is_dated, is_plan
from service.domain.readers import MetaPayload
from service.gazetteer import Gazetteer
from service.ingest.placing import resolve_payload_places
from service.log.append import AppendWarning, NewEvent
from service.log.tables import STREAMS
from service.settings import DEFAULTS
from service.views.deployments.period_search import PeriodSearch
from service.views.facts.longest_period import Period
from service.views.facts.queries import Target, fact_targets
from service.views.facts.updater import FLOW_TYPES, RETRACTED, flow_summary

MAX_PLACES_SEARCHED = 200
"""Places the duplicate search names in its query at most (a batch naming more, say a
whole country's cities, reads every fact of its periods instead)."""
_VERB_AFTER_RETRACTION = {
    EventType.fact_corroborated.value: "corroborated",
    EventType.fact_corrected.value: "corrected",
    EventType.fact_retracted.value: "retracted again",
}


def _pointer(index: int, count: int, *path: str | int) -> tuple[str | int, ...]:
    return ("events", index, *path) if count > 1 else path


@dataclass(frozen=True)
class _Flow:
    """A dispatch or repatriation of an append, as the duplicate search compares it (and,
    for the flows after it in the same append, as a row `PeriodSearch` finds)."""

    index: int
    event: NewEvent
    summary: dict[str, Any]

    @property
    def type(self) -> str:
        return self.event.type

    @property
    def source_id(self) -> str:
        return self.event.source_id

    @property
    def places(self) -> list[str]:
        places: str = self.summary["place_ids"]
        return places.split()

    @property
    def period_start(self) -> date | None:
        start: date | None = self.summary["period_start"]
        return start

    @property
    def period_end(self) -> date | None:
        end: date | None = self.summary["period_end"]
        return end

    @property
    def period(self) -> Period:
        return (self.period_start, self.period_end)

    @property
    def days(self) -> int:
        """How long its period is (0 without one)."""
        start, end = self.period
        return (end - start).days if start and end else 0

    @property
    def count(self) -> tuple[int | None, int | None]:
        return (self.summary["count_min"], self.summary["count_max"])

    @property
    def planned(self) -> bool:
        """A planned or announced flow: compared with plans only (issue 14)."""
        return is_plan(self.event.payload)


@dataclass
class FactChecks:
    """Implements the log's `AppendRules` for the meaning of facts: checks and warnings."""

    gazetteer: Gazetteer
    duplicates_compared: int = DEFAULTS.duplicates_compared
    """Stored facts a new flow is compared with, at most (the setting of that name)."""
    _recorded_sources: set[str] = dataclasses.field(default_factory=set, init=False, repr=False)
    """Sources cited by committed events. A source, once recorded, is never removed
    (the log is append-only), so an append citing only these asks the database nothing."""

    def check(self, conn: Connection, events: Sequence[NewEvent]) -> list[NewEvent]:
        self._check_sources(conn, events)
        return self._check_targets(conn, events)

    def _check_sources(self, conn: Connection, events: Sequence[NewEvent]) -> None:
        cited = {e.source_id for e in events}
        known = cited & self._recorded_sources
        if unseen := cited - known:
            known.update(
                conn.execute(
                    select(STREAMS.c.source_id).where(STREAMS.c.source_id.in_(unseen))
                ).scalars()
            )
        for index, event in enumerate(events):
            if event.opens_stream:
                if event.source_id in known:
                    raise SourceAlreadyRecorded(
                        f"The source {event.source_id!r} is recorded already; "
                        "record a correction to change it.",
                        pointer=_pointer(index, len(events), "data", "source_id"),
                    )
                known.add(event.source_id)
            elif event.source_id not in known:
                raise UnknownSource(
                    f"No source {event.source_id!r} is recorded: record it first with "
                    "a source.recorded event.",
                    pointer=_pointer(index, len(events), "provenance", "source_id"),
                )

    def _check_targets(self, conn: Connection, events: Sequence[NewEvent]) -> list[NewEvent]:
        target_ids = {
            e.payload.target_event_id for e in events if isinstance(e.payload, MetaPayload)
        }
        targets = fact_targets(conn, target_ids)
        checked: list[NewEvent] = []
        for index, event in enumerate(events):
            if not isinstance(event.payload, MetaPayload):
                checked.append(event)
                continue
            where = _pointer(index, len(events), "data", "target_event_id")
            target_id = event.payload.target_event_id
            target = targets.get(target_id)
            if target is None:
                raise UnknownTarget(
                    f"No fact event has the id {target_id}: a {event.type} targets a recorded "
                    "fact (not a correction, retraction or corroboration).",
                    pointer=where,
                )
            if target.status == RETRACTED:
                raise TargetRetracted(
                    f"The fact {target_id} was retracted; a retracted fact cannot be "
                    f"{_VERB_AFTER_RETRACTION[event.type]}.",
                    pointer=where,
                )
            if event.type == EventType.fact_corroborated and event.source_id == target.source_id:
                raise SelfCorroboration(
                    f"The fact {target_id} was reported by {target.source_id!r} itself: a "
                    "corroboration cites another source that reports the same fact.",
                    pointer=_pointer(index, len(events), "provenance", "source_id"),
                )
            if event.type == EventType.fact_retracted:
                target.status = RETRACTED  # a later event in this batch sees it
            if isinstance(event.payload, FactCorrected):
                event = self._normalised_correction(
                    event, event.payload, target, index, len(events)
                )
            checked.append(event)
        return checked

    def _normalised_correction(
        self, event: NewEvent, correction: FactCorrected, target: Target, index: int, count: int
    ) -> NewEvent:
        model = PAYLOAD_TYPES[EventType(target.type)]
        where = _pointer(index, count, "data", "replacement")
        try:
            replacement = model.model_validate(correction.replacement)
        except ValidationError as invalid:
            first = invalid.errors()[0]
            location = [*where, *first["loc"]]
            cause = (first.get("ctx") or {}).get("error")
            if isinstance(cause, FieldValueError):
                location.append(cause.field)
            raise InvalidReplacement(
                f"The replacement is not a valid {target.type} payload: {first['msg']}",
                pointer=location,
            ) from None
        replacement = resolve_payload_places(replacement, self.gazetteer, where)
        if target.type == EventType.source_recorded and (
            getattr(replacement, "source_id", None) != target.source_id
        ):
            raise InvalidReplacement(
                "A correction of a source keeps its source_id.", pointer=(*where, "source_id")
            )
        normalised = correction.model_copy(
            update={"replacement": replacement.model_dump(mode="json")}
        )
        return dataclasses.replace(
            event, payload=normalised, data=normalised.model_dump(mode="json")
        )

    def warnings(
        self, conn: Connection, events: Sequence[NewEvent], ids: Sequence[UUID]
    ) -> list[AppendWarning]:
        flows = [
            _Flow(index, event, flow_summary(event.payload))
            for index, event in enumerate(events)
            if event.type in FLOW_TYPES and is_dated(event.payload)  # an undated plan: none
        ]
        if not flows:
            return []
        # One query for the whole batch, not one per event (see period_search.py).
        search = PeriodSearch.fetch(
            conn,
            [(f.type, f.period) for f in flows],
            self._related_places(f.places for f in flows),
        )
        found: list[AppendWarning] = []
        for new in flows:
            candidates = search.overlapping(new.type, new.period, new.planned)
            named: set[UUID] = set()  # a fact found by two of its places is named once
            for row in islice(candidates, self.duplicates_compared):
                if row.event_id not in named and self._may_repeat(
                    new, (row.place_ids or "").split(), row.count_min, row.count_max
                ):
                    named.add(row.event_id)
                    found.append(_duplicate(new, row.event_id, row.source_id))
        found += self._repeats_in_the_batch(flows, ids)
        return found

    def _repeats_in_the_batch(
        self, flows: Sequence[_Flow], ids: Sequence[UUID]
    ) -> list[AppendWarning]:
        """Each flow against the flows before it in the same append: a desk sending two
        accounts of one dispatch together (two sources', or one report's twice) is warned
        as if it had sent them one after the other (at most `duplicates_compared` each, as
        for stored facts)."""
        dated = sorted((f for f in flows if f.period_start), key=lambda f: f.period[0] or date.min)
        batch = PeriodSearch.of(dated, max((f.days for f in dated), default=0))
        found: list[AppendWarning] = []
        for new in flows:
            candidates = (
                old
                for old in batch.overlapping(new.type, new.period, new.planned)
                if old.index < new.index
            )
            for old in islice(candidates, self.duplicates_compared):
                if self._may_repeat(new, old.places, *old.count):
                    found.append(_duplicate(new, ids[old.index], old.source_id))
        return found

    def _may_repeat(
        self, new: _Flow, places: list[str], count_min: int | None, count_max: int | None
    ) -> bool:
        """Could `new` and a fact of these places and count be the same workers? (Their
        periods overlap: the caller's part. Their sources may be one: a report that says
        one thing twice.)"""
        return self._places_overlap(new.places, places) and _overlap(
            new.count, (count_min, count_max)
        )

    def _places_overlap(self, ours: Iterable[str], theirs: Iterable[str]) -> bool:
        """Could two lists of places hold the same workers?

        A place overlaps itself and everything inside it: Russia overlaps Moscow,
        Primorsky Krai overlaps Vladivostok. Two cities of one country do not.
        """
        our_lines = [self._lineage(p) for p in ours]
        their_lines = [self._lineage(p) for p in theirs]
        return any(a[0] in b or b[0] in a for a in our_lines for b in their_lines)

    def _related_places(self, place_lists: Iterable[list[str]]) -> set[str] | None:
        """Every place a fact could share workers with one of these: each place, what
        contains it and what it contains. None (no filter) when they are too many to list."""
        related: set[str] = set()
        for place_id in (p for places in place_lists for p in places):
            related.update(self._lineage(place_id))
            with suppress(KeyError):  # an id a later gazetteer dropped has none
                related.update(self.gazetteer.descendants(place_id))
            if len(related) > MAX_PLACES_SEARCHED:
                return None
        return related

    def _lineage(self, place_id: str) -> tuple[str, ...]:
        """The place, then every place that contains it, up to its country."""
        try:
            return (place_id, *self.gazetteer.ancestors(place_id))
        except KeyError:  # an id a later gazetteer dropped still overlaps itself
            return (place_id,)

    def committed(self, events: Sequence[RecordedEvent]) -> None:
        self._recorded_sources.update(e.source_id for e in events)

    def apply(self, conn: Connection, events: Sequence[LoggedEvent]) -> None:
        pass  # the tables the checks read are kept by the views' updaters


_SAME_SOURCE_HINT = (
    "This source reported an overlapping flow already. If the report repeats its own fact, "
    "retract this event (fact.retracted): recorded twice, the workers count twice."
)


def _duplicate(new: _Flow, duplicate_id: UUID, duplicate_source: str) -> AppendWarning:
    """The warning that `new` may repeat the fact `duplicate_id` of `duplicate_source`."""
    if duplicate_source == new.source_id:
        return AppendWarning(
            index=new.index,
            possible_duplicate_of=duplicate_id,
            reason="same_source",
            hint=_SAME_SOURCE_HINT,
        )
    return AppendWarning(index=new.index, possible_duplicate_of=duplicate_id)


def _overlap(a: tuple[int | None, int | None], b: tuple[int | None, int | None]) -> bool:
    """Do two [min, max] intervals (None max = open) share any number?"""
    a_min, a_max = a[0] or 0, a[1]
    b_min, b_max = b[0] or 0, b[1]
    return (a_max is None or b_min <= a_max) and (b_max is None or a_min <= b_max)
