"""Remittance quotas per affiliation, converted to USD at the nearest earlier reported rate
(DESIGN §1b): earlier than the quota's own date; where only a later rate was reported,
that one, and the row says so.

A rate's date may be a month, a quarter or a year ("in 2023 the rouble stood at..."): the
interval of days it covers. A rate counts as of the quota's date or earlier when its
interval begins by that date; of those, the one beginning last is the nearest (then the
one ending last, then the last recorded). Where the rate used is of a month, quarter or
year, the row says so: it may be of a day after the quota's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from service.domain.dates import ReportedDate
from service.domain.events import EventType
from service.domain.payloads import FxRateReported
from service.domain.readers import read_payload_as
from service.views.facts.history import FactVersion

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
