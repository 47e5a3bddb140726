"""`/v1/deployments`: how many workers were reported sent where, and how sure that is."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from service.api.deps import ConnectionDep, LedgerDep
from service.api.problems import problem_responses
from service.api.serving.pipeline import serve_view
from service.api.serving.repeated_reads import file_for_repeats
from service.api.serving.representations import (
    Rendered,
    alternative_media_types,
    conditional,
    offered_media_types,
    render,
    view_etag,
    wanted_media_type,
)
from service.api.serving.time_axes import TimeAxes, TimeAxesDep
from service.domain.envelope import RecordedEvent
from service.domain.errors import AmbiguousPlace, UnknownPlace
from service.domain.intervals import Bounds, add, subtract
from service.domain.moments import Day
from service.domain.payloads import Affiliation
from service.gazetteer import Gazetteer
from service.ledger import Ledger
from service.log.read import read_events_at
from service.views.deployments.fold import (
    GROUP_COLUMNS,
    DeploymentGroup,
    DeploymentQuery,
    facts_behind,
    fold_flows,
)
from service.views.deployments.incremental import IncrementalFolds
from service.views.deployments.row_json import RowFragments, with_rows

router = APIRouter(prefix="/v1/deployments", tags=["deployments"])


class Range(BaseModel):
    """Honest bounds: `null` is an open bound; `best` is null unless every part had one."""

    min: int | None
    best: int | None
    max: int | None
    best_complete: bool

    @classmethod
    def of(cls, bounds: Bounds) -> Range:
        return cls(
            min=bounds.min, best=bounds.best, max=bounds.max, best_complete=bounds.best_complete
        )


class PlaceSummary(BaseModel):
    place_id: str
    name: str
    kind: str
    country: str
    lat: float
    lon: float
    controlled_by: str | None = None


class SharedCountOut(BaseModel):
    """A count the report gave for several places at once; no place gets a split."""

    event_id: UUID
    count: Range
    partners: list[str] = Field(
        description="The other groups sharing it, e.g. `ru-moscow/civilian`."
    )


class DeploymentRow(BaseModel):
    country: str | None = None
    place: PlaceSummary | None = None
    affiliation: str | None = None
    dispatched: Range
    repatriated: Range
    net_flow: Range = Field(
        description="dispatched − repatriated, as an interval; may be negative."
    )
    estimated_present: Range | None = Field(
        description="The latest reported stock at or before the date, plus the net flows "
        "reported after it, clamped at 0; null where no stock was ever reported."
    )
    estimate_as_of: date | None = None
    shared: list[SharedCountOut]
    shared_total: int = Field(description="How many shared counts this row takes part in.")
    events: int = Field(description="Fact and corroboration events behind this row.")
    sources: int = Field(description="Distinct sources behind this row.")
    first_reported: date | None
    last_reported: date | None
    events_url: str = Field(description="The events behind this row.")


class DeploymentsView(BaseModel):
    group_by: list[str]
    as_of: date | None
    position: int = Field(description="The log position this view reflects.")
    head: int = Field(description="The log's head position now.")
    rows: list[DeploymentRow]


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


def _place_summary(gazetteer: Gazetteer, place_id: str) -> PlaceSummary | None:
    place = gazetteer.get(place_id)
    if place is None:
        return None
    return PlaceSummary(
        place_id=place.id,
        name=place.name,
        kind=place.kind,
        country=place.country,
        lat=place.lat,
        lon=place.lon,
        controlled_by=place.controlled_by,
    )


def _row(
    group: DeploymentGroup, gazetteer: Gazetteer, query: DeploymentQuery, events_url: str
) -> DeploymentRow:
    place_id = group.key.get("place")
    return DeploymentRow(
        country=group.key.get("country"),
        place=_place_summary(gazetteer, place_id) if place_id else None,
        affiliation=group.key.get("affiliation"),
        dispatched=Range.of(group.dispatched.bounds),
        repatriated=Range.of(group.repatriated.bounds),
        net_flow=Range.of(group.net_flow),
        estimated_present=Range.of(group.estimated_present) if group.estimated_present else None,
        estimate_as_of=group.estimate_as_of,
        shared=[
            SharedCountOut(event_id=s.fact_id, count=Range.of(s.bounds), partners=s.partners)
            for s in group.shared
        ],
        shared_total=group.shared_total,
        events=group.events,
        sources=group.sources,
        first_reported=group.first_reported,
        last_reported=group.last_reported,
        events_url=events_url,
    )


def _events_url(group: DeploymentGroup, position: int) -> str:
    params = "&".join(f"{k}={v}" for k, v in group.key.items())
    return f"/v1/deployments/events?{params}&at_position={position}"


def _view(query: DeploymentQuery, head: int, rows: list[DeploymentRow]) -> DeploymentsView:
    return DeploymentsView(
        group_by=list(query.group_by),
        as_of=query.as_of,
        position=query.position,
        head=head,
        rows=rows,
    )


def _fold(conn: Any, query: DeploymentQuery, folds: IncrementalFolds) -> list[DeploymentGroup]:
    groups = folds.fold(conn, query, query.as_of or datetime.now(UTC).date())
    return [groups[key] for key in sorted(groups)]


def compute_view(
    conn: Any, gazetteer: Gazetteer, query: DeploymentQuery, head: int, folds: IncrementalFolds
) -> DeploymentsView:
    rows = [
        _row(group, gazetteer, query, _events_url(group, query.position))
        for group in _fold(conn, query, folds)
    ]
    return _view(query, head, rows)


def view_json(
    conn: Any,
    gazetteer: Gazetteer,
    query: DeploymentQuery,
    head: int,
    folds: IncrementalFolds,
    fragments: RowFragments,
) -> bytes:
    """`compute_view(…).model_dump_json()`, from the rows' JSON kept (`RowFragments`)."""

    def make_row(group: DeploymentGroup, events_url: str) -> DeploymentRow:
        return _row(group, gazetteer, query, events_url)

    rows = [
        fragments.row_json(group, _events_url(group, query.position), make_row)
        for group in _fold(conn, query, folds)
    ]
    return with_rows(_view(query, head, []), rows)


def _csv(view: DeploymentsView) -> list[dict[str, Any]]:
    out = []
    for row in view.rows:
        flat: dict[str, Any] = {
            "country": row.country,
            "place_id": row.place.place_id if row.place else None,
            "place": row.place.name if row.place else None,
            "affiliation": row.affiliation,
        }
        for name in ("dispatched", "repatriated", "net_flow", "estimated_present"):
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
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$", examples=["RU"])] = None,
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
    stock where a stock was reported — each as `{min, best, max}`.

    How to read a row: `min`/`max` are what the reports allow at the least and at the most
    (`null` max: no upper bound was reported); `best` is the reports' own figure, or null
    when any part was vague. A count given for several cities at once ("about 350 to
    Moscow and Saint Petersburg") adds only to each city's `max` and is listed under
    `shared`: no city gets an invented split. Grouped by country, it adds once, exactly.

    Ask how it looked on a past date with `as_of=2023-04-15`, and what the ledger knew
    then with `known_at=…` or `at_position=…`. Send `Accept: text/csv` for a table,
    `Accept: application/geo+json` (with `place` in `group_by`) for a map.
    """
    # A repeated read is the hot path: one shared head read, then bytes from the
    # cache, all on the event loop. Only a view not yet computed at this head goes
    # to a thread and the database.
    names = parse_group_by(group_by)
    head = await ledger.head.current()  # with the views' generation: a rebuild is a change
    etag = view_etag(request, head)
    if (cached := conditional(request, etag)) is not None:
        return cached
    query = DeploymentQuery(
        group_by=names,
        position=head.position,  # until the time axes say otherwise (`_render_deployments`)
        as_of=axes.as_of,
        period_from=period_from,
        period_to=period_to,
        countries=frozenset({country.upper()}) if country else None,
        place_ids=place_scope(ledger.gazetteer, place) if place else None,
        affiliation=affiliation.value if affiliation else None,
    )
    media_type = wanted_media_type(request, offered_media_types(csv=True, geojson="place" in names))
    today = datetime.now(UTC).date()  # the default date of estimates
    key = ("deployments", head, today, axes.known_at, axes.at_position, query, media_type)
    rendered: Rendered | None = ledger.views.get(key)
    if rendered is None:
        rendered = await run_in_threadpool(
            ledger.views.get_or_compute,
            key,
            lambda: _render_deployments(ledger, axes, query, today, media_type),
        )
    file_for_repeats(ledger, request, head, rendered)
    return rendered.response(etag, request)


def _render_deployments(
    ledger: Ledger, axes: TimeAxes, query: DeploymentQuery, today: date, media_type: str
) -> Rendered:
    head = query.position
    with ledger.engine.connect() as conn:
        query = replace(query, position=axes.position_at(conn, head))
        if media_type == "application/json":
            content = view_json(
                conn, ledger.gazetteer, query, head, ledger.folds, ledger.row_fragments
            )
            return Rendered(content, media_type).compressed()
        # Not cached as a model: the folded groups are (ledger.folds), and the rendered
        # bytes are; a view's tens of thousands of objects, kept, would make the garbage
        # collector walk them all again and again (seen: 100-170 ms pauses).
        view = compute_view(conn, ledger.gazetteer, query, head, ledger.folds)
    return render(
        media_type,
        view,
        csv_rows=lambda: _csv(view),
        geojson=(lambda: _geojson(view)) if "place" in query.group_by else None,
        filename="deployments",
    ).compressed()


class RowEvents(BaseModel):
    position: int
    events: list[RecordedEvent]


@router.get(
    "/events",
    summary="The events behind one row",
    responses=problem_responses(422),
)
def deployment_events(
    conn: ConnectionDep,
    axes: TimeAxesDep,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    place: Annotated[str | None, Query(max_length=100, description="A place_id.")] = None,
    affiliation: Affiliation | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> RowEvents:
    """The fact events (in their current versions) that a row of `/v1/deployments`
    counts — follow a row's `events_url` to read what was said, by whom, and when."""
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
    positions = facts_behind(conn, query, key, limit)
    events = [
        e
        for chunk in (positions[i : i + 500] for i in range(0, len(positions), 500))
        for e in read_events_at(conn, chunk)
    ]
    return RowEvents(position=position, events=events)


class TimelineRow(BaseModel):
    period: str = Field(description="`2023-04` (month) or `2023` (year) of the period start.")
    country: str | None = None
    place_id: str | None = None
    affiliation: str | None = None
    dispatched: Range
    repatriated: Range
    net_flow: Range
    shared_total: int


class TimelineView(BaseModel):
    interval: str
    group_by: list[str]
    as_of: date | None
    position: int
    head: int
    rows: list[TimelineRow]


@router.get(
    "/timeline",
    summary="Workers reported sent and sent home, per month",
    response_model=TimelineView,
    responses={**problem_responses(422), **alternative_media_types()},
)
def timeline(
    request: Request,
    conn: ConnectionDep,
    ledger: LedgerDep,
    axes: TimeAxesDep,
    interval: Annotated[str, Query(pattern="^(month|year)$")] = "month",
    group_by: Annotated[str, Query(max_length=100)] = "country",
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    place: Annotated[str | None, Query(max_length=200)] = None,
    affiliation: Affiliation | None = None,
) -> Response:
    """Dispatched and repatriated per month (or year) in which the reported period
    starts, per group, with the same honest bounds as `/v1/deployments`."""
    names = parse_group_by(group_by)
    query = DeploymentQuery(
        group_by=names,
        as_of=axes.as_of,
        countries=frozenset({country.upper()}) if country else None,
        place_ids=place_scope(ledger.gazetteer, place) if place else None,
        affiliation=affiliation.value if affiliation else None,
        month=True,
    )

    def compute(position: int, head: int) -> TimelineView:
        groups = fold_flows(conn, replace(query, position=position))
        buckets: dict[tuple[str, ...], TimelineRow] = {}
        for _, group in sorted(groups.items()):
            month = group.key["month"]
            label = month[:4] if interval == "year" else month
            bucket_key = (label, *(group.key[n] for n in names))
            row = TimelineRow(
                period=label,
                country=group.key.get("country"),
                place_id=group.key.get("place"),
                affiliation=group.key.get("affiliation"),
                dispatched=Range.of(group.dispatched.bounds),
                repatriated=Range.of(group.repatriated.bounds),
                net_flow=Range.of(group.net_flow),
                shared_total=group.shared_total,
            )
            if bucket_key in buckets:
                row = _merge_timeline(buckets[bucket_key], row)
            buckets[bucket_key] = row
        rows = [buckets[k] for k in sorted(buckets)]
        return TimelineView(
            interval=interval,
            group_by=list(names),
            as_of=axes.as_of,
            position=position,
            head=head,
            rows=rows,
        )

    return serve_view(
        request,
        conn,
        ledger,
        axes,
        ("timeline", interval, query),
        compute,
        csv_rows=lambda view: [_flat_timeline(r) for r in view.rows],
        filename="timeline",
    )


def _bounds(r: Range) -> Bounds:
    return Bounds(r.min, r.best, r.max)


def _merge_timeline(a: TimelineRow, b: TimelineRow) -> TimelineRow:
    """Months of one year: a fact lies in one month only, so sums are exact."""
    dispatched = add(_bounds(a.dispatched), _bounds(b.dispatched))
    repatriated = add(_bounds(a.repatriated), _bounds(b.repatriated))
    return a.model_copy(
        update={
            "dispatched": Range.of(dispatched),
            "repatriated": Range.of(repatriated),
            "net_flow": Range.of(subtract(dispatched, repatriated)),
            "shared_total": a.shared_total + b.shared_total,
        }
    )


def _flat_timeline(row: TimelineRow) -> dict[str, Any]:
    flat: dict[str, Any] = {
        "period": row.period,
        "country": row.country,
        "place_id": row.place_id,
        "affiliation": row.affiliation,
    }
    for name in ("dispatched", "repatriated", "net_flow"):
        value: Range = getattr(row, name)
        for bound in ("min", "best", "max"):
            flat[f"{name}_{bound}"] = getattr(value, bound)
    return flat
