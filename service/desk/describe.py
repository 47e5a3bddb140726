"""A fact in one line, for the source and fact pages: what was reported, in the
report's own words where it gave them ("about 350 sent to Moscow, Saint Petersburg")."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from service.domain.envelope import RecordedEvent
from service.domain.payloads import (
    EntriesRecorded,
    FactCorrected,
    FxRateReported,
    Payload,
    RemittanceQuotaReported,
    SourceRecorded,
    StatementIssued,
    WageReported,
    WorkersDispatched,
    WorkersRepatriated,
    WorkforceEstimated,
)
from service.domain.places import Place
from service.domain.readers import read_replacement

KINDS = {
    "source.recorded": "source",
    "workers.dispatched": "workers sent",
    "workers.repatriated": "workers sent home",
    "workforce.estimated": "stock of workers",
    "remittance.quota_reported": "remittance quota",
    "fx.rate_reported": "exchange rate",
    "statement.issued": "statement",
    "entries.recorded": "entry statistics",
    "wage.reported": "wage",
    "fact.corroborated": "corroboration",
    "fact.corrected": "correction",
    "fact.retracted": "retraction",
}


def kind_of(event_type: str) -> str:
    return KINDS.get(event_type, event_type)


def _places(places: Sequence[Place]) -> str:
    return ", ".join(p.name or p.place_id or "" for p in places)


def describe(payload: Payload) -> str:
    """What a payload reports, in a line."""
    if isinstance(payload, WorkersDispatched):
        status = "" if payload.status.value == "completed" else f" ({payload.status.value})"
        return f"{payload.count.text} sent to {_places(payload.destinations)}{status}"
    if isinstance(payload, WorkersRepatriated):
        status = "" if payload.status.value == "completed" else f" ({payload.status.value})"
        return f"{payload.count.text} sent home from {_places(payload.from_places)}{status}"
    if isinstance(payload, WorkforceEstimated):
        return f"{payload.count.text} in {_places([payload.place])} as of {payload.as_of}"
    if isinstance(payload, RemittanceQuotaReported):
        money = payload.amount
        return (
            f"{money.currency} {money.amount:,} per {payload.per.value} "
            f"({payload.affiliation.value} workers)"
        )
    if isinstance(payload, FxRateReported):
        return f"1 {payload.base} = {payload.rate} {payload.quote} as of {payload.as_of}"
    if isinstance(payload, StatementIssued):
        speaker = payload.speaker
        who = speaker.name or speaker.role or speaker.organisation or "an official"
        return f"{who}: “{payload.quote}”"
    if isinstance(payload, EntriesRecorded):
        total = f"{payload.total.text} " if payload.total else ""
        return (
            f"{total}arrivals from {payload.origin_country} into "
            f"{payload.destination_country} counted by {payload.publisher}"
        )
    if isinstance(payload, WageReported):
        money = payload.amount
        return f"{money.currency} {money.amount:,} per {payload.per.value}, {payload.basis.value}"
    if isinstance(payload, SourceRecorded):
        return f"{payload.outlet}: {payload.title or payload.source_id}"
    return type(payload).__name__


def describe_event(event: RecordedEvent, target_type: str | None = None) -> str:
    """An event in a line; a correction by its replacement when its target's type is
    known. A payload this version cannot read is named by its type, not a failure."""
    try:
        payload = event.payload
        if isinstance(payload, FactCorrected):
            if target_type is None:
                return f"corrected: {payload.reason}"
            return describe(read_replacement(payload, target_type))
        return describe(payload)
    except (ValidationError, KeyError, ValueError):
        return kind_of(event.type)


def quote_of(event: RecordedEvent) -> str:
    return str(event.provenance.get("locator", ""))
