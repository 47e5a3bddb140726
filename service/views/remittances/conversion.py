"""Sums of money reported (remittance quotas, wages), converted to USD at the nearest
earlier reported rate (DESIGN §1b): earlier than the quota's own date; where only a later
rate was reported, that one, and the row says so.

A rate's date may be a month, a quarter or a year ("in 2023 the rouble stood at..."): the
interval of days it covers. A rate counts as of the quota's date or earlier when its
interval begins by that date; of those, the one beginning last is the nearest (then the
one ending last, then the last recorded). Where the rate used is of a month, quarter or
year, the row says so: it may be of a day after the quota's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypedDict
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Connection

from service.domain.dates import ReportedDate
from service.domain.events import EventType
from service.domain.money import Money
from service.domain.payloads import FxRateReported, SourceRecorded
from service.domain.readers import read_payload_as
from service.views.deployments.updater import published_date
from service.views.facts.history import FactVersion, facts_at

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ReportedRate:
    base: str
    quote: str
    rate: Decimal
    as_of: ReportedDate
    text: str | None
    fact: FactVersion


@dataclass(frozen=True)
class Conversion:
    usd: Decimal | None
    rate: ReportedRate | None
    inverted: bool
    reason: str | None
    note: str | None = None
    """Set when the rate is not one of the quota's date or before it."""


class RateUsed(BaseModel):
    base: str
    quote: str
    rate: Decimal
    as_of: ReportedDate = Field(description="The rate's date, as precise as reported.")
    text: str | None
    event_id: UUID
    source_id: str

    @classmethod
    def of(cls, rate: ReportedRate) -> RateUsed:
        return cls(
            base=rate.base,
            quote=rate.quote,
            rate=rate.rate,
            as_of=rate.as_of,
            text=rate.text,
            event_id=rate.fact.event.id,
            source_id=str(rate.fact.event.provenance["source_id"]),
        )


class InUsd(TypedDict):
    """The fields a row shows beside a sum as reported: the sum in USD, the rate used and
    why that one, or why there is none."""

    usd: Decimal | None
    usd_rate: RateUsed | None
    rate_note: str | None
    usd_unavailable_reason: str | None


@dataclass(frozen=True)
class ReportedMoney:
    """The facts of one type that report a sum of money, with what converting them needs:
    the rates reported, the view's date, and the day each source was published (the date
    of a fact that gives none of its own)."""

    facts: list[FactVersion]
    rates: list[ReportedRate]
    published: dict[str, date | None]
    on: date

    def in_usd(self, money: Money, dated: date | None, subject: str = "quota") -> InUsd:
        """`money` of a fact of the day `dated`, in USD (see `to_usd`)."""
        conversion = to_usd(
            money.amount, money.currency, self.on, self.rates, quota_date=dated, subject=subject
        )
        return InUsd(
            usd=conversion.usd,
            usd_rate=RateUsed.of(conversion.rate) if conversion.rate else None,
            rate_note=conversion.note,
            usd_unavailable_reason=conversion.reason,
        )


def reported_money(
    conn: Connection, fact_type: EventType, position: int, as_of: date | None
) -> ReportedMoney:
    """The facts of `fact_type` at `position`, to convert at the rates known by `as_of`
    (else today)."""
    facts = facts_at(
        conn,
        [fact_type.value, EventType.fx_rate_reported.value, EventType.source_recorded.value],
        position,
    )
    return ReportedMoney(
        facts=[f for f in facts if f.event.type == fact_type],
        rates=reported_rates(facts),
        published={
            f.payload.source_id: published_date(f.payload)
            for f in facts
            if isinstance(f.payload, SourceRecorded)
        },
        on=as_of or datetime.now(UTC).date(),
    )


def reported_rates(facts: list[FactVersion]) -> list[ReportedRate]:
    return [
        ReportedRate(
            base=reported.base,
            quote=reported.quote,
            rate=reported.rate,
            as_of=reported.as_of,
            text=reported.text,
            fact=f,
        )
        for f in facts
        if f.event.type == EventType.fx_rate_reported
        for reported in [read_payload_as(FxRateReported, f.data)]
    ]


def to_usd(
    amount: Decimal,
    currency: str,
    on: date,
    rates: list[ReportedRate],
    quota_date: date | None = None,
    subject: str = "quota",
) -> Conversion:
    """At the latest rate of a date on or before the quota's date (`quota_date`), either
    way round; where none is that early, at the earliest later one, with a note saying
    so. Only rates of a date on or before `on` (the view's date) count at all; a rate of
    a month, quarter or year is of the first day of it here, and the note names it.

    `subject` names the amount in the note (a quota, a wage).

    A later rate can be the first of several (a report gives the rate of its own day,
    after the quota it tells of): the nearest one stays closest to the quota's money."""
    if currency == "USD":
        return Conversion(amount.quantize(CENT), None, False, None)
    usable = [r for r in rates if r.as_of.first <= on and {r.base, r.quote} == {currency, "USD"}]
    if not usable:
        return Conversion(
            None, None, False, f"no {currency}/USD rate was reported on or before {on}"
        )
    earlier = [r for r in usable if quota_date is None or r.as_of.first <= quota_date]
    note: str | None = None
    if earlier:
        rate = max(earlier, key=lambda r: (r.as_of, r.fact.event.position))
        if quota_date is None:
            note = (
                f"The {subject} gives no date: converted at the latest rate reported, "
                f"of {rate.as_of}."
            )
        elif not rate.as_of.is_day:
            note = _imprecise_note(rate.as_of, quota_date, subject)
    else:
        rate = min(usable, key=lambda r: (r.as_of, -r.fact.event.position))
        note = (
            f"No {currency}/USD rate was reported on or before the {subject}'s date "
            f"({quota_date}): converted at the nearest later rate, of {rate.as_of}."
        )
    inverted = rate.base == "USD"
    usd = amount / rate.rate if inverted else amount * rate.rate
    return Conversion(usd.quantize(CENT, rounding=ROUND_HALF_EVEN), rate, inverted, None, note)


def _imprecise_note(as_of: ReportedDate, quota_date: date, subject: str) -> str:
    """Why a rate of a month, quarter or year was used, and what that leaves open."""
    used = f"Converted at a rate reported for {as_of} as a whole ({as_of.precision.value})"
    if as_of.last > quota_date:
        return (
            f"{used}, the nearest reported: it may be of a day after the {subject}'s date "
            f"({quota_date})."
        )
    return f"{used}, the nearest reported before the {subject}'s date ({quota_date})."
