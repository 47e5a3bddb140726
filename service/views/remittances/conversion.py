"""Remittance quotas per affiliation, converted to USD at the nearest earlier reported rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

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
    as_of: date
    text: str | None
    fact: FactVersion


@dataclass(frozen=True)
class Conversion:
    usd: Decimal | None
    rate: ReportedRate | None
    inverted: bool
    reason: str | None


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


def to_usd(amount: Decimal, currency: str, on: date, rates: list[ReportedRate]) -> Conversion:
    """At the latest rate reported for a date on or before `on`, either way round."""
    if currency == "USD":
        return Conversion(amount.quantize(CENT), None, False, None)
    usable = [r for r in rates if r.as_of <= on and {r.base, r.quote} == {currency, "USD"}]
    if not usable:
        return Conversion(
            None, None, False, f"no {currency}/USD rate was reported on or before {on}"
        )
    rate = max(usable, key=lambda r: (r.as_of, r.fact.event.position))
    inverted = rate.base == "USD"
    usd = amount / rate.rate if inverted else amount * rate.rate
    return Conversion(usd.quantize(CENT, rounding=ROUND_HALF_EVEN), rate, inverted, None)
