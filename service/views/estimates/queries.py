"""Reported stocks ("about 20,000 in Russia"), each latest one beside the estimate of
those present now: the stock plus the net flows reported after it (the deployments fold)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Connection

from service.domain.events import EventType
from service.domain.payloads import WorkforceEstimated
from service.domain.readers import read_payload_as
from service.gazetteer import Gazetteer
from service.views.deployments.fold import DeploymentQuery
from service.views.deployments.incremental import IncrementalFolds
from service.views.deployments.queries import Range, folded_groups
from service.views.facts.history import facts_at


@dataclass(frozen=True)
class EstimatesQuery:
    country: str | None = None
    """Two letters, either case."""
    as_of: date | None = None


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


def estimates_view(
    conn: Connection,
    gazetteer: Gazetteer,
    folds: IncrementalFolds,
    query: EstimatesQuery,
    position: int,
    head: int,
) -> EstimatesView:
    on = query.as_of or datetime.now(UTC).date()
    country = query.country.upper() if query.country else None
    found = []
    for fact in facts_at(conn, [EventType.workforce_estimated.value], position):
        stock = read_payload_as(WorkforceEstimated, fact.data)
        if stock.as_of > on or (country and stock.place.country != country):
            continue
        found.append(
            StockEstimate(
                event_id=fact.event.id,
                sources=fact.source_ids,
                place_id=str(stock.place.place_id),
                place_name=stock.place.name or None,
                country=str(stock.place.country),
                affiliation=stock.affiliation.value,
                as_of=stock.as_of,
                count=_as_stored(fact.data["count"]),
                locator=str(fact.event.provenance["locator"]),
            )
        )
    found.sort(key=lambda e: (e.as_of, str(e.event_id)))
    latest: dict[tuple[str, str], StockEstimate] = {}
    for estimate in found:
        latest[(estimate.place_id, estimate.affiliation)] = estimate
    present = _estimated_present(conn, gazetteer, folds, position, on)
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
        as_of=query.as_of, position=position, head=head, estimates=found, latest=rows
    )


def _estimated_present(
    conn: Connection, gazetteer: Gazetteer, folds: IncrementalFolds, position: int, on: date
) -> dict[tuple[str, str], Range | None]:
    """Per place (one the gazetteer knows) and affiliation, as `/v1/deployments` has it."""
    query = DeploymentQuery(group_by=("place", "affiliation"), position=position, as_of=on)
    return {
        (place.id, group.key.get("affiliation") or ""): (
            Range.of(group.estimated_present) if group.estimated_present else None
        )
        for group in folded_groups(conn, query, folds)
        if (place_id := group.key.get("place")) and (place := gazetteer.get(place_id)) is not None
    }


def _as_stored(words_and_bounds: object) -> dict[str, Any]:
    """The count as stored, keys in the stored order (PostgreSQL's JSONB order differs
    from the model's): the response shows it as recorded."""
    assert isinstance(words_and_bounds, dict)
    return words_and_bounds
