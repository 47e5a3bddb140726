"""The facts read model: each fact's current version, derived from the log."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from service.db.metadata import partial_index, table_of
from service.db.types import NullableJSONDocument
from service.domain.events import EventType


class FactRow(SQLModel, table=True):
    """Every fact event and its standing now: active, corrected or retracted.

    The place, period and count columns let a new report be checked against
    the facts it may duplicate without reading every payload.
    """

    __tablename__ = "facts"
    __table_args__ = (
        Index("ix_facts_type_period", "type", "period_start"),
        # The sources, a few rows among every fact: their dates are read by every
        # append and every chunk of a rebuild.
        partial_index(
            "ix_facts_sources", "source_id", where=f"type = '{EventType.source_recorded.value}'"
        ),
    )

    event_id: UUID = Field(primary_key=True)
    position: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    type: str = Field(max_length=64)
    source_id: str = Field(max_length=120)
    status: str = Field(max_length=16, default="active")
    # A source's payload now, corrections applied: its publication date dates the facts
    # citing it. Empty for other facts: their payloads are in the log, and what views read
    # of them is in `flow_contributions` (a copy here was two thirds of what a rebuild
    # wrote, and nothing read it).
    current_data: dict[str, Any] | None = Field(
        default=None, sa_column=Column(NullableJSONDocument, nullable=True)
    )
    place_ids: str | None = Field(default=None, max_length=4000)
    period_start: date | None = None
    period_end: date | None = None
    count_min: int | None = Field(default=None, sa_column=Column(BigInteger))
    count_max: int | None = Field(default=None, sa_column=Column(BigInteger))


FACTS = table_of(FactRow)
