"""Reported stocks ("about 20,000 in Russia"), each latest one beside the estimate of
those present now: the stock plus the net flows reported after it, the very figure the
deployments view gives the place (`deployments.present`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Connection

from service.domain.dates import ReportedDate
from service.domain.envelope import RecordedEvent
from service.domain.events import EventType
from service.domain.intervals import Bounds
from service.domain.payloads import SourceRecorded, WorkforceEstimated
from service.domain.readers import read_payload_as
from service.gazetteer import Gazetteer
from service.views.deployments.incremental import IncrementalFolds
from service.views.deployments.present import StockPlace, estimated_present
from service.views.deployments.queries import Range
from service.views.deployments.updater import published_date
from service.views.facts.history import FactVersion, facts_at


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
    sector: str | None = Field(description="The sector, where the report gives one.")
    as_of: ReportedDate | None = Field(
        description="When the stock held, as reported (`2023-04-28`, `2023-04`, `2023-Q2`, "
        "`2023`); null if the report gives no date."
    )
    counts_from: date = Field(
        description="The day the stock counts from: the first day of `as_of`; for an "
        "unknown `as_of`, its source's publication date (the last day of it), else the day "
        "the stock was recorded."
    )
    count: dict[str, Any] = Field(description="As reported, with its bounds.")
    locator: str


class EstimateRow(BaseModel):
    place_id: str
    affiliation: str
    latest: StockEstimate
    estimated_present: Range | None = Field(
        description="The latest stock plus the net flows reported after it, clamped at 0: "
        "the figure `/v1/deployments` gives the same place and date (a country's stock with "
        "the flows into its cities, as under `group_by=country`)."
    )


class EstimatesView(BaseModel):
    as_of: date | None
    position: int
    head: int
    estimates: list[StockEstimate] = Field(description="Every stock reported, oldest first.")
    latest: list[EstimateRow] = Field(description="The latest per place and affiliation.")


@dataclass(frozen=True)
class _Stock:
    estimate: StockEstimate
    last: date
    """The last day of its interval: what orders stocks of one first day."""
    position: int

    @property
    def order(self) -> tuple[date, date, int]:
        """The order of `fold_estimates`: the stock whose interval begins last is the latest."""
        return (self.estimate.counts_from, self.last, self.position)


def estimates_view(
    conn: Connection,
    gazetteer: Gazetteer,
    folds: IncrementalFolds,
    query: EstimatesQuery,
    position: int,
    head: int,
) -> EstimatesView:
    """Every stock reported by `query.as_of`, and the latest of each place and affiliation
    with its `estimated_present` (`deployments.present`). (`gazetteer` names no place
    here: a stock keeps the name it was reported with.)"""
    on = query.as_of or datetime.now(UTC).date()
    country = query.country.upper() if query.country else None
    facts = facts_at(conn, [EventType.workforce_estimated.value], position)
    # as the deployments rows date an undated stock: by its source's date as known now
    published = {
        f.payload.source_id: published_date(f.payload)
        for f in facts_at(conn, [EventType.source_recorded.value], head)
        if isinstance(f.payload, SourceRecorded)
    }
    stocks = []
    for fact in facts:
        stock = read_payload_as(WorkforceEstimated, fact.data)
        first, last = _interval(stock, fact, published)
        if first > on or (country and stock.place.country != country):
            continue
        estimate = StockEstimate(
            event_id=fact.event.id,
            sources=fact.source_ids,
            place_id=str(stock.place.place_id),
            place_name=stock.place.name or None,
            country=str(stock.place.country),
            affiliation=stock.affiliation.value,
            sector=stock.sector,
            as_of=stock.as_of,
            counts_from=first,
            count=_as_stored(fact.data["count"]),
            locator=str(fact.event.provenance["locator"]),
        )
        stocks.append(_Stock(estimate, last, _version(fact).position))
    stocks.sort(key=lambda s: s.order)
    latest: dict[tuple[str, str], StockEstimate] = {}
    for found in stocks:
        latest[(found.estimate.place_id, found.estimate.affiliation)] = found.estimate
    places = {key: StockPlace(e.place_id, e.country, e.affiliation) for key, e in latest.items()}
    present = estimated_present(conn, folds, places.values(), position, query.as_of)
    rows = [
        EstimateRow(
            place_id=place_id,
            affiliation=affiliation,
            latest=estimate,
            estimated_present=_range(present[places[(place_id, affiliation)]].bounds),
        )
        for (place_id, affiliation), estimate in sorted(latest.items())
    ]
    return EstimatesView(
        as_of=query.as_of,
        position=position,
        head=head,
        estimates=[s.estimate for s in stocks],
        latest=rows,
    )


def _interval(
    stock: WorkforceEstimated, fact: FactVersion, published: dict[str, date | None]
) -> tuple[date, date]:
    """The days the stock covers (`fold.stock_interval`, read from the payload)."""
    if stock.as_of is not None:
        return stock.as_of.first, stock.as_of.last
    day = published.get(str(fact.event.provenance["source_id"]))
    if day is None:  # the day this version of the stock was recorded
        day = _version(fact).recorded_at.astimezone(UTC).date()
    return day, day


def _version(fact: FactVersion) -> RecordedEvent:
    """The event of the fact's current version: its last correction, else itself."""
    return fact.corrections[-1] if fact.corrections else fact.event


def _range(bounds: Bounds | None) -> Range | None:
    return None if bounds is None else Range.of(bounds)


def _as_stored(words_and_bounds: object) -> dict[str, Any]:
    """The count as stored, keys in the stored order (PostgreSQL's JSONB order differs
    from the model's): the response shows it as recorded."""
    assert isinstance(words_and_bounds, dict)
    return words_and_bounds
