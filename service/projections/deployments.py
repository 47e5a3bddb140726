"""Deployments: reported flows per country, place and affiliation, with honest bounds.

The fold rules of DESIGN §2 in SQL, so that any past state — by period date
(`as_of`) or by what the ledger knew (`at_position`) — is one query:

1. per fact and group: the fact's count once (a fact at two places of one
   country is one contribution to that country);
2. per fact: in how many groups it falls; more than one means shared;
3. per group: unshared facts add their bounds; shared ones add only their max.

A place filter is a scope: a fact with places inside and outside it is shared
with the outside, so "what went to Moscow" never claims the Saint Petersburg half.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
)

from service.domain.intervals import Bounds, add, clamp_at_zero, subtract
from service.store.tables import CORROBORATIONS, FLOWS

GROUP_COLUMNS = ("country", "place", "affiliation")
_COLUMN = {
    "country": FLOWS.c.country,
    "place": FLOWS.c.place_id,
    "affiliation": FLOWS.c.affiliation,
}
FLOW_KINDS = ("dispatched", "repatriated")
SHARED_LISTED = 20
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DeploymentQuery:
    group_by: tuple[str, ...] = ("place", "affiliation")
    position: int = 0
    as_of: date | None = None
    period_from: date | None = None
    period_to: date | None = None
    countries: frozenset[str] | None = None
    place_ids: frozenset[str] | None = None
    affiliation: str | None = None
    month: bool = False  # the timeline: also group by the month a period starts


GroupKey = tuple[str, ...]


@dataclass
class SharedCount:
    fact_id: UUID
    bounds: Bounds
    partners: list[str]


@dataclass
class FlowTotals:
    bounds: Bounds = field(default_factory=lambda: Bounds(0, 0, 0))
    facts: int = 0


@dataclass
class DeploymentGroup:
    key: dict[str, str]
    dispatched: FlowTotals = field(default_factory=FlowTotals)
    repatriated: FlowTotals = field(default_factory=FlowTotals)
    estimated_present: Bounds | None = None
    estimate_as_of: date | None = None
    shared: list[SharedCount] = field(default_factory=list)
    shared_total: int = 0
    events: int = 0
    sources: int = 0
    first_reported: date | None = None
    last_reported: date | None = None

    @property
    def net_flow(self) -> Bounds:
        return subtract(self.dispatched.bounds, self.repatriated.bounds)


def visible(position: int) -> ColumnElement[bool]:
    """Rows the ledger knew at `position`: made by then, not yet superseded."""
    return and_(
        FLOWS.c.position <= position,
        or_(FLOWS.c.superseded_at.is_(None), FLOWS.c.superseded_at > position),
    )


def _in_scope(query: DeploymentQuery) -> ColumnElement[Any]:
    conditions = []
    if query.countries is not None:
        conditions.append(FLOWS.c.country.in_(query.countries))
    if query.place_ids is not None:
        conditions.append(FLOWS.c.place_id.in_(query.place_ids))
    if not conditions:
        return literal(1)
    return case((and_(*conditions), 1), else_=0)


def _month(conn: Connection) -> ColumnElement[str]:
    if conn.dialect.name == "postgresql":
        return func.to_char(FLOWS.c.period_start, "YYYY-MM")
    return func.strftime("%Y-%m", FLOWS.c.period_start)


def _time_filters(query: DeploymentQuery) -> list[ColumnElement[bool]]:
    conditions = [visible(query.position)]
    if query.as_of is not None:
        conditions.append(FLOWS.c.period_start <= query.as_of)
    if query.period_from is not None:
        conditions.append(FLOWS.c.period_start >= query.period_from)
    if query.period_to is not None:
        conditions.append(FLOWS.c.period_start <= query.period_to)
    return conditions


def fold_flows(conn: Connection, query: DeploymentQuery) -> dict[GroupKey, DeploymentGroup]:
    dims = [_COLUMN[name].label(name) for name in query.group_by]
    if query.month:
        dims.append(_month(conn).label("month"))
    names = [d.name for d in dims]
    scope = _in_scope(query).label("in_scope")

    per_fact = (
        select(
            FLOWS.c.fact_id,
            FLOWS.c.kind,
            *dims,
            scope,
            func.min(FLOWS.c.affiliation).label("fact_affiliation"),
            func.min(FLOWS.c.count_min).label("cmin"),
            func.min(FLOWS.c.count_best).label("cbest"),
            func.min(FLOWS.c.count_max).label("cmax"),
            func.max(case((FLOWS.c.count_max.is_(None), 1), else_=0)).label("open_max"),
            func.min(FLOWS.c.source_id).label("source_id"),
            func.min(FLOWS.c.reported_on).label("reported_on"),
        )
        .where(FLOWS.c.kind.in_(FLOW_KINDS), *_time_filters(query))
        .group_by(FLOWS.c.fact_id, FLOWS.c.kind, *dims, scope)
        .cte("per_fact")
    )
    with_groups = select(
        per_fact,
        func.count().over(partition_by=[per_fact.c.fact_id, per_fact.c.kind]).label("groups"),
    ).cte("with_groups")
    g = with_groups.c
    in_scope = and_(
        g.in_scope == 1,
        g.fact_affiliation == query.affiliation if query.affiliation else true(),
    )
    keys = [g[name] for name in names]
    single = g.groups == 1
    totals = (
        select(
            g.kind,
            *keys,
            func.sum(case((single, g.cmin), else_=0)).label("min_sum"),
            func.sum(case((single, g.cbest), else_=None)).label("best_sum"),
            func.sum(case((or_(~single, g.cbest.is_(None)), 1), else_=0)).label("best_missing"),
            func.sum(g.cmax).label("max_sum"),
            func.sum(g.open_max).label("max_open"),
            func.count().label("facts"),
            func.sum(case((single, 0), else_=1)).label("shared_facts"),
            func.min(g.reported_on).label("first_reported"),
            func.max(g.reported_on).label("last_reported"),
        )
        .where(in_scope)
        .group_by(g.kind, *keys)
    )
    groups: dict[GroupKey, DeploymentGroup] = {}
    for row in conn.execute(totals):
        key = tuple(str(row._mapping[n]) for n in names)
        group = groups.setdefault(key, DeploymentGroup(key=dict(zip(names, key, strict=True))))
        bounds = Bounds(
            int(row.min_sum),
            None if row.best_missing else int(row.best_sum or 0),
            None if row.max_open else int(row.max_sum or 0),
        )
        flow = FlowTotals(bounds=bounds, facts=int(row.facts))
        if row.kind == "dispatched":
            group.dispatched = flow
        else:
            group.repatriated = flow
        group.shared_total += int(row.shared_facts)
        group.first_reported = _earliest(group.first_reported, row.first_reported)
        group.last_reported = _latest(group.last_reported, row.last_reported)

    _count_sources(conn, with_groups, in_scope, keys, names, query.position, groups)
    _list_shared(conn, with_groups, in_scope, keys, names, groups)
    return groups


def _count_sources(
    conn: Connection,
    with_groups: Any,
    in_scope: ColumnElement[bool],
    keys: list[Any],
    names: list[str],
    position: int,
    groups: dict[GroupKey, DeploymentGroup],
) -> None:
    """Distinct sources and events per group: the facts' and their corroborations'."""
    g = with_groups.c
    own = select(*keys, g.source_id.label("source_id"), g.fact_id.label("event")).where(in_scope)
    corroborating = (
        select(*keys, CORROBORATIONS.c.source_id, CORROBORATIONS.c.event_id.label("event"))
        .join_from(with_groups, CORROBORATIONS, CORROBORATIONS.c.fact_id == g.fact_id)
        .where(in_scope, CORROBORATIONS.c.position <= position)
    )
    both = own.union_all(corroborating).subquery("behind")
    b = both.c
    query = select(
        *[b[n] for n in names],
        func.count(func.distinct(b.source_id)).label("sources"),
        func.count(func.distinct(b.event)).label("events"),
    ).group_by(*[b[n] for n in names])
    for row in conn.execute(query):
        key = tuple(str(row._mapping[n]) for n in names)
        if key in groups:
            groups[key].sources = int(row.sources)
            groups[key].events = int(row.events)


def _list_shared(
    conn: Connection,
    with_groups: Any,
    in_scope: ColumnElement[bool],
    keys: list[Any],
    names: list[str],
    groups: dict[GroupKey, DeploymentGroup],
) -> None:
    """Name the joint counts of each group, with their partners (the first few)."""
    g = with_groups.c
    shared_rows = select(g.fact_id, *keys, g.cmin, g.cbest, g.cmax, g.in_scope).where(g.groups > 1)
    members: dict[UUID, list[tuple[GroupKey, Bounds, bool]]] = defaultdict(list)
    for row in conn.execute(shared_rows.order_by(g.fact_id).limit(50_000)):
        key = tuple(str(row._mapping[n]) for n in names)
        members[row.fact_id].append(
            (key, Bounds(row.cmin, row.cbest, row.cmax), bool(row.in_scope))
        )
    for fact_id, places in members.items():
        for key, bounds, scoped in places:
            group = groups.get(key)
            if group is None or not scoped or len(group.shared) >= SHARED_LISTED:
                continue
            partners = ["/".join(k) for k, _, _ in places if k != key]
            group.shared.append(SharedCount(fact_id, bounds, partners))


def _earliest(a: date | None, b: date | None) -> date | None:
    return min((d for d in (a, b) if d is not None), default=None)


def _latest(a: date | None, b: date | None) -> date | None:
    return max((d for d in (a, b) if d is not None), default=None)


def fold_estimates(
    conn: Connection, query: DeploymentQuery, groups: dict[GroupKey, DeploymentGroup], as_of: date
) -> None:
    """The latest reported stock at or before `as_of`, plus the net flows reported after it.

    A stock counts for a group only at its own level: a stock for Russia is a
    country-level figure, never added to a city's row.
    """
    dims = [_COLUMN[name].label(name) for name in query.group_by]
    names = [d.name for d in dims]
    if not any(n in ("place", "country") for n in names):
        return
    level = FLOWS.c.place_id == func.lower(FLOWS.c.country) if "place" not in names else true()
    rows = conn.execute(
        select(
            *dims, FLOWS.c.period_start, FLOWS.c.count_min, FLOWS.c.count_best, FLOWS.c.count_max
        )
        .where(
            FLOWS.c.kind == "estimate",
            visible(query.position),
            FLOWS.c.period_start <= as_of,
            level,
            *([FLOWS.c.affiliation == query.affiliation] if query.affiliation else []),
        )
        .order_by(FLOWS.c.period_start, FLOWS.c.position)
    )
    latest: dict[GroupKey, tuple[date, Bounds]] = {}
    for row in rows:
        key = tuple(str(row._mapping[n]) for n in names)
        if (
            query.countries is not None
            and "country" in names
            and row._mapping["country"] not in query.countries
        ):
            continue
        if (
            query.place_ids is not None
            and "place" in names
            and row._mapping["place"] not in query.place_ids
        ):
            continue
        latest[key] = (row.period_start, Bounds(row.count_min, row.count_best, row.count_max))
    for key, (stock_date, stock) in latest.items():
        after = DeploymentQuery(
            group_by=query.group_by,
            position=query.position,
            as_of=as_of,
            period_from=stock_date + _ONE_DAY,
            countries=query.countries,
            place_ids=query.place_ids,
            affiliation=query.affiliation,
        )
        flows = fold_flows(conn, after).get(key)
        present = stock if flows is None else add(stock, flows.net_flow)
        group = groups.setdefault(key, DeploymentGroup(key=dict(zip(names, key, strict=True))))
        group.estimated_present = clamp_at_zero(present)
        group.estimate_as_of = stock_date


def facts_behind(
    conn: Connection, query: DeploymentQuery, key: dict[str, str], limit: int
) -> list[int]:
    """Positions of the events behind one group: its facts' current versions."""
    conditions = [
        FLOWS.c.kind.in_((*FLOW_KINDS, "estimate")),
        *_time_filters(query),
        *[_COLUMN[name] == value for name, value in key.items()],
    ]
    rows = conn.execute(
        select(FLOWS.c.fact_id, FLOWS.c.position).where(*conditions).distinct().limit(limit)
    )
    return sorted({int(row.position) for row in rows})


def changed_positions(
    conn: Connection, group_by: tuple[str, ...], start: int, end: int
) -> dict[GroupKey, set[int]]:
    """Per group, the positions in (start, end] that added or ended one of its rows."""
    dims = [_COLUMN[name].label(name) for name in group_by]
    made = and_(FLOWS.c.position > start, FLOWS.c.position <= end)
    ended = and_(FLOWS.c.superseded_at > start, FLOWS.c.superseded_at <= end)
    result: dict[GroupKey, set[int]] = defaultdict(set)
    rows = conn.execute(
        select(*dims, FLOWS.c.position, FLOWS.c.superseded_at).where(or_(made, ended))
    )
    for row in rows:
        key = tuple(str(row._mapping[n]) for n in group_by)
        if start < row.position <= end:
            result[key].add(int(row.position))
        if row.superseded_at is not None and start < row.superseded_at <= end:
            result[key].add(int(row.superseded_at))
    corroborated = conn.execute(
        select(*dims, CORROBORATIONS.c.position)
        .join_from(CORROBORATIONS, FLOWS, FLOWS.c.fact_id == CORROBORATIONS.c.fact_id)
        .where(
            CORROBORATIONS.c.position > start,
            CORROBORATIONS.c.position <= end,
            visible(end),
        )
    )
    for row in corroborated:
        result[tuple(str(row._mapping[n]) for n in group_by)].add(int(row.position))
    return result
