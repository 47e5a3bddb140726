"""The entries read model: one row per figure of an entry statistic's version."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from service.db.metadata import table_of
from service.db.types import BigIntPK

TOTAL = "total"
"""The `purpose` of a statistic's total (all arrivals, whatever their purpose)."""


class EntryFigure(SQLModel, table=True):
    """One figure of an `entries.recorded` statistic: its total, or the arrivals of one
    purpose. "13,221 entered in 2023, 5,000 of them to study" is two rows sharing
    `fact_id` (purposes `total` and `study`). A correction ends a version's rows
    (`superseded_at`) and adds the new version's; a retraction only ends them, so any
    past state is a filter on positions, as with the flows."""

    __tablename__ = "entry_figures"
    __table_args__ = (
        Index("ix_entry_figures_fact", "fact_id"),
        Index("ix_entry_figures_position", "position"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigIntPK, primary_key=True, autoincrement=True)
    )
    fact_id: UUID
    position: int = Field(
        sa_column=Column(BigInteger, nullable=False),
        description="The event that made this version: the statistic, or its correction.",
    )
    superseded_at: int | None = Field(default=None, sa_column=Column(BigInteger))
    source_id: str = Field(max_length=120)
    publisher: str = Field(max_length=2000)
    origin_country: str = Field(max_length=2)
    destination_country: str = Field(max_length=2)
    place_ids: str | None = Field(default=None, max_length=4000)
    purpose: str = Field(max_length=16, description="`total`, or a purpose of entry.")
    count_text: str = Field(max_length=500)
    qualifier: str = Field(max_length=16)
    count_min: int = Field(sa_column=Column(BigInteger, nullable=False))
    count_best: int | None = Field(default=None, sa_column=Column(BigInteger))
    count_max: int | None = Field(default=None, sa_column=Column(BigInteger))
    bounds_rule: str = Field(max_length=32)
    period_start: date | None = None
    period_end: date | None = None
    precision: str = Field(max_length=16)
    period_text: str | None = Field(default=None, max_length=500)


ENTRIES = table_of(EntryFigure)
