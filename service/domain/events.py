"""An event as a client submits it: type, payload, provenance, concurrency hints.

One model per event type, joined in a union discriminated on `type`, so that
the OpenAPI document shows each shape and errors name the right fields.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from service.domain.errors import FieldValueError
from service.domain.payloads import (
    EntriesRecorded,
    FactCorrected,
    FactCorroborated,
    FactRetracted,
    FxRateReported,
    Payload,
    RemittanceQuotaReported,
    ReportingBasis,
    SourceId,
    SourceRecorded,
    StatementIssued,
    Text,
    WageReported,
    WorkersDispatched,
    WorkersRepatriated,
    WorkforceEstimated,
)


class Reliability(StrEnum):
    """Admiralty code: reliability of the source, A (reliable) … F (cannot be judged)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class Assessment(BaseModel):
    """Admiralty code: source reliability A–F × information credibility 1–6."""

    model_config = ConfigDict(extra="forbid")

    reliability: Reliability
    credibility: int = Field(ge=1, le=6)


class Provenance(BaseModel):
    """Where a fact was taken from: the source and the words quoted verbatim."""

    model_config = ConfigDict(extra="forbid")

    source_id: SourceId
    locator: str = Field(
        min_length=1,
        max_length=20_000,
        description="The sentence or paragraph quoted, verbatim.",
    )
    reporting_basis: ReportingBasis = ReportingBasis.unknown
    assessment: Assessment | None = None


def stream_of(source_id: str) -> str:
    return f"source:{source_id}"


class EventType(StrEnum):
    source_recorded = "source.recorded"
    workers_dispatched = "workers.dispatched"
    workers_repatriated = "workers.repatriated"
    workforce_estimated = "workforce.estimated"
    remittance_quota_reported = "remittance.quota_reported"
    fx_rate_reported = "fx.rate_reported"
    statement_issued = "statement.issued"
    fact_corroborated = "fact.corroborated"
    fact_corrected = "fact.corrected"
    fact_retracted = "fact.retracted"
    entries_recorded = "entries.recorded"
    wage_reported = "wage.reported"


PAYLOAD_TYPES: dict[EventType, type[Payload]] = {
    EventType.source_recorded: SourceRecorded,
    EventType.workers_dispatched: WorkersDispatched,
    EventType.workers_repatriated: WorkersRepatriated,
    EventType.workforce_estimated: WorkforceEstimated,
    EventType.remittance_quota_reported: RemittanceQuotaReported,
    EventType.fx_rate_reported: FxRateReported,
    EventType.statement_issued: StatementIssued,
    EventType.fact_corroborated: FactCorroborated,
    EventType.fact_corrected: FactCorrected,
    EventType.fact_retracted: FactRetracted,
    EventType.entries_recorded: EntriesRecorded,
    EventType.wage_reported: WageReported,
}

PAYLOAD_VERSIONS: dict[EventType, int] = {
    EventType.workers_dispatched: 2,
    EventType.workers_repatriated: 2,
    EventType.workforce_estimated: 2,
    EventType.remittance_quota_reported: 2,
    EventType.statement_issued: 2,
}
"""The current schema version of each payload type that has had more than one (every
other type is at version 1). New events are recorded in it; `readers.py` upcasts older
stored payloads to it."""

META_TYPES = frozenset(
    {EventType.fact_corroborated, EventType.fact_corrected, EventType.fact_retracted}
)
"""Events about other events: they target a fact and add no fact of their own."""


class EventInBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    schema_version: Literal[1] = 1
    data: Payload
    provenance: Provenance
    stream: str | None = Field(
        default=None,
        description="Optional; always `source:<provenance.source_id>`.",
        examples=["source:dailynk-2023-05-nk-workers-russia"],
    )
    expected_version: int | None = Field(
        default=None,
        ge=0,
        le=2**31,
        description="The stream's version you last saw (0 for a new stream); "
        "a 409 if someone appended since.",
    )
    correlation_id: Text | None = None
    causation_id: UUID | None = None

    @model_validator(mode="after")
    def _stream_is_the_source(self) -> EventInBase:
        if self.stream is not None and self.stream != stream_of(self.provenance.source_id):
            raise FieldValueError(
                "stream", f"the stream of this event is {stream_of(self.provenance.source_id)!r}"
            )
        return self

    @property
    def payload(self) -> Payload:
        data: Payload = self.data  # every subclass declares `data`
        return data

    @property
    def event_type(self) -> EventType:
        return EventType(self.type)


class SourceRecordedIn(EventInBase):
    type: Literal["source.recorded"]
    data: SourceRecorded

    @model_validator(mode="after")
    def _cites_itself(self) -> SourceRecordedIn:
        if self.provenance.source_id != self.data.source_id:
            raise FieldValueError("provenance", "a source.recorded cites its own source_id")
        return self


FLOW_V2_FIELDS = ("status", "via")
"""Fields a version 1 dispatch did not have (a repatriation also lacked `sector` and
`transport`)."""

FLOW_SCHEMA_VERSION_DESCRIPTION = (
    "2, the current version (`status`, `via`; on repatriations also `sector`, "
    "`transport`). A body without it is read as version 2; one that says 1 is a "
    "version 1 body (no status: the flow happened), recorded as the version 2 it means."
)


def _v1_fields_only(
    event: WorkersDispatchedIn
    | WorkersRepatriatedIn
    | WorkforceEstimatedIn
    | RemittanceQuotaReportedIn
    | StatementIssuedIn,
    v2_fields: tuple[str, ...],
) -> None:
    """A body that says it is version 1 holds no field of version 2; it is then recorded
    as version 2, which is what it means (a flow: completed, by no route; a stock or a
    quota: of no sector; a statement: no claims)."""
    if event.schema_version == 1:
        given = [name for name in v2_fields if name in event.data.model_fields_set]
        if given:
            raise FieldValueError(
                "schema_version",
                f"data.{given[0]} is a field of schema_version 2: send 2, or leave it out",
            )
        event.schema_version = 2


class WorkersDispatchedIn(EventInBase):
    type: Literal["workers.dispatched"]
    schema_version: Literal[1, 2] = Field(  # type: ignore[assignment]
        default=2, description=FLOW_SCHEMA_VERSION_DESCRIPTION
    )
    data: WorkersDispatched

    @model_validator(mode="after")
    def _recorded_as_v2(self) -> WorkersDispatchedIn:
        _v1_fields_only(self, FLOW_V2_FIELDS)
        return self


class WorkersRepatriatedIn(EventInBase):
    type: Literal["workers.repatriated"]
    schema_version: Literal[1, 2] = Field(  # type: ignore[assignment]
        default=2, description=FLOW_SCHEMA_VERSION_DESCRIPTION
    )
    data: WorkersRepatriated

    @model_validator(mode="after")
    def _recorded_as_v2(self) -> WorkersRepatriatedIn:
        _v1_fields_only(self, (*FLOW_V2_FIELDS, "sector", "transport"))
        return self


SECTOR_SCHEMA_VERSION_DESCRIPTION = (
    "2, the current version (`sector`). A body without it is read as version 2; one that "
    "says 1 is a version 1 body (no sector), recorded as the version 2 it means."
)


class WorkforceEstimatedIn(EventInBase):
    type: Literal["workforce.estimated"]
    schema_version: Literal[1, 2] = Field(  # type: ignore[assignment]
        default=2, description=SECTOR_SCHEMA_VERSION_DESCRIPTION
    )
    data: WorkforceEstimated

    @model_validator(mode="after")
    def _recorded_as_v2(self) -> WorkforceEstimatedIn:
        _v1_fields_only(self, ("sector",))
        return self


class RemittanceQuotaReportedIn(EventInBase):
    type: Literal["remittance.quota_reported"]
    schema_version: Literal[1, 2] = Field(  # type: ignore[assignment]
        default=2, description=SECTOR_SCHEMA_VERSION_DESCRIPTION
    )
    data: RemittanceQuotaReported

    @model_validator(mode="after")
    def _recorded_as_v2(self) -> RemittanceQuotaReportedIn:
        _v1_fields_only(self, ("sector",))
        return self


class FxRateReportedIn(EventInBase):
    type: Literal["fx.rate_reported"]
    data: FxRateReported


STATEMENT_SCHEMA_VERSION_DESCRIPTION = (
    "2, the current version (`claims`). A body without it is read as version 2; one that "
    "says 1 is a version 1 body (no claims), recorded as the version 2 it means."
)


class StatementIssuedIn(EventInBase):
    type: Literal["statement.issued"]
    schema_version: Literal[1, 2] = Field(  # type: ignore[assignment]
        default=2, description=STATEMENT_SCHEMA_VERSION_DESCRIPTION
    )
    data: StatementIssued

    @model_validator(mode="after")
    def _recorded_as_v2(self) -> StatementIssuedIn:
        _v1_fields_only(self, ("claims",))
        return self


class FactCorroboratedIn(EventInBase):
    type: Literal["fact.corroborated"]
    data: FactCorroborated


class FactCorrectedIn(EventInBase):
    type: Literal["fact.corrected"]
    data: FactCorrected


class FactRetractedIn(EventInBase):
    type: Literal["fact.retracted"]
    data: FactRetracted


class EntriesRecordedIn(EventInBase):
    type: Literal["entries.recorded"]
    data: EntriesRecorded


class WageReportedIn(EventInBase):
    type: Literal["wage.reported"]
    data: WageReported


EventIn = Annotated[
    SourceRecordedIn
    | WorkersDispatchedIn
    | WorkersRepatriatedIn
    | WorkforceEstimatedIn
    | RemittanceQuotaReportedIn
    | FxRateReportedIn
    | StatementIssuedIn
    | FactCorroboratedIn
    | FactCorrectedIn
    | FactRetractedIn
    | EntriesRecordedIn
    | WageReportedIn,
    Field(discriminator="type"),
]

MAX_BATCH = 1000


class EventBatchIn(BaseModel):
    """Several events appended atomically: all land, or none."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1)


def _single_or_batch(body: Any) -> str:
    return "batch" if isinstance(body, dict) and "events" in body else "single"


AppendRequest = Annotated[
    Annotated[EventIn, Tag("single")] | Annotated[EventBatchIn, Tag("batch")],
    Discriminator(_single_or_batch),
]
"""The body of `POST /v1/events`: one event, or `{"events": [...]}`."""
