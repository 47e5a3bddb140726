"""`/v1/deployments`: how many workers were reported sent where, and how sure that is."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from service.api.countries import CountryDep
from service.api.deps import ConnectionDep, LedgerDep
from service.api.problems import problem_responses
from service.api.serving.links import NEXT_PAGE, link_next, page_link, public_base
from service.api.serving.negotiation import format_parameter
from service.api.serving.pipeline import Forms, serve_view
from service.api.serving.representations import alternative_media_types
from service.api.serving.time_axes import MAX_POSITION, TimeAxesDep
from service.domain.envelope import RecordedEvent
from service.domain.errors import AmbiguousPlace, UnknownPlace
from service.domain.moments import Day
from service.domain.payloads import Affiliation
from service.gazetteer import Gazetteer
from service.views.deployments.fold import GROUP_COLUMNS, DeploymentQuery
from service.views.deployments.queries import (
    DeploymentsView,
    Range,
    deployments_json,
    deployments_view,
    events_behind,
)
from service.views.deployments.timeline import Interval, TimelineRow, TimelineView, timeline_view
from service.views.statements.claims import claims_beside

router = APIRouter(prefix="/v1/deployments", tags=["deployments"])


def parse_group_by(group_by: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in group_by.split(",") if n.strip()))
    unknown = [n for n in names if n not in GROUP_COLUMNS]
    if unknown or not names:
        raise HTTPException(
            422, f"group_by: use any of {', '.join(GROUP_COLUMNS)}, comma-separated"
        )
    return tuple(n for n in GROUP_COLUMNS if n in names)


def place_scope(gazetteer: Gazetteer, name: str) -> frozenset[str]:
    """A place and everything inside it: a region includes its cities."""
    found = gazetteer.get(name)
    matches = [found] if found is not None else gazetteer.resolve(name)
    if not matches:
        suggestions = [m.place.id for m in gazetteer.closest(name)]
        raise UnknownPlace(name, suggestions, pointer=("place",))
    if len(matches) > 1:
        raise AmbiguousPlace(name, [m.id for m in matches], pointer=("place",))
    return frozenset({matches[0].id, *gazetteer.descendants(matches[0].id)})


def _csv(view: DeploymentsView) -> list[dict[str, Any]]:
    out = []
    for row in view.rows:
        flat: dict[str, Any] = {
            "country": row.country,
            "place_id": row.place.place_id if row.place else None,
            "place": row.place.name if row.place else None,
            "affiliation": row.affiliation,
        }
        for name in ("dispatched", "repatriated", "net_flow", "planned", "estimated_present"):
            value: Range | None = getattr(row, name)
            for bound in ("min", "best", "max"):
                flat[f"{name}_{bound}"] = getattr(value, bound) if value else None
        flat |= {
            "shared_total": row.shared_total,
            "events": row.events,
            "sources": row.sources,
            "first_reported": row.first_reported,
            "last_reported": row.last_reported,
        }
        out.append(flat)
    return out


GEOJSON_NEEDS_PLACES = "a map needs places: put `place` in `group_by`"


def _geojson(view: DeploymentsView) -> dict[str, Any]:
    features = []
    for row in view.rows:
        if row.place is None:
            continue
        properties = row.model_dump(mode="json", exclude={"place"})
        properties |= {
            "place_id": row.place.place_id,
            "name": row.place.name,
            "kind": row.place.kind,
        }
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [row.place.lon, row.place.lat]},
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}


@router.get(
    "",
    summary="Workers reported sent, per city and affiliation",
    response_model=DeploymentsView,
    responses={**problem_responses(422), **alternative_media_types(csv=True, geojson=True)},
    dependencies=[format_parameter("csv", "geojson")],
)
async def deployments(
    request: Request,
    ledger: LedgerDep,
    axes: TimeAxesDep,
    group_by: Annotated[
        str,
        Query(
            max_length=100,
            description="Any of `country`, `place`, `affiliation`, comma-separated.",
        ),
    ] = "place,affiliation",
    country: CountryDep = None,
    place: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Any name the gazetteer knows; a region includes its cities.",
        ),
    ] = None,
    affiliation: Affiliation | None = None,
    period_from: Annotated[
        Day | None, Query(description="Facts whose period starts on or after.")
    ] = None,
    period_to: Annotated[
        Day | None, Query(description="Facts whose period starts on or before.")
    ] = None,
) -> Response:
    """For each group (by default each city and affiliation): the workers reported
    **dispatched** and **repatriated**, their **net flow**, and the **estimated present**
    stock where a stock was reported — each as `{min, best, max}`. Dispatches reported
    only as **planned** or announced ("will send 1,000 more") are shown apart, under
    `planned`: they are never counted as workers sent.

    How to read a row: `min`/`max` are what the reports allow at the least and at the most
    (`null` max: no upper bound was reported); `best` is the reports' own figure, or null
    when any part was vague. A count given for several cities at once ("about 350 to
    Moscow and Saint Petersburg") adds only to each city's `max` and is listed under
    `shared`: no city gets an invented split. Grouped by country, it adds once, exactly.

    Figures officials stated about these places ("about 5,000 work in the region", "a
    few thousand more are expected") are listed under `claims`, with the speaker, the
    date and the statement's event id: beside the rows, never counted in them.

    Ask how it looked on a past date with `as_of=2023-04-15`, and what the ledger knew
    then with `known_at=…` or `at_position=…`. Send `Accept: text/csv` for a table,
    `Accept: application/geo+json` (with `place` in `group_by`) for a map.
    """
    names = parse_group_by(group_by)
    base = public_base(request)
    query = DeploymentQuery(
        group_by=names,
        as_of=axes.as_of,
        period_from=period_from,
        period_to=period_to,
        countries=frozenset({country}) if country else None,
        place_ids=place_scope(ledger.gazetteer, place) if place else None,
        affiliation=affiliation.value if affiliation else None,
    )

    # The officials' claims about these places are listed beside the rows, never in them.
    def compute(conn: Connection, position: int, head: int) -> DeploymentsView:
        at = replace(query, position=position)
        claims = claims_beside(conn, at)
        return deployments_view(
            conn, ledger.gazetteer, at, head, ledger.folds, claims, base_url=base
        )

    def json(conn: Connection, position: int, head: int) -> bytes:
        at = replace(query, position=position)
        claims = claims_beside(conn, at)
        return deployments_json(
            conn,
            ledger.gazetteer,
            at,
            head,
            ledger.folds,
            ledger.row_fragments,
            claims,
            base_url=base,
        )

    forms = Forms(
        csv_rows=_csv,
        geojson=_geojson if "place" in names else None,
        unavailable={} if "place" in names else {"geojson": GEOJSON_NEEDS_PLACES},
        filename="deployments",
        json=json,
        gzip=True,
    )
    # Row links are absolute: answers asked at another address are kept apart.
    key = ("deployments", query, base)
    return await serve_view(request, ledger, axes, key, compute, forms)


class RowEvents(BaseModel):
    position: int
    events: list[RecordedEvent]
    next: str | None = Field(description=NEXT_PAGE)


@router.get(
    "/events",
    summary="The events behind one row",
    responses=problem_responses(422),
)
def deployment_events(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    axes: TimeAxesDep,
    country: CountryDep = None,
    place: Annotated[str | None, Query(max_length=100, description="A place_id.")] = None,
    affiliation: Affiliation | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    after: Annotated[
        int, Query(ge=0, le=MAX_POSITION, description="Return events after this position.")
    ] = 0,
) -> RowEvents:
    """The fact events (in their current versions) that a row of `/v1/deployments`
    counts, in position order — follow a row's `events_url` to read what was said, by
    whom, and when; follow `next` for more than `limit`."""
    position, _ = axes.position(conn)
    key = {
        name: value
        for name, value in (
            ("country", country),
            ("place", place),
            ("affiliation", affiliation.value if affiliation else None),
        )
        if value is not None
    }
    query = DeploymentQuery(position=position, as_of=axes.as_of)
    events = events_behind(conn, query, key, limit, after)
    full = len(events) == limit
    next_url = page_link(request, after=events[-1].position) if full else None
    link_next(response, next_url)
    return RowEvents(position=position, events=events, next=next_url)


@router.get(
    "/timeline",
    summary="Workers reported sent and sent home, per month",
    response_model=TimelineView,
    responses={**problem_responses(422), **alternative_media_types()},
    dependencies=[format_parameter("csv")],
)
async def timeline(
    request: Request,
    ledger: LedgerDep,
    axes: TimeAxesDep,
    interval: Annotated[str, Query(pattern="^(month|year)$")] = "month",
    group_by: Annotated[str, Query(max_length=100)] = "country",
    country: CountryDep = None,
    place: Annotated[str | None, Query(max_length=200)] = None,
    affiliation: Affiliation | None = None,
) -> Response:
    """Dispatched and repatriated per month (or year) in which the reported period
    starts, per group, with the same honest bounds as `/v1/deployments`; `planned`
    dispatches beside them (never counted), those without a date in period `undated`."""
    query = DeploymentQuery(
        group_by=parse_group_by(group_by),
        as_of=axes.as_of,
        countries=frozenset({country}) if country else None,
        place_ids=place_scope(ledger.gazetteer, place) if place else None,
        affiliation=affiliation.value if affiliation else None,
    )
    wanted: Interval = "year" if interval == "year" else "month"

    def compute(conn: Connection, position: int, head: int) -> TimelineView:
        return timeline_view(conn, query, wanted, position, head)

    return await serve_view(request, ledger, axes, ("timeline", wanted, query), compute, TIMELINE)


def _timeline_csv(view: TimelineView) -> list[dict[str, Any]]:
    return [_flat_timeline(row) for row in view.rows]


def _flat_timeline(row: TimelineRow) -> dict[str, Any]:
    flat: dict[str, Any] = {
        "period": row.period,
        "country": row.country,
        "place_id": row.place_id,
        "affiliation": row.affiliation,
    }
    for name in ("dispatched", "repatriated", "net_flow", "planned"):
        value: Range = getattr(row, name)
        for bound in ("min", "best", "max"):
            flat[f"{name}_{bound}"] = getattr(value, bound)
    return flat


TIMELINE = Forms(csv_rows=_timeline_csv, filename="timeline")
