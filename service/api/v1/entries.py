"""`/v1/entries`: official counts of arrivals into a country (entry statistics)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Connection

from service.api.countries import CountryDep
from service.api.deps import LedgerDep
from service.api.problems import problem_responses
from service.api.serving.pipeline import Forms, serve_view
from service.api.serving.representations import alternative_media_types
from service.api.serving.time_axes import TimeAxesDep
from service.domain.moments import Day
from service.views.entries.queries import EntriesQuery, EntriesView, entries_view
from service.views.entries.tables import TOTAL
from service.views.entries.timeline import EntriesTimelineView, Interval, entries_timeline

router = APIRouter(prefix="/v1/entries", tags=["entries"])


class FigurePurpose(StrEnum):
    """A figure of an entry statistic: its `total`, or the arrivals of one purpose."""

    total = TOTAL
    work = "work"
    study = "study"
    tourism = "tourism"
    other = "other"
    unknown = "unknown"


def _csv(view: EntriesView) -> list[dict[str, Any]]:
    """One line per figure: a statistic giving a total and one purpose is two lines."""
    return [
        {
            "event_id": str(entry.event_id),
            "publisher": entry.publisher,
            "origin_country": entry.origin_country,
            "destination_country": entry.destination_country,
            "place_ids": " ".join(entry.place_ids),
            "period_start": entry.period.start,
            "period_end": entry.period.end,
            "precision": entry.period.precision,
            "period_text": entry.period.text,
        }
        | figure.model_dump(mode="json")
        | {"sources": "; ".join(entry.sources), "locator": entry.locator}
        for entry in view.entries
        for figure in [*([entry.total] if entry.total else []), *entry.by_purpose]
    ]


def _timeline_csv(view: EntriesTimelineView) -> list[dict[str, Any]]:
    return [
        row.model_dump(mode="json", exclude={"arrivals", "event_ids"})
        | {f"arrivals_{b}": getattr(row.arrivals, b) for b in ("min", "best", "max")}
        | {"event_ids": " ".join(row.event_ids)}
        for row in view.rows
    ]


FORMS = Forms[EntriesView](csv_rows=_csv, filename="entries")
TIMELINE = Forms[EntriesTimelineView](csv_rows=_timeline_csv, filename="entries-timeline")


@router.get(
    "",
    summary="Official counts of arrivals (entry statistics)",
    response_model=EntriesView,
    responses={**problem_responses(422), **alternative_media_types()},
)
async def list_entries(
    request: Request,
    ledger: LedgerDep,
    axes: TimeAxesDep,
    country: CountryDep = None,
    purpose: Annotated[
        FigurePurpose | None,
        Query(description="Statistics giving a figure of this purpose (`total`: a total)."),
    ] = None,
    period_from: Annotated[
        Day | None, Query(description="Statistics whose period starts on or after.")
    ] = None,
    period_to: Annotated[
        Day | None, Query(description="Statistics whose period starts on or before.")
    ] = None,
) -> Response:
    """Official statistics of North Koreans entering a country over a period, as their
    publisher gave them: "Russian border statistics: 13,221 North Koreans entered in 2023,
    5,000 of them to study" is one statistic with a `total` and one figure `by_purpose`
    (`study`). A report giving only part ("of them 5,000 to study") has no total.

    **Arrivals are not workers**: students, tourists and delegations cross too, so these
    counts are never added to the flows, the stocks or `estimated_present` of
    `/v1/deployments` and `/v1/estimates`. Each figure keeps the words reported and honest
    bounds (`null` max: open). Filter by the `country` entered (`RU` or `Russia`), a
    `purpose`, and the period; `as_of`, `known_at` and `at_position` work as on every
    view. CSV
    (`Accept: text/csv`) has one line per figure."""
    query = EntriesQuery(
        country=country,
        purpose=purpose.value if purpose else None,
        period_from=period_from,
        period_to=period_to,
        as_of=axes.as_of,
    )

    def compute(conn: Connection, position: int, head: int) -> EntriesView:
        return entries_view(conn, query, position, head)

    return await serve_view(request, ledger, axes, ("entries", query), compute, FORMS)


@router.get(
    "/timeline",
    summary="Arrivals per month or year, by purpose",
    response_model=EntriesTimelineView,
    responses={**problem_responses(422), **alternative_media_types()},
)
async def get_entries_timeline(
    request: Request,
    ledger: LedgerDep,
    axes: TimeAxesDep,
    interval: Annotated[
        str, Query(pattern="^(month|year)$", description="`month` (the default) or `year`.")
    ] = "month",
    country: CountryDep = None,
    purpose: Annotated[
        FigurePurpose | None,
        Query(description="Only this figure: `total`, or a purpose of entry."),
    ] = None,
) -> Response:
    """Arrivals per month (or year) of the period each statistic covers, per country
    entered and purpose (`total` for the totals), as `{min, best, max}`.

    A statistic is never split: one covering all of 2023 is, in a monthly timeline, a row
    of its own, `2023-01/2023-12`. Statistics that may count the same arrivals (two
    publishers' figures for one year) are not simply added: where periods in a row
    overlap, the row says `overlapping: true` and gives [largest minimum, sum of maxima]
    with no best. Arrivals are not workers: never in the flows or stocks."""
    query = EntriesQuery(
        country=country,
        purpose=purpose.value if purpose else None,
        as_of=axes.as_of,
    )
    wanted: Interval = "year" if interval == "year" else "month"

    def compute(conn: Connection, position: int, head: int) -> EntriesTimelineView:
        return entries_timeline(conn, query, wanted, position, head)

    return await serve_view(
        request, ledger, axes, ("entries-timeline", wanted, query), compute, TIMELINE
    )
