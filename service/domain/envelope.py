"""An event as the ledger recorded it: the payload inside its envelope."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from service.domain.events import EventType
from service.domain.payloads import Payload
from service.domain.readers import (
    CountedFigures,
    current_version,
    figures_of,
    read_figures,
    read_payload,
    upcast,
)


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
    idempotency_key: str | None = Field(
        default=None,
        description="`sha256:<hex>` of the Idempotency-Key the event was sent with (never "
        "the key itself; events recorded before 2026-12 show the key as sent).",
    )
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

    def in_current_schema(self, target_type: str | None = None) -> RecordedEvent:
        """The event with its payload upcast to its type's current schema version (and
        `schema_version` saying so); the envelope, `hash` included, as recorded: the hash
        is of the stored payload.

        A correction's `replacement` is a payload of its target's type (`target_type`),
        recorded in the version current then; given that type, it is upcast too, as the
        views read it. Without it the replacement stays as recorded."""
        data = self.data
        if self.type == EventType.fact_corrected.value and target_type is not None:
            replacement = data.get("replacement")
            if isinstance(replacement, dict):
                data = {**data, "replacement": dict(upcast(target_type, 1, replacement))}
        current = current_version(self.type)
        if self.schema_version >= current and data is self.data:
            return self
        return self.model_copy(
            update={
                "data": upcast(self.type, self.schema_version, data),
                "schema_version": max(current, self.schema_version),
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


class LoggedEvent:
    """What the derived tables are made of: the part of a recorded event that the rules
    keeping them read, its payload typed. An append gives the rules the payload ingest
    validated; a replay gives the stored payload (`stored`, as `ReplayedEvent.logged`
    does), read on first use: a counted fact's rows need only its `figures`, which are
    read from the stored dict without validating it again (`read_figures`)."""

    __slots__ = ("_figures", "_payload", "_stored", "id", "position", "source_id", "type")

    def __init__(
        self, id: UUID, position: int, type: str, source_id: str, payload: Payload
    ) -> None:
        self.id = id
        self.position = position
        self.type = type
        self.source_id = source_id
        self._payload: Payload | None = payload
        self._stored: tuple[int, Mapping[str, Any]] | None = None
        self._figures: tuple[CountedFigures | None] | None = None  # once read

    @classmethod
    def stored(
        cls,
        id: UUID,
        position: int,
        type: str,
        source_id: str,
        schema_version: int,
        data: Mapping[str, Any],
    ) -> LoggedEvent:
        """An event read back from the log: its payload typed when first asked for."""
        event = cls.__new__(cls)
        event.id, event.position, event.type, event.source_id = id, position, type, source_id
        event._payload, event._stored, event._figures = None, (schema_version, data), None
        return event

    @property
    def payload(self) -> Payload:
        """The payload typed (and upcast: see `domain/readers.py`), read once."""
        if self._payload is None:
            assert self._stored is not None
            self._payload = read_payload(self.type, *self._stored)
        return self._payload

    @property
    def figures(self) -> CountedFigures | None:
        """What the derived tables read of a counted fact (None of other events): from
        the payload when it is typed already, else straight from the stored dict."""
        if self._figures is None:
            if self._payload is not None or self._stored is None:
                self._figures = (figures_of(self.payload),)
            else:
                self._figures = (read_figures(self.type, *self._stored),)
        return self._figures[0]

    def __repr__(self) -> str:
        return f"LoggedEvent({self.id!r}, {self.position!r}, {self.type!r}, {self.source_id!r})"


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
        """The event for the rules: its payload typed (and upcast: see `domain/readers.py`)
        when they first ask for it, its figures read without typing it."""
        return LoggedEvent.stored(
            self.id, self.position, self.type, self.source_id, self.schema_version, self.data
        )
