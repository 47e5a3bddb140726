"""`/v1/estimates`: reported stocks of workers, beside the flows reported since."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from service.api.deps import ConnectionDep, LedgerDep
from service.api.problems import problem_responses
from service.api.serving.pipeline import serve_view
from service.api.serving.representations import alternative_media_types
from service.api.serving.time_axes import TimeAxesDep
from service.api.v1.deployments import Range, compute_view
from service.domain.events import EventType
from service.views.deployments.fold import DeploymentQuery
from service.views.facts.history import facts_at

router = APIRouter(prefix="/v1/estimates", tags=["deployments"])


class StockEstimate(BaseModel):
    event_id: UUID
    sources: list[str]
    place_id: str
    place_name: str | None
    country: str
    affiliation: str
    as_of: date
    count: dict[str, Any] = Field(description="As reported, with its bounds.")
    locator: str


class EstimateRow(BaseModel):
    place_id: str
    affiliation: str
    latest: StockEstimate
    estimated_present: Range | None = Field(
        description="The latest stock plus the net flows reported after it, clamped at 0."
    )


class EstimatesView(BaseModel):
    as_of: date | None
    position: int
    head: int
    estimates: list[StockEstimate] = Field(description="Every stock reported, oldest first.")
    latest: list[EstimateRow] = Field(description="The latest per place and affiliation.")


@router.get(
    "",
    summary="Reported stocks of workers",
    response_model=EstimatesView,
    responses={**problem_responses(422), **alternative_media_types()},
)
def estimates(
    request: Request,
    conn: ConnectionDep,
    ledger: LedgerDep,
    axes: TimeAxesDep,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
) -> Response:
    """Stocks as reported ("about 20,000 North Koreans in Russia"), kept apart from the
    flows and never summed into them; beside each latest stock, the estimate of those
    present now: the stock plus the net flows reported after its date, clamped at 0."""

    def compute(position: int, head: int) -> EstimatesView:
        on = axes.as_of or datetime.now(UTC).date()
        found = []
        for fact in facts_at(conn, [EventType.workforce_estimated.value], position):
            place = fact.data["place"]
            assert isinstance(place, dict)
            stock_date = date.fromisoformat(str(fact.data["as_of"]))
            if stock_date > on or (country and place["country"] != country.upper()):
                continue
            count = fact.data["count"]
            assert isinstance(count, dict)
            found.append(
                StockEstimate(
                    event_id=fact.event.id,
                    sources=fact.source_ids,
                    place_id=str(place["place_id"]),
                    place_name=str(place.get("name")) if place.get("name") else None,
                    country=str(place["country"]),
                    affiliation=str(fact.data.get("affiliation") or "unknown"),
                    as_of=stock_date,
                    count=count,
                    locator=str(fact.event.provenance["locator"]),
                )
            )
        found.sort(key=lambda e: (e.as_of, str(e.event_id)))
        latest: dict[tuple[str, str], StockEstimate] = {}
        for estimate in found:
            latest[(estimate.place_id, estimate.affiliation)] = estimate
        view = compute_view(
            conn,
            ledger.gazetteer,
            DeploymentQuery(group_by=("place", "affiliation"), position=position, as_of=on),
            head,
            ledger.folds,
        )
        present = {
            (r.place.place_id, r.affiliation or ""): r.estimated_present
            for r in view.rows
            if r.place is not None
        }
        rows = [
            EstimateRow(
                place_id=place_id,
                affiliation=affiliation,
                latest=estimate,
                estimated_present=present.get((place_id, affiliation)),
            )
            for (place_id, affiliation), estimate in sorted(latest.items())
        ]
        return EstimatesView(
            as_of=axes.as_of, position=position, head=head, estimates=found, latest=rows
        )

    return serve_view(
        request,
        conn,
        ledger,
        axes,
        ("estimates", country, axes.as_of),
        compute,
        csv_rows=lambda view: [
            e.model_dump(mode="json", exclude={"count", "sources"})
            | {f"count_{b}": e.count.get(b) for b in ("text", "min", "best", "max")}
            for e in view.estimates
        ],
        filename="estimates",
    )
