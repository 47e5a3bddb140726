"""`/v1/remittances`: what workers must send home, in the currency reported and in USD."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from service.api.deps import ConnectionDep, LedgerDep
from service.api.problems import problem_responses
from service.api.serving.pipeline import serve_view
from service.api.serving.representations import alternative_media_types
from service.api.serving.time_axes import TimeAxesDep
from service.domain.events import EventType
from service.domain.payloads import Affiliation
from service.views.deployments.updater import source_report_date
from service.views.facts.history import FactVersion, facts_at
from service.views.remittances.conversion import reported_rates, to_usd

router = APIRouter(prefix="/v1/remittances", tags=["remittances"])


class RateUsed(BaseModel):
    base: str
    quote: str
    rate: Decimal
    as_of: date
    text: str | None
    event_id: UUID
    source_id: str


class Quota(BaseModel):
    event_id: UUID
    source_id: str
    sources: list[str] = Field(description="Its source and any corroborating sources.")
    affiliation: str
    organisation: str | None
    amount: Decimal
    currency: str
    per: str
    per_worker: bool
    recipient: str | None
    purpose: str | None
    effective_from: date | None = Field(
        description="The quota's period start, else its source's publication date."
    )
    usd: Decimal | None = Field(description="The amount in USD, rounded to the cent.")
    usd_rate: RateUsed | None
    usd_unavailable_reason: str | None
    locator: str


class RemittancesView(BaseModel):
    as_of: date | None
    position: int
    head: int
    quotas: list[Quota]


def _effective(fact: FactVersion, report_dates: dict[str, date | None]) -> date | None:
    period = fact.data.get("period")
    if isinstance(period, dict) and (period.get("start") or period.get("end")):
        return date.fromisoformat(str(period.get("start") or period.get("end")))
    return report_dates.get(str(fact.event.provenance["source_id"]))


def compute(
    conn: Any, position: int, head: int, as_of: date | None, affiliation: str | None
) -> RemittancesView:
    facts = facts_at(
        conn,
        [
            EventType.remittance_quota_reported.value,
            EventType.fx_rate_reported.value,
            EventType.source_recorded.value,
        ],
        position,
    )
    report_dates = {
        str(f.data["source_id"]): source_report_date(f.data)
        for f in facts
        if f.event.type == EventType.source_recorded
    }
    rates = reported_rates(facts)
    on = as_of or datetime.now(UTC).date()
    quotas = []
    for fact in facts:
        if fact.event.type != EventType.remittance_quota_reported:
            continue
        effective = _effective(fact, report_dates)
        if as_of is not None and effective is not None and effective > as_of:
            continue
        if affiliation is not None and fact.data["affiliation"] != affiliation:
            continue
        money = fact.data["amount"]
        assert isinstance(money, dict)
        conversion = to_usd(Decimal(str(money["amount"])), str(money["currency"]), on, rates)
        rate = conversion.rate
        quotas.append(
            Quota(
                event_id=fact.event.id,
                source_id=str(fact.event.provenance["source_id"]),
                sources=fact.source_ids,
                affiliation=str(fact.data["affiliation"]),
                organisation=fact.data.get("organisation"),
                amount=Decimal(str(money["amount"])),
                currency=str(money["currency"]),
                per=str(fact.data["per"]),
                per_worker=bool(fact.data["per_worker"]),
                recipient=fact.data.get("recipient"),
                purpose=fact.data.get("purpose"),
                effective_from=effective,
                usd=conversion.usd,
                usd_rate=RateUsed(
                    base=rate.base,
                    quote=rate.quote,
                    rate=rate.rate,
                    as_of=rate.as_of,
                    text=rate.fact.data.get("text"),
                    event_id=rate.fact.event.id,
                    source_id=str(rate.fact.event.provenance["source_id"]),
                )
                if rate
                else None,
                usd_unavailable_reason=conversion.reason,
                locator=str(fact.event.provenance["locator"]),
            )
        )
    quotas.sort(key=lambda q: (q.affiliation, q.effective_from or date.min, str(q.event_id)))
    return RemittancesView(as_of=as_of, position=position, head=head, quotas=quotas)


def _csv(view: RemittancesView) -> list[dict[str, Any]]:
    return [
        q.model_dump(mode="json", exclude={"usd_rate", "sources"})
        | {
            "usd_rate": q.usd_rate.rate if q.usd_rate else None,
            "usd_rate_as_of": q.usd_rate.as_of if q.usd_rate else None,
        }
        for q in view.quotas
    ]


@router.get(
    "",
    summary="Remittance quotas per affiliation, in USD",
    response_model=RemittancesView,
    responses={**problem_responses(422), **alternative_media_types()},
)
def remittances(
    request: Request,
    conn: ConnectionDep,
    ledger: LedgerDep,
    axes: TimeAxesDep,
    affiliation: Affiliation | None = None,
) -> Response:
    """What workers were reported to have to send home ("RUB 45,000 a month … as party
    funds"), per affiliation, with the amount in USD at the nearest earlier reported rate
    (on or before `as_of`, else today) and that rate's own source and date. Where no rate
    was reported before that date, `usd` is null and `usd_unavailable_reason` says why."""
    wanted = affiliation.value if affiliation else None
    return serve_view(
        request,
        conn,
        ledger,
        axes,
        ("remittances", axes.as_of, wanted),
        lambda position, head: compute(conn, position, head, axes.as_of, wanted),
        csv_rows=_csv,
        filename="remittances",
    )
