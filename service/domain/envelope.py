"""An event as the ledger recorded it: the payload inside its envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue


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


class LoggedEvent(Protocol):
    """What the derived tables are made of: the part of a recorded event that the rules
    keeping them read. A replay reads only this much of the log (see `ReplayedEvent`)."""

    @property
    def id(self) -> UUID: ...

    @property
    def position(self) -> int: ...

    @property
    def type(self) -> str: ...

    @property
    def data(self) -> dict[str, Any]: ...

    @property
    def source_id(self) -> str: ...


class ReplayedEvent(NamedTuple):
    """A `LoggedEvent` as a replay reads it back from the log: five columns, not the
    whole envelope (whose other half a replay would decode and then never look at).
    A tuple, made from a row by one C call: a frozen dataclass's `__init__` cost a
    replay of a million events half a second more."""

    id: UUID
    position: int
    type: str
    data: dict[str, Any]
    source_id: str
