"""The deployments read model: the rows its folds sum, derived from the log."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from service.db.metadata import partial_index, table_of
from service.db.types import BigIntPK


class FlowContribution(SQLModel, table=True):
    """One version of a counted fact at one of its places: the rows projections sum.

    A dispatch to Moscow and Saint Petersburg is two rows sharing `fact_id`. A
    correction ends the old rows (`superseded_at`) and adds new ones; a
    retraction only ends them. So any past state is a filter on positions.
    """

    __tablename__ = "flow_contributions"
    __table_args__ = (
        Index("ix_flow_current", "superseded_at", "kind", "place_id", "affiliation"),
        Index("ix_flow_fact", "fact_id"),
        Index("ix_flow_position", "position"),
        # one group's rows: a view carried forward folds only the groups that changed
        Index("ix_flow_place_affiliation", "place_id", "affiliation"),
        # Stocks are a few rows among a great many flows. (Partial, so that no fold
        # over the flows is tempted to walk an index on `kind`.)
        partial_index("ix_flow_stocks", "period_start", where="kind = 'estimate'"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigIntPK, primary_key=True, autoincrement=True)
    )
    fact_id: UUID
    position: int = Field(
        sa_column=Column(BigInteger, nullable=False),
        description="The event that made this version: the fact, or its correction.",
    )
    superseded_at: int | None = Field(default=None, sa_column=Column(BigInteger))
    kind: str = Field(max_length=16, description="dispatched, repatriated or estimate")
    place_id: str = Field(max_length=100)
    country: str = Field(max_length=2)
    affiliation: str = Field(max_length=16)
    places_in_fact: int
    # How the fact version shares its count, fixed when the row is made so that a
    # fold needs no window over each fact: how many distinct places and countries
    # it names, and whether this row is the first of its place, of its country, of
    # the fact (a group counts a fact once, through that row).
    distinct_places: int = 1
    distinct_countries: int = 1
    first_of_place: bool = True
    first_of_country: bool = True
    first_of_fact: bool = True
    count_min: int = Field(sa_column=Column(BigInteger, nullable=False))
    count_best: int | None = Field(default=None, sa_column=Column(BigInteger))
    count_max: int | None = Field(default=None, sa_column=Column(BigInteger))
    period_start: date
    period_end: date | None = None
    source_id: str = Field(max_length=120)
    reported_on: date | None = Field(default=None, description="The source's publication date.")


class Corroboration(SQLModel, table=True):
    """Another source for a fact: adds a source to its rows, never workers."""

    __tablename__ = "corroborations"
    __table_args__ = (Index("ix_corroborations_position", "position"),)

    event_id: UUID = Field(primary_key=True)
    fact_id: UUID = Field(index=True)
    source_id: str = Field(max_length=120)
    position: int = Field(sa_column=Column(BigInteger, nullable=False))
    superseded_at: int | None = Field(default=None, sa_column=Column(BigInteger))


FLOWS = table_of(FlowContribution)
CORROBORATIONS = table_of(Corroboration)
