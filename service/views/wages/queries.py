"""Wages as reported (promised or paid, per hour, day, month, year or once), each with
its amount in USD at the reported rates, as the remittances view converts a quota.

A small view: it folds the few events of its types (`facts_at`) rather than keep a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Connection

from service.domain.events import EventType
from service.domain.payloads import WageReported
from service.views.remittances.conversion import RateUsed, reported_money


@dataclass(frozen=True)
class WagesQuery:
    country: str | None = None
    """Wages of a place in this country, two letters, either case."""
    sector: str | None = None
    """Words of the sector, any case."""
    basis: str | None = None
    as_of: date | None = None
    """Wages reported for by then, in USD at the rate of then (else today's)."""


class Wage(BaseModel):
    event_id: UUID
    source_id: str
    sources: list[str] = Field(description="Its source and any corroborating sources.")
    amount: Decimal
    currency: str
    per: str = Field(
        description="`hour`, `day`, `month`, `year` or `once` (a one-off payment), as "
        "reported: never turned into another period."
    )
    basis: str = Field(description="`promised` or `paid`.")
    sector: str | None
    affiliation: str
    organisation: str | None
    employer: str | None
    place_ids: list[str]
    countries: list[str]
    effective_from: date | None = Field(
        description="The wage's period start, else its source's publication date."
    )
    usd: Decimal | None = Field(description="The amount in USD, rounded to the cent.")
    usd_rate: RateUsed | None
    rate_note: str | None = Field(
        description="Null when `usd_rate` is of the wage's date or earlier; otherwise why "
        "another rate was used."
    )
    usd_unavailable_reason: str | None
    locator: str


class WagesView(BaseModel):
    note: str = "A wage is what a worker earns, not a remittance: never in the quotas."
    as_of: date | None
    position: int
    head: int
    wages: list[Wage]


def wages_view(conn: Connection, query: WagesQuery, position: int, head: int) -> WagesView:
    reported = reported_money(conn, EventType.wage_reported, position, query.as_of)
    country = query.country.upper() if query.country else None
    wages = []
    for fact in reported.facts:
        wage = fact.payload
        if not isinstance(wage, WageReported):
            continue
        source_id = str(fact.event.provenance["source_id"])
        period = wage.period
        effective = (
            period.effective_start
            if period is not None and period.dated
            else reported.published.get(source_id)
        )
        countries = list(dict.fromkeys(str(place.country) for place in wage.places))
        if (
            (query.as_of is not None and effective is not None and effective > query.as_of)
            or (country and country not in countries)
            or not _has_words(wage.sector, query.sector)
            or (query.basis and wage.basis.value != query.basis)
        ):
            continue
        wages.append(
            Wage(
                event_id=fact.event.id,
                source_id=source_id,
                sources=fact.source_ids,
                amount=wage.amount.amount,
                currency=wage.amount.currency,
                per=wage.per.value,
                basis=wage.basis.value,
                sector=wage.sector,
                affiliation=wage.affiliation.value,
                organisation=wage.organisation,
                employer=wage.employer,
                place_ids=[str(place.place_id) for place in wage.places],
                countries=countries,
                effective_from=effective,
                **reported.in_usd(wage.amount, effective, subject="wage"),
                locator=str(fact.event.provenance["locator"]),
            )
        )
    wages.sort(key=lambda w: (w.effective_from or date.min, str(w.event_id)))
    return WagesView(as_of=query.as_of, position=position, head=head, wages=wages)


def _has_words(text: str | None, words: str | None) -> bool:
    if words is None:
        return True
    return text is not None and all(w in text.casefold() for w in words.casefold().split())
