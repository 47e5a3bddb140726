"""`/v1/estimates`: reported stocks of workers, beside the flows reported since."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection

from service.api.countries import CountryDep
from service.api.deps import LedgerDep
from service.api.problems import problem_responses
from service.api.serving.negotiation import format_parameter
from service.api.serving.pipeline import Forms, serve_view
from service.api.serving.representations import alternative_media_types
from service.api.serving.time_axes import TimeAxesDep
from service.views.estimates.queries import EstimatesQuery, EstimatesView, estimates_view

router = APIRouter(prefix="/v1/estimates", tags=["deployments"])

FORMS = Forms[EstimatesView](
    csv_rows=lambda view: [
        e.model_dump(mode="json", exclude={"count", "sources"})
        | {f"count_{b}": e.count.get(b) for b in ("text", "min", "best", "max")}
        for e in view.estimates
    ],
    filename="estimates",
)


@router.get(
    "",
    summary="Reported stocks of workers",
    response_model=EstimatesView,
    responses={**problem_responses(422), **alternative_media_types()},
    dependencies=[format_parameter("csv")],
)
async def estimates(
    request: Request,
    ledger: LedgerDep,
    axes: TimeAxesDep,
    country: CountryDep = None,
) -> Response:
    """Stocks as reported ("about 20,000 North Koreans in Russia"), kept apart from the
    flows and never summed into them; beside each latest stock, the estimate of those
    present now: the stock plus the net flows reported after its date, clamped at 0."""
    query = EstimatesQuery(country=country, as_of=axes.as_of)

    def compute(conn: Connection, position: int, head: int) -> EstimatesView:
        return estimates_view(conn, ledger.gazetteer, ledger.folds, query, position, head)

    return await serve_view(request, ledger, axes, ("estimates", query), compute, FORMS)
