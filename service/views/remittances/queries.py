"""Remittance quotas per affiliation, each with its amount in USD and the rate used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Connection

from service.domain.events import EventType
from service.domain.payloads import RemittanceQuotaReported
from service.domain.readers import read_payload_as
from service.views.remittances.conversion import RateUsed, reported_money


@dataclass(frozen=True)
class RemittancesQuery:
    as_of: date | None = None
    """Quotas in effect by then, in USD at the rate of then (else today's)."""
    affiliation: str | None = None


class Quota(BaseModel):
    event_id: UUID
    source_id: str
    sources: list[str] = Field(description="Its source and any corroborating sources.")
    affiliation: str
    organisation: str | None
    amount: Decimal
    currency: str
    per: str = Field(
        description="`hour`, `day`, `month`, `year` or `once` (a one-off contribution), as "
        "reported: never turned into another period, and nothing here is summed or "
        "annualised."
    )
    per_worker: bool
    recipient: str | None
    purpose: str | None
    sector: str | None
    effective_from: date | None = Field(
        description="The quota's period start, else its source's publication date."
    )
    usd: Decimal | None = Field(description="The amount in USD, rounded to the cent.")
    usd_rate: RateUsed | None
    rate_note: str | None = Field(
        description="Null when `usd_rate` is of a day on or before the quota's date; "
        "otherwise a sentence saying why another rate was used (only a later one was "
        "reported, the quota gives no date, or the rate is of a whole month, quarter or "
        "year)."
    )
    usd_unavailable_reason: str | None
    locator: str


class RemittancesView(BaseModel):
    as_of: date | None
    position: int
    head: int
    quotas: list[Quota]


def remittances_view(
    conn: Connection, query: RemittancesQuery, position: int, head: int
) -> RemittancesView:
    reported = reported_money(conn, EventType.remittance_quota_reported, position, query.as_of)
    quotas = []
    for fact in reported.facts:
        quota = read_payload_as(RemittanceQuotaReported, fact.data)
        source_id = str(fact.event.provenance["source_id"])
        period = quota.period
        effective = (
            (period.start or period.end)
            if period is not None and (period.start or period.end)
            else reported.published.get(source_id)
        )
        if query.as_of is not None and effective is not None and effective > query.as_of:
            continue
        if query.affiliation is not None and quota.affiliation.value != query.affiliation:
            continue
        quotas.append(
            Quota(
                event_id=fact.event.id,
                source_id=source_id,
                sources=fact.source_ids,
                affiliation=quota.affiliation.value,
                organisation=quota.organisation,
                amount=quota.amount.amount,
                currency=quota.amount.currency,
                per=quota.per.value,
                per_worker=quota.per_worker,
                recipient=quota.recipient,
                purpose=quota.purpose,
                sector=quota.sector,
                effective_from=effective,
                **reported.in_usd(quota.amount, effective),
                locator=str(fact.event.provenance["locator"]),
            )
        )
    quotas.sort(key=lambda q: (q.affiliation, q.effective_from or date.min, str(q.event_id)))
    return RemittancesView(as_of=query.as_of, position=position, head=head, quotas=quotas)
