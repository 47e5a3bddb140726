"""The deployments timeline: flows per month (or year) in which the reported period starts.

Plans are beside the flows (`planned`); an undated plan is in the period `undated`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Connection

from service.domain.intervals import add, subtract
from service.views.deployments.fold import DeploymentQuery, fold_flows
from service.views.deployments.queries import Range
from service.views.deployments.updater import UNDATED

UNDATED_PERIOD = "undated"
_UNDATED_MONTH = f"{UNDATED.year:04d}-{UNDATED.month:02d}"

Interval = Literal["month", "year"]


class TimelineRow(BaseModel):
    period: str = Field(
        description="`2023-04` (month) or `2023` (year) of the period start; `undated` for "
        "plans reported without a date."
    )
    country: str | None = None
    place_id: str | None = None
    affiliation: str | None = None
    dispatched: Range
    repatriated: Range
    net_flow: Range
    planned: Range = Field(description="Planned and announced dispatches, never counted.")
    shared_total: int


class TimelineView(BaseModel):
    interval: str
    group_by: list[str]
    as_of: date | None
    position: int
    head: int
    rows: list[TimelineRow]


def timeline_view(
    conn: Connection, query: DeploymentQuery, interval: Interval, position: int, head: int
) -> TimelineView:
    """`query` folded per month at `position`; months of one year merged for `year`."""
    groups = fold_flows(conn, replace(query, position=position, month=True))
    buckets: dict[tuple[str, ...], TimelineRow] = {}
    for _, group in sorted(groups.items()):
        month = group.key["month"]
        label = (
            UNDATED_PERIOD
            if month == _UNDATED_MONTH
            else month[:4]
            if interval == "year"
            else month
        )
        bucket_key = (label, *(group.key[n] for n in query.group_by))
        row = TimelineRow(
            period=label,
            country=group.key.get("country"),
            place_id=group.key.get("place"),
            affiliation=group.key.get("affiliation"),
            dispatched=Range.of(group.dispatched.bounds),
            repatriated=Range.of(group.repatriated.bounds),
            net_flow=Range.of(group.net_flow),
            planned=Range.of(group.planned.bounds),
            shared_total=group.shared_total,
        )
        if bucket_key in buckets:
            row = _merged(buckets[bucket_key], row)
        buckets[bucket_key] = row
    return TimelineView(
        interval=interval,
        group_by=list(query.group_by),
        as_of=query.as_of,
        position=position,
        head=head,
        rows=[buckets[k] for k in sorted(buckets)],
    )


def _merged(a: TimelineRow, b: TimelineRow) -> TimelineRow:
    """Months of one year: a fact lies in one month only, so sums are exact."""
    dispatched = add(a.dispatched.bounds(), b.dispatched.bounds())
    repatriated = add(a.repatriated.bounds(), b.repatriated.bounds())
    return a.model_copy(
        update={
            "dispatched": Range.of(dispatched),
            "repatriated": Range.of(repatriated),
            "net_flow": Range.of(subtract(dispatched, repatriated)),
            "planned": Range.of(add(a.planned.bounds(), b.planned.bounds())),
            "shared_total": a.shared_total + b.shared_total,
        }
    )
