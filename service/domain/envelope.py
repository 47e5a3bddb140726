"""An event as the ledger recorded it: the payload inside its envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from service.domain.payloads import Payload
from service.domain.readers import current_version, read_payload, upcast


def format_timestamp(moment: datetime) -> str:
    """The one text form of a time in hashes: UTC, microseconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RecordedEvent(BaseModel):
    """A recorded event. Fields marked server-assigned cannot be sent."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID = Field(description="UUIDv7, server-assigned.")
    position: int = Field(description="Global, gapless, in commit order.")
    stream: str = Field(examples=["source:dailynk-2023-05-nk-workers-russia"])
    stream_version: int
    type: str = Field(examples=["workers.dispatched"])
    schema_version: int
    data: dict[str, JsonValue]
    provenance: dict[str, JsonValue]
    recorded_at: datetime
    recorded_by: str = Field(description="The name of the API key that recorded it.")
    hash: str
    prev_hash: str
    idempotency_key: str | None = None
    correlation_id: str | None = None
    causation_id: UUID | None = None

    @property
    def source_id(self) -> str:
        """The source the event cites (also its own column in the log)."""
        return str(self.provenance["source_id"])

    @property
    def payload(self) -> Payload:
        """The payload typed (read anew at each call: keep it rather than ask twice)."""
        return read_payload(self.type, self.schema_version, self.data)

    def in_current_schema(self) -> RecordedEvent:
        """The event with its payload upcast to its type's current schema version (and
        `schema_version` saying so); the envelope, `hash` included, as recorded: the hash
        is of the stored payload. A correction's `replacement` stays as recorded."""
        current = current_version(self.type)
        if self.schema_version >= current:
            return self
        return self.model_copy(
            update={
                "data": upcast(self.type, self.schema_version, self.data),
                "schema_version": current,
            }
        )

    def logged(self) -> LoggedEvent:
        """What the rules keeping the derived tables read of it, its payload typed."""
        return LoggedEvent(self.id, self.position, self.type, self.source_id, self.payload)

    def hashed_fields(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "position": self.position,
            "stream": self.stream,
            "stream_version": self.stream_version,
            "type": self.type,
            "schema_version": self.schema_version,
            "data": self.data,
            "provenance": self.provenance,
            "recorded_at": format_timestamp(self.recorded_at),
            "recorded_by": self.recorded_by,
            "idempotency_key": self.idempotency_key,
            "correlation_id": self.correlation_id,
            "causation_id": str(self.causation_id) if self.causation_id else None,
        }


class LoggedEvent(NamedTuple):
    """What the derived tables are made of: the part of a recorded event that the rules
    keeping them read, its payload typed. An append gives the rules the payload ingest
    validated; a replay reads it from the log (`ReplayedEvent.logged`)."""

    id: UUID
    position: int
    type: str
    source_id: str
    payload: Payload


class ReplayedEvent(NamedTuple):
    """An event as a replay reads it back from the log: six columns, not the whole
    envelope (whose other half a replay would decode and then never look at). A tuple,
    made from a row by one C call: a frozen dataclass's `__init__` cost a replay of a
    million events half a second more."""

    id: UUID
    position: int
    type: str
    schema_version: int
    data: dict[str, Any]
    source_id: str

    def logged(self) -> LoggedEvent:
        """The event with its payload typed (and upcast: see `domain/readers.py`)."""
        return LoggedEvent(
            self.id,
            self.position,
            self.type,
            self.source_id,
            read_payload(self.type, self.schema_version, self.data),
        )
