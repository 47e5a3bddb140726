"""`/v1/wages`: pay per worker as reported, in the currency reported and in USD."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Connection

from service.api.countries import CountryDep
from service.api.deps import LedgerDep
from service.api.problems import problem_responses
from service.api.serving.pipeline import Forms, serve_view
from service.api.serving.representations import alternative_media_types
from service.api.serving.time_axes import TimeAxesDep
from service.domain.payloads import WageBasis
from service.views.wages.queries import WagesQuery, WagesView, wages_view

router = APIRouter(prefix="/v1/wages", tags=["wages"])


def _csv(view: WagesView) -> list[dict[str, Any]]:
    return [
        w.model_dump(mode="json", exclude={"usd_rate", "sources", "place_ids", "countries"})
        | {
            "place_ids": " ".join(w.place_ids),
            "countries": " ".join(w.countries),
            "usd_rate": w.usd_rate.rate if w.usd_rate else None,
            "usd_rate_as_of": w.usd_rate.as_of if w.usd_rate else None,
            "sources": "; ".join(w.sources),
        }
        for w in view.wages
    ]


FORMS = Forms[WagesView](csv_rows=_csv, filename="wages")


@router.get(
    "",
    summary="Wages per worker as reported, in USD",
    response_model=WagesView,
    responses={**problem_responses(422), **alternative_media_types()},
)
async def list_wages(
    request: Request,
    ledger: LedgerDep,
    axes: TimeAxesDep,
    country: CountryDep = None,
    sector: Annotated[
        str | None, Query(max_length=200, description="Words of the sector, e.g. `construction`.")
    ] = None,
    basis: Annotated[
        WageBasis | None,
        Query(description="`promised` (offered, contracted) or `paid`."),
    ] = None,
) -> Response:
    """What workers were reported to be promised or paid ("promised USD 500 a month, paid
    a fifth of it"), each as reported: `per` hour, day, month, year or `once` (a one-off
    payment), never turned into another period, and `basis` `promised` or `paid`. A wage
    is what a worker earns, not a remittance: quotas are in `/v1/remittances`.

    The amount in USD is at the nearest reported rate of the wage's date (its period's
    start, else its source's date) or earlier; where only a later rate was reported,
    that one, and `rate_note` says so; with none by `as_of` (else today), `usd` is null
    and `usd_unavailable_reason` says why. CSV (`Accept: text/csv`) has the same columns."""
    query = WagesQuery(
        country=country,
        sector=sector,
        basis=basis.value if basis else None,
        as_of=axes.as_of,
    )

    def compute(conn: Connection, position: int, head: int) -> WagesView:
        return wages_view(conn, query, position, head)

    return await serve_view(request, ledger, axes, ("wages", query), compute, FORMS)
