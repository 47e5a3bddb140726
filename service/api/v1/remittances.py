"""`/v1/remittances`: what workers must send home, in the currency reported and in USD."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection

from service.api.deps import LedgerDep
from service.api.problems import problem_responses
from service.api.serving.negotiation import format_parameter
from service.api.serving.pipeline import Forms, serve_view
from service.api.serving.representations import alternative_media_types
from service.api.serving.time_axes import TimeAxesDep
from service.domain.payloads import Affiliation
from service.views.remittances.queries import RemittancesQuery, RemittancesView, remittances_view

router = APIRouter(prefix="/v1/remittances", tags=["remittances"])


def _csv(view: RemittancesView) -> list[dict[str, Any]]:
    return [
        q.model_dump(mode="json", exclude={"usd_rate", "sources"})
        | {
            "usd_rate": q.usd_rate.rate if q.usd_rate else None,
            "usd_rate_as_of": q.usd_rate.as_of if q.usd_rate else None,
        }
        for q in view.quotas
    ]


FORMS = Forms(csv_rows=_csv, filename="remittances")


@router.get(
    "",
    summary="Remittance quotas per affiliation, in USD",
    response_model=RemittancesView,
    responses={**problem_responses(422), **alternative_media_types()},
    dependencies=[format_parameter("csv")],
)
async def remittances(
    request: Request,
    ledger: LedgerDep,
    axes: TimeAxesDep,
    affiliation: Affiliation | None = None,
) -> Response:
    """What workers were reported to have to send home ("RUB 45,000 a month … as party
    funds"), per affiliation, with the amount in USD at the nearest reported rate earlier
    than the quota (its period's start, else its source's date), and that rate's own
    source and date. Where only a later rate was reported (the seed's quota of 28 April
    and its rate of 3 May), that rate is used and `rate_note` says so; `rate_note` is
    null when the rate is of the quota's date or earlier. Only rates of a date on or
    before `as_of` (else today) count: where there is none, `usd` is null and
    `usd_unavailable_reason` says why. CSV (`Accept: text/csv`) has the same columns."""
    query = RemittancesQuery(
        as_of=axes.as_of, affiliation=affiliation.value if affiliation else None
    )

    def compute(conn: Connection, position: int, head: int) -> RemittancesView:
        return remittances_view(conn, query, position, head)

    return await serve_view(request, ledger, axes, ("remittances", query), compute, FORMS)
