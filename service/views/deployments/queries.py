"""The deployments view as a reader gets it: one row per group, with honest bounds.

`deployments_view` folds (through `IncrementalFolds`, which carries a folded view
forward by the groups an append changed) and names each group's place from the
gazetteer. `deployments_json` is the same view as JSON, put together from each
row's JSON kept (`RowFragments`): byte for byte `deployments_view(…).model_dump_json()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from uuid import UUID

from pydantic import BaseModel, Field, FieldSerializationInfo, PrivateAttr, field_serializer
from sqlalchemy import Connection, select

from service.domain.dates import ReportedDate
from service.domain.envelope import RecordedEvent
from service.domain.intervals import Bounds
from service.domain.payloads import Claim, Speaker
from service.gazetteer import Gazetteer
from service.log.read import read_events_at
from service.views.deployments.fold import DeploymentGroup, DeploymentQuery, facts_behind
from service.views.deployments.incremental import IncrementalFolds
from service.views.deployments.row_json import RowFragments, with_rows
from service.views.deployments.tables import CORROBORATIONS


class Range(BaseModel):
    """Honest bounds: `null` is an open bound; `best` is null unless every part had one."""

    min: int | None
    best: int | None
    max: int | None
    best_complete: bool

    @classmethod
    def of(cls, bounds: Bounds) -> Range:
        # bounds are whole numbers or None already: nothing to validate (a view of every
        # city makes thousands of these)
        return cls.model_construct(
            min=bounds.min, best=bounds.best, max=bounds.max, best_complete=bounds.best_complete
        )

    def bounds(self) -> Bounds:
        return Bounds(self.min, self.best, self.max)


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


FLOWS = ("dispatched", "repatriated", "planned")
MOVES = frozenset({"dispatched", "repatriated"})
"""The flows `net_flow` is made of."""


class DeploymentRow(BaseModel):
    country: str | None = None
    place: PlaceSummary | None = None
    affiliation: str | None = None
    dispatched: Range = Field(
        description="Workers reported sent here. `null` when no report of a dispatch is "
        "behind this row (a row of repatriations, stocks or plans only): nothing was "
        "reported, which is not a report that none went."
    )
    repatriated: Range = Field(
        description="Workers reported sent home from here; `null` when none was reported."
    )
    net_flow: Range = Field(
        description="dispatched − repatriated, as an interval; may be negative. `null` "
        "when neither was reported."
    )
    planned: Range = Field(
        description='Dispatches reported as planned or announced ("will send"), by the '
        "same rules as `dispatched`: shown apart, never counted in the flows, `net_flow` or "
        "`estimated_present`; `null` when no plan was reported."
    )
    estimated_present: Range | None = Field(
        description="The latest reported stock at or before the date, plus the net flows "
        "reported after it, clamped at 0; null where no stock was ever reported. A stock "
        "of a month, quarter or year counts from its first day, and the flows added are "
        "those starting after its last day; one of unknown date counts from its source's "
        "publication date. The same figure as `/v1/estimates` gives for the place."
    )
    estimate_as_of: ReportedDate | None = Field(
        default=None,
        description="The date of the stock `estimated_present` starts from, as precise as "
        "reported (`2023-04-28`, `2023-04`, `2023-Q2`, `2023`); for a stock of unknown "
        "date, the day it counts from.",
    )
    shared: list[SharedCountOut]
    shared_total: int = Field(description="How many shared counts this row takes part in.")
    events: int = Field(description="Fact and corroboration events behind this row.")
    sources: int = Field(description="Distinct sources behind this row.")
    first_reported: date | None
    last_reported: date | None
    events_url: str = Field(
        description="The events behind this row, pinned to the view's position: an "
        "absolute address (on `LEDGER_PUBLIC_URL` when set, else the address asked)."
    )

    _reported: frozenset[str] = PrivateAttr(default_factory=lambda: frozenset(FLOWS))
    """The flows some fact of this row reports. A flow nobody reported is kept as [0, 0, 0]
    for the sums, and written `null`: an empty row must not read as a report of zero."""

    @field_serializer(*FLOWS, "net_flow")
    def _unreported_as_null(self, flow: Range, info: FieldSerializationInfo) -> Range | None:
        reported = self._reported & ({info.field_name} if info.field_name in FLOWS else MOVES)
        return flow if reported else None


class StatedClaim(Claim):
    """A figure an official stated about places of this view, with who said it and when:
    the official's word beside the reported flows, never counted in them."""

    statement_event_id: UUID = Field(description="The `statement.issued` event it is from.")
    speaker: Speaker
    issued_on: ReportedDate | None = Field(description="The statement's date; null if unknown.")
    sources: list[str]


class DeploymentsView(BaseModel):
    group_by: list[str]
    as_of: date | None
    position: int = Field(description="The log position this view reflects.")
    head: int = Field(description="The log's head position now.")
    claims: list[StatedClaim] = Field(
        description="Figures officials stated about the places of this view (within its "
        "`country` or `place` filter, of its `affiliation`; all of them when none is given), "
        "newest statement first: shown beside the rows, never summed into any flow, "
        "`planned`, `net_flow` or `estimated_present`.",
    )
    rows: list[DeploymentRow]


def place_summary(gazetteer: Gazetteer, place_id: str) -> PlaceSummary | None:
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


def _row(group: DeploymentGroup, gazetteer: Gazetteer, events_url: str) -> DeploymentRow:
    place_id = group.key.get("place")
    row = DeploymentRow(
        country=group.key.get("country"),
        place=place_summary(gazetteer, place_id) if place_id else None,
        affiliation=group.key.get("affiliation"),
        dispatched=Range.of(group.dispatched.bounds),
        repatriated=Range.of(group.repatriated.bounds),
        net_flow=Range.of(group.net_flow),
        planned=Range.of(group.planned.bounds),
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
    row._reported = frozenset(flow for flow in FLOWS if getattr(group, flow).facts)
    return row


def _events_url(group: DeploymentGroup, position: int, base_url: str) -> str:
    params = "&".join(f"{k}={v}" for k, v in group.key.items())
    return f"{base_url}/v1/deployments/events?{params}&at_position={position}"


def _view(
    query: DeploymentQuery,
    head: int,
    rows: list[DeploymentRow],
    claims: Sequence[StatedClaim],
) -> DeploymentsView:
    return DeploymentsView(
        group_by=list(query.group_by),
        as_of=query.as_of,
        position=query.position,
        head=head,
        claims=list(claims),
        rows=rows,
    )


def folded_groups(
    conn: Connection, query: DeploymentQuery, folds: IncrementalFolds
) -> list[DeploymentGroup]:
    """The groups `query` asks for, in key order (estimates on `as_of`, else today)."""
    groups = folds.fold(conn, query, query.as_of or datetime.now(UTC).date())
    return [groups[key] for key in sorted(groups)]


def deployments_view(
    conn: Connection,
    gazetteer: Gazetteer,
    query: DeploymentQuery,
    head: int,
    folds: IncrementalFolds,
    claims: Sequence[StatedClaim] = (),
    *,
    base_url: str = "",
    fragments: RowFragments | None = None,
) -> DeploymentsView:
    """The view; `claims` are listed beside its rows as given (`views/statements/claims.py`
    chooses them: this read model does not read statements). With `fragments`, each
    unchanged group's row is the one made for it before (a view of every city after an
    append makes the few rows that changed)."""

    def make_row(group: DeploymentGroup, events_url: str) -> DeploymentRow:
        return _row(group, gazetteer, events_url)

    rows = [
        fragments.row(group, url, make_row) if fragments is not None else make_row(group, url)
        for group in folded_groups(conn, query, folds)
        for url in [_events_url(group, query.position, base_url)]
    ]
    return _view(query, head, rows, claims)


def deployments_json(
    conn: Connection,
    gazetteer: Gazetteer,
    query: DeploymentQuery,
    head: int,
    folds: IncrementalFolds,
    fragments: RowFragments,
    claims: Sequence[StatedClaim] = (),
    *,
    base_url: str = "",
) -> bytes:
    """`deployments_view(…).model_dump_json()`, from the rows' JSON kept (`RowFragments`)."""

    def make_row(group: DeploymentGroup, events_url: str) -> DeploymentRow:
        return _row(group, gazetteer, events_url)

    rows = [
        fragments.row_json(group, _events_url(group, query.position, base_url), make_row)
        for group in folded_groups(conn, query, folds)
    ]
    return with_rows(_view(query, head, [], claims), rows)


def events_behind(
    conn: Connection, query: DeploymentQuery, key: dict[str, str], limit: int, after: int = 0
) -> list[RecordedEvent]:
    """The fact events (in their current versions) behind the row `key` names, in
    position order: the first `limit` after position `after`."""
    positions = facts_behind(conn, query, key, limit, after)
    return [
        event
        for chunk in (positions[i : i + 500] for i in range(0, len(positions), 500))
        for event in read_events_at(conn, chunk)
    ]


def corroborating_sources(
    conn: Connection, fact_ids: Sequence[UUID], position: int
) -> dict[UUID, list[str]]:
    """Per fact, the other sources that corroborated it by `position`, each once, in the
    order they did: the sources a view counts beside its facts' own."""
    found: dict[UUID, list[str]] = {}
    for start in range(0, len(fact_ids), 500):
        rows = conn.execute(
            select(CORROBORATIONS.c.fact_id, CORROBORATIONS.c.source_id)
            .where(
                CORROBORATIONS.c.fact_id.in_(fact_ids[start : start + 500]),
                CORROBORATIONS.c.position <= position,  # as the fold counts them
            )
            .order_by(CORROBORATIONS.c.position)
        )
        for fact_id, source_id in rows:
            others = found.setdefault(fact_id, [])
            if source_id not in others:
                others.append(source_id)
    return found
