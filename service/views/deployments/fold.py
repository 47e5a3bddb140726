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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Date,
    String,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    values,
)

from service.db.backend import backend
from service.domain.dates import ReportedDate
from service.domain.events import EventType
from service.domain.intervals import Bounds, add, clamp_at_zero, subtract
from service.log.tables import EVENTS
from service.views.deployments.tables import CORROBORATIONS, FLOWS
from service.views.deployments.updater import UNDATED
from service.views.facts.tables import FACTS

GROUP_COLUMNS = ("country", "place", "affiliation")
_COLUMN = {
    "country": FLOWS.c.country,
    "place": FLOWS.c.place_id,
    "affiliation": FLOWS.c.affiliation,
}
FLOW_KINDS = ("dispatched", "repatriated")
PLANNED = "planned"
"""The rows of planned and announced dispatches: folded by the same rules, summed apart."""
FOLDED_KINDS = (*FLOW_KINDS, PLANNED)
# Written out, not bound: only then may a planner use the partial index on stocks.
IS_STOCK = FLOWS.c.kind == literal_column("'estimate'")
SHARED_LISTED = 20
IN_VIEWS = FLOWS.c.kind.in_((*FOLDED_KINDS, "estimate"))
"""The rows some view reads (a planned repatriation's are read by the duplicate search only)."""


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
    only_groups: frozenset[tuple[str, ...]] | None = None
    """Fold just these groups (keys in `group_by` order): how a view is carried forward
    by the groups an append changed (`incremental.py`). Never with a country or place
    filter: those make a fact's share depend on rows outside its group."""
    made_after: int | None = None
    """Fold just the rows made after this position: what an append added to groups whose
    earlier rows all still stand (`added_to`). Never with a country or place filter."""


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


@dataclass(eq=False)  # one fold's result: compared, and hashed, by identity
class DeploymentGroup:
    key: dict[str, str]
    dispatched: FlowTotals = field(default_factory=FlowTotals)
    repatriated: FlowTotals = field(default_factory=FlowTotals)
    planned: FlowTotals = field(default_factory=FlowTotals)
    """Planned and announced dispatches: never in the flows, `net_flow` or the stock."""
    estimate_as_of: ReportedDate | None = None
    """The latest stock's date: the interval it covers (`stock_interval`)."""
    stock_plus_flows: Bounds | None = None
    """The latest stock plus the net flows after it, before it is clamped at 0: what later
    flows add to (`added_to`)."""
    shared: list[SharedCount] = field(default_factory=list)
    shared_total: int = 0
    events: int = 0
    source_ids: frozenset[str] = frozenset()
    first_reported: date | None = None
    last_reported: date | None = None

    @property
    def sources(self) -> int:
        return len(self.source_ids)

    @property
    def estimated_present(self) -> Bounds | None:
        """A stock cannot be negative."""
        return None if self.stock_plus_flows is None else clamp_at_zero(self.stock_plus_flows)

    @property
    def net_flow(self) -> Bounds:
        return subtract(self.dispatched.bounds, self.repatriated.bounds)

    def set_totals(self, kind: str, totals: FlowTotals) -> None:
        """The sums of one kind of row (`FOLDED_KINDS`)."""
        if kind == "dispatched":
            self.dispatched = totals
        elif kind == "repatriated":
            self.repatriated = totals
        elif kind == PLANNED:
            self.planned = totals
        else:
            raise ValueError(f"no flow totals of kind {kind!r}")


def visible(position: int, made: ColumnElement[int] = FLOWS.c.position) -> ColumnElement[bool]:
    """Rows the ledger knew at `position`: made by then, not yet superseded. (`made` is
    the row's position, or an expression of it no index answers: `facts_behind`.)"""
    return and_(
        made <= position,
        or_(FLOWS.c.superseded_at.is_(None), FLOWS.c.superseded_at > position),
    )


def _only_groups(query: DeploymentQuery) -> list[ColumnElement[bool]]:
    """Rows of `query.only_groups` (and of a few others like them: each column is
    matched on its own; the caller keeps the groups it asked for)."""
    if query.only_groups is None:
        return []
    return [
        _COLUMN[name].in_(sorted({key[index] for key in query.only_groups}))
        for index, name in enumerate(query.group_by)
    ]


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
    return backend(conn).year_month(FLOWS.c.period_start)


def _time_filters(query: DeploymentQuery) -> list[ColumnElement[bool]]:
    conditions = [visible(query.position)]
    if query.as_of is not None:
        conditions.append(FLOWS.c.period_start <= query.as_of)
    if query.period_from is not None:
        conditions.append(FLOWS.c.period_start >= query.period_from)
    if query.period_to is not None:
        conditions.append(FLOWS.c.period_start <= query.period_to)
    return conditions


def _fact_groups(conn: Connection, query: DeploymentQuery) -> tuple[Any, list[str], Any]:
    """(each fact's contribution to each group, with its number of groups; the group
    names; the condition for a contribution to count in this query)."""
    dims = [_COLUMN[name].label(name) for name in query.group_by]
    if query.month:
        dims.append(_month(conn).label("month"))
    names = [d.name for d in dims]
    if query.countries is None and query.place_ids is None:
        return _flat_fact_groups(query, dims, names)
    assert query.only_groups is None and query.made_after is None, (
        "a scoped fold is never restricted to some groups or rows"
    )
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
            func.min(FLOWS.c.period_start).label("period_start"),
        )
        .where(FLOWS.c.kind.in_(FOLDED_KINDS), *_time_filters(query))
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
    return with_groups, names, in_scope


def _flat_fact_groups(
    query: DeploymentQuery, dims: list[Any], names: list[str]
) -> tuple[Any, list[str], Any]:
    """`_fact_groups` without a scope, in one pass and no window: each row knows how
    many places and countries its fact names and whether it is the first row of its
    place, country and fact (`contribution_rows`), so a fact's contribution to a group
    is one row and its number of groups a column."""
    first: ColumnElement[Any]
    groups: ColumnElement[Any]
    if "place" in names:
        first, groups = FLOWS.c.first_of_place, FLOWS.c.distinct_places
    elif "country" in names:
        first, groups = FLOWS.c.first_of_country, FLOWS.c.distinct_countries
    else:  # affiliation and month are the fact's own: one group each
        first, groups = FLOWS.c.first_of_fact, literal(1)
    with_groups = (
        select(
            FLOWS.c.fact_id,
            FLOWS.c.kind,
            *dims,
            literal(1).label("in_scope"),
            FLOWS.c.affiliation.label("fact_affiliation"),
            FLOWS.c.count_min.label("cmin"),
            FLOWS.c.count_best.label("cbest"),
            FLOWS.c.count_max.label("cmax"),
            case((FLOWS.c.count_max.is_(None), 1), else_=0).label("open_max"),
            FLOWS.c.source_id,
            FLOWS.c.reported_on,
            FLOWS.c.period_start,
            groups.label("groups"),
        )
        .where(
            FLOWS.c.kind.in_(FOLDED_KINDS),
            *_time_filters(query),
            *_only_groups(query),
            *([FLOWS.c.position > query.made_after] if query.made_after is not None else []),
            first,
        )
        # a subquery, not a CTE: read again where used rather than stored once in full
        .subquery("with_groups")
    )
    g = with_groups.c
    in_scope = g.fact_affiliation == query.affiliation if query.affiliation else true()
    return with_groups, names, in_scope


def _sums(g: Any) -> list[Any]:
    """Per group: unshared facts add their bounds, shared ones only their max."""
    single = g.groups == 1
    return [
        func.sum(case((single, g.cmin), else_=0)).label("min_sum"),
        func.sum(case((single, g.cbest), else_=None)).label("best_sum"),
        func.sum(case((or_(~single, g.cbest.is_(None)), 1), else_=0)).label("best_missing"),
        func.sum(g.cmax).label("max_sum"),
        func.sum(g.open_max).label("max_open"),
        func.count().label("facts"),
        func.sum(case((single, 0), else_=1)).label("shared_facts"),
        func.min(g.reported_on).label("first_reported"),
        func.max(g.reported_on).label("last_reported"),
    ]


def _flow_totals(row: Any) -> FlowTotals:
    bounds = Bounds(
        int(row.min_sum),
        None if row.best_missing else int(row.best_sum or 0),
        None if row.max_open else int(row.max_sum or 0),
    )
    return FlowTotals(bounds=bounds, facts=int(row.facts))


@dataclass
class _Sums:
    """`_sums` added up over rows of it (one per source)."""

    min_sum: int = 0
    best_sum: int = 0
    best_missing: int = 0
    max_sum: int = 0
    max_open: int = 0
    facts: int = 0

    def add(self, row: Any) -> None:
        self.min_sum += int(row.min_sum)
        self.best_sum += int(row.best_sum or 0)
        self.best_missing += int(row.best_missing)
        self.max_sum += int(row.max_sum or 0)
        self.max_open += int(row.max_open)
        self.facts += int(row.facts)


def fold_flows(conn: Connection, query: DeploymentQuery) -> dict[GroupKey, DeploymentGroup]:
    backend(conn).prepare_large_fold(conn)
    with_groups, names, in_scope = _fact_groups(conn, query)
    g = with_groups.c
    keys = [g[name] for name in names]
    # SQLite sorts the rows for every GROUP BY: one sort, with the source in its key,
    # then sums per group here. PostgreSQL hashes: two small aggregations are faster.
    by_source = backend(conn).sorts_for_group_by
    grouped = [g.kind, *keys, *([g.source_id] if by_source else [])]
    totals = select(*grouped, *_sums(g)).where(in_scope).group_by(*grouped)
    groups: dict[GroupKey, DeploymentGroup] = {}
    flows: dict[tuple[str, GroupKey], _Sums] = defaultdict(_Sums)
    sources: dict[GroupKey, set[str]] = defaultdict(set)
    for row in conn.execute(totals):
        key = tuple(str(row._mapping[n]) for n in names)
        group = groups.setdefault(key, DeploymentGroup(key=dict(zip(names, key, strict=True))))
        flows[row.kind, key].add(row)
        if by_source:
            sources[key].add(row.source_id)
        group.events += int(row.facts)  # each fact once per group; corroborations come next
        group.shared_total += int(row.shared_facts)
        group.first_reported = _earliest(group.first_reported, row.first_reported)
        group.last_reported = _latest(group.last_reported, row.last_reported)
    for (kind, key), sums in flows.items():
        groups[key].set_totals(kind, _flow_totals(sums))

    if not by_source:
        sources = _sources(conn, with_groups, in_scope, keys, names)
    _count_corroborations(
        conn,
        with_groups,
        in_scope,
        keys,
        names,
        query.position,
        sources,
        groups,
        few_rows=query.only_groups is not None,
        new_rows=query.made_after is not None,
    )
    for key, behind in sources.items():
        if key in groups:
            groups[key].source_ids = frozenset(behind)
    # A shared count's partners are named from all its rows, in the asked groups or not.
    every_group = (
        (with_groups, names, in_scope)
        if query.only_groups is None
        else _fact_groups(conn, replace(query, only_groups=None))
    )
    _list_shared(conn, with_groups, in_scope, keys, names, groups, every_group)
    if query.only_groups is not None:
        return {key: group for key, group in groups.items() if key in query.only_groups}
    return groups


def _source_list(conn: Connection, source_id: Any) -> Any:
    """Source ids, comma-separated (no source id has a comma)."""
    return backend(conn).comma_joined(source_id)


def _sources(
    conn: Connection, with_groups: Any, in_scope: Any, keys: list[Any], names: list[str]
) -> dict[GroupKey, set[str]]:
    """The sources of each group's facts. (Grouped by source, then listed per group:
    a hash aggregation, where a DISTINCT would sort every row.)"""
    g = with_groups.c
    per_source = select(*keys, g.source_id).where(in_scope).group_by(*keys, g.source_id).subquery()
    p = per_source.c
    listed = select(*[p[n] for n in names], _source_list(conn, p.source_id).label("sources"))
    sources: dict[GroupKey, set[str]] = defaultdict(set)
    for row in conn.execute(listed.group_by(*[p[n] for n in names])):
        sources[tuple(str(row._mapping[n]) for n in names)] = set(row.sources.split(","))
    return sources


def _count_corroborations(
    conn: Connection,
    with_groups: Any,
    in_scope: ColumnElement[bool],
    keys: list[Any],
    names: list[str],
    position: int,
    sources: dict[GroupKey, set[str]],
    groups: dict[GroupKey, DeploymentGroup],
    *,
    few_rows: bool = False,
    new_rows: bool = False,
) -> None:
    """Add the corroborations of each group's facts: their events, and their sources."""
    g = with_groups.c
    # Over every row, the few corroborated facts are looked up by id rather than every
    # fact scanned; for a few groups' rows, those rows are fewer than all corroborated
    # facts. New rows (`made_after`) name their facts first: a planner, not knowing how
    # few they are, would read every corroboration to join them.
    batches: list[ColumnElement[bool]]
    if new_rows:
        facts = sorted(set(conn.execute(select(g.fact_id).where(in_scope)).scalars()))
        batches = [
            and_(g.fact_id.in_(chunk), CORROBORATIONS.c.fact_id.in_(chunk))
            for chunk in (facts[start : start + 500] for start in range(0, len(facts), 500))
        ]
    elif few_rows:
        batches = [true()]
    else:
        batches = [
            g.fact_id.in_(
                select(CORROBORATIONS.c.fact_id).where(CORROBORATIONS.c.position <= position)
            )
        ]
    for corroborated in batches:  # each corroboration is of one fact: batches add up
        corroborating = (
            select(
                *keys,
                CORROBORATIONS.c.source_id,
                func.count(func.distinct(CORROBORATIONS.c.event_id)).label("events"),
            )
            .join_from(with_groups, CORROBORATIONS, CORROBORATIONS.c.fact_id == g.fact_id)
            .where(
                in_scope,
                CORROBORATIONS.c.position <= position,
                corroborated,
            )
            .group_by(*keys, CORROBORATIONS.c.source_id)
        )
        for row in conn.execute(corroborating):
            key = tuple(str(row._mapping[n]) for n in names)
            if key in groups:
                groups[key].events += int(row.events)
                sources[key].add(row.source_id)


def _list_shared(
    conn: Connection,
    with_groups: Any,
    in_scope: ColumnElement[bool],
    keys: list[Any],
    names: list[str],
    groups: dict[GroupKey, DeploymentGroup],
    every_group: tuple[Any, list[str], Any],
) -> None:
    """Name the joint counts of each group, with their partners (the first few, by id)."""
    g = with_groups.c
    # Only the counts some group lists are read, with all their places: a ledger of
    # a million facts has a few thousand of them, not the hundreds of thousands shared.
    ranked = (
        select(
            g.fact_id,
            func.row_number().over(partition_by=keys, order_by=g.fact_id).label("rank"),
        )
        .where(g.groups > 1, in_scope)
        .subquery("ranked")
    )
    listed_ids = select(ranked.c.fact_id).where(ranked.c.rank <= SHARED_LISTED)
    # Partners outside the filters are named too, but only a count the row itself
    # takes part in (its place *and* its affiliation) is listed on it.
    with_groups, _, in_scope = every_group
    g = with_groups.c
    keys = [g[name] for name in names]
    listed = case((in_scope, 1), else_=0).label("in_scope")
    shared_rows = select(g.fact_id, *keys, g.cmin, g.cbest, g.cmax, listed).where(g.groups > 1)
    if isinstance(with_groups, CTE):  # a window over every fact already: read it once
        batches = [shared_rows.where(g.fact_id.in_(listed_ids))]
    else:  # plain rows: fetch the listed facts' rows by id (an index), not by a second scan
        ids = sorted(set(conn.execute(listed_ids).scalars()))
        batches = [
            shared_rows.where(g.fact_id.in_(ids[start : start + 500]))
            for start in range(0, len(ids), 500)
        ]
    members: dict[UUID, list[tuple[GroupKey, Bounds, bool]]] = defaultdict(list)
    # (ordered by place too: partners are listed the same however the rows lie on disk)
    ordered = [batch.order_by(g.fact_id, *keys) for batch in batches]
    for row in (r for batch in ordered for r in conn.execute(batch)):
        key = tuple(str(row._mapping[n]) for n in names)
        members[row.fact_id].append(
            (key, Bounds(row.cmin, row.cbest, row.cmax), bool(row.in_scope))
        )
    for fact_id, places in members.items():
        for key, bounds, scoped in places:
            group = groups.get(key)
            if group is None or not scoped or len(group.shared) >= SHARED_LISTED:
                continue
            partners = list(dict.fromkeys("/".join(k) for k, _, _ in places if k != key))
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
    country-level figure, never added to a city's row; in a view by place, the row of
    Russia itself carries it forward by the flows into all of Russia, as the view by
    country does (`present.py`: one `estimated_present`). Its date is an interval
    (`stock_interval`): it counts from the interval's first day, and the flows added to
    it are those whose period starts after the interval's last day; the latest stock is
    the one whose interval begins last (then ends last; then the last recorded).
    """
    dims = [_COLUMN[name].label(name) for name in query.group_by]
    names = [d.name for d in dims]
    if not any(n in ("place", "country") for n in names):
        return
    first, last = stock_interval(conn)
    stocks = _stock_conditions(query, as_of, names, first)
    rows = conn.execute(
        select(
            *dims,
            first.label("first"),
            last.label("last"),
            FLOWS.c.country.label("stock_country"),
            FLOWS.c.count_min,
            FLOWS.c.count_best,
            FLOWS.c.count_max,
        )
        .where(*stocks)
        .order_by(first, last, FLOWS.c.position)
    )
    latest: dict[GroupKey, tuple[ReportedDate, Bounds]] = {}
    countries_own: set[GroupKey] = set()  # (by place) groups of a country's own place
    for row in rows:
        key = tuple(str(row._mapping[n]) for n in names)
        if query.only_groups is not None and key not in query.only_groups:
            continue
        stock = Bounds(row.count_min, row.count_best, row.count_max)
        latest[key] = (ReportedDate.spanning(row.first, row.last), stock)
        if "place" in names and row._mapping["place"] == row.stock_country.lower():
            countries_own.add(key)
    if not latest:
        return
    after = _flows_after_stocks(conn, query, as_of, dims, stocks, (first, last))
    if countries_own:
        after |= _country_flows_after_stocks(conn, query, as_of, countries_own, (first, last))
    for key, (stock_date, stock) in latest.items():
        flows = after.get(key)
        present = stock if flows is None else add(stock, flows.net_flow)
        group = groups.setdefault(key, DeploymentGroup(key=dict(zip(names, key, strict=True))))
        group.stock_plus_flows = present
        group.estimate_as_of = stock_date


def _country_flows_after_stocks(
    conn: Connection,
    query: DeploymentQuery,
    as_of: date,
    keys: set[GroupKey],
    interval: tuple[ColumnElement[date], ColumnElement[date]],
) -> dict[GroupKey, DeploymentGroup]:
    """For the groups of a view by place whose place is a country itself (`keys`: its own
    stock, "20,000 in Russia"), the flows after the stock into the whole country: the
    fold by country, keyed back by place."""
    by_country, country_key = country_grouping(query.group_by)
    wanted = {country_key(key): key for key in keys}
    scoped = query.countries is not None or query.place_ids is not None
    countrywide = replace(
        query,
        group_by=by_country,
        only_groups=None if scoped else frozenset(wanted),
        made_after=None,
        month=False,
    )
    dims = [_COLUMN[name].label(name) for name in by_country]
    stocks = _stock_conditions(countrywide, as_of, list(by_country), interval[0])
    folded = _flows_after_stocks(conn, countrywide, as_of, dims, stocks, interval)
    return {wanted[key]: group for key, group in folded.items() if key in wanted}


def country_grouping(
    group_by: tuple[str, ...],
) -> tuple[tuple[str, ...], Callable[[GroupKey], GroupKey]]:
    """For a view by place: the same grouping by country instead, and the key there of a
    group of a country's own place (`ru` is `RU`'s)."""
    place = group_by.index("place")
    by_country = tuple(dict.fromkeys("country" if n == "place" else n for n in group_by))

    def country_key(key: GroupKey) -> GroupKey:
        values = dict(zip(group_by, key, strict=True))
        values["country"] = key[place].upper()
        return tuple(values[n] for n in by_country)

    return by_country, country_key


def stock_interval(conn: Connection) -> tuple[ColumnElement[date], ColumnElement[date]]:
    """The first and last day of a stock row's `as_of` (DESIGN §1b).

    A stock of a month, quarter or year holds from the first day of it, and may already
    include the flows of its own interval: flows are added to it from after its last
    day. A stock of unknown date (`period_start` UNDATED) held by its source's
    publication at the latest: it is the day `reported_on` (the last day of the
    source's date), or the day the stock was recorded where the source gives no date.
    A stock row made before stocks had intervals has no `period_end`: a day.
    """
    undated = FLOWS.c.period_start == UNDATED
    counted_from = func.coalesce(FLOWS.c.reported_on, _recorded_day(conn))
    first = case((undated, counted_from), else_=FLOWS.c.period_start)
    last = case(
        (undated, counted_from), else_=func.coalesce(FLOWS.c.period_end, FLOWS.c.period_start)
    )
    return first, last


def _recorded_day(conn: Connection) -> ColumnElement[date]:
    """The UTC day a row's version was recorded: one event read by its position."""
    day = backend(conn).utc_day(EVENTS.c.recorded_at)
    return select(day).where(EVENTS.c.position == FLOWS.c.position).scalar_subquery()


def _stock_conditions(
    query: DeploymentQuery, as_of: date, names: list[str], first: ColumnElement[date]
) -> list[ColumnElement[bool]]:
    """The stock rows that count for `query` by `as_of` (`first`: their first day)."""
    level = FLOWS.c.place_id == func.lower(FLOWS.c.country) if "place" not in names else true()
    return [
        IS_STOCK,
        visible(query.position),
        first <= as_of,
        level,
        *([FLOWS.c.affiliation == query.affiliation] if query.affiliation else []),
        # a stock counts only inside the filters, whatever the grouping: a stock for
        # Dandong is not in a view of Russia, nor Russia's in a view of Moscow
        *([FLOWS.c.country.in_(query.countries)] if query.countries is not None else []),
        *([FLOWS.c.place_id.in_(query.place_ids)] if query.place_ids is not None else []),
        *_only_groups(query),
    ]


def new_flows_after_stocks(
    conn: Connection, query: DeploymentQuery, as_of: date, stock_dates: dict[GroupKey, date]
) -> dict[GroupKey, DeploymentGroup]:
    """Per group of `stock_dates` (the last day of its stock's interval), the flows of the
    rows made after `query.made_after` whose period starts after that day and by `as_of`:
    what they add to its estimate.

    Folded per date over all new rows, the groups picked here: restricted to the groups
    in SQL, a planner reads each group's every row rather than the few new ones."""
    by_date: dict[date, set[GroupKey]] = defaultdict(set)
    for key, stock_date in stock_dates.items():
        by_date[stock_date].add(key)
    found: dict[GroupKey, DeploymentGroup] = {}
    for stock_date, keys in by_date.items():
        since = DeploymentQuery(
            group_by=query.group_by,
            position=query.position,
            as_of=as_of,
            period_from=stock_date + timedelta(days=1),
            affiliation=query.affiliation,
            made_after=query.made_after,
        )
        folded = _flow_sums(conn, since)
        found |= {key: folded[key] for key in keys if key in folded}
    return found


def _flows_after_stocks(
    conn: Connection,
    query: DeploymentQuery,
    as_of: date,
    dims: list[Any],
    stocks: list[ColumnElement[bool]],
    interval: tuple[ColumnElement[date], ColumnElement[date]],
) -> dict[GroupKey, DeploymentGroup]:
    """Per group, the flows whose period starts after its latest stock's last day and by
    `as_of`.

    One fold for all groups (the facts joined to each group's stock date), not one
    per group: each fact counts as shared or not exactly as in the fold of that
    group's dates alone, since a fact's places all share its period.
    """
    names = [d.name for d in dims]
    first, last = interval
    # the latest stock of each group, as `fold_estimates` orders them
    ranked = (
        select(
            *dims,
            last.label("stock_date"),
            func.row_number()
            .over(
                partition_by=dims,
                order_by=[first.desc(), last.desc(), FLOWS.c.position.desc()],
            )
            .label("rank"),
        )
        .where(*stocks)
        .subquery("ranked_stocks")
    )
    # The latest stock of each group, read first (a row a group) and given to the fold
    # as a VALUES list: joined as the window's subquery, SQLite scanned every ranked
    # stock row for each fact row (at a million events a fold by country took a minute).
    latest = conn.execute(
        select(*[ranked.c[n] for n in names], ranked.c.stock_date).where(ranked.c.rank == 1)
    ).all()
    if not latest:
        return {}
    stock_dates = (
        values(
            *[column(n, String) for n in names],
            column("stock_date", Date),
            name="stock_dates",
        )
        .data([tuple(row) for row in latest])
        .cte("stock_dates")  # SQLite names a VALUES list's columns only in a CTE
    )
    since = DeploymentQuery(
        group_by=query.group_by,
        position=query.position,
        as_of=as_of,
        countries=query.countries,
        place_ids=query.place_ids,
        affiliation=query.affiliation,
        only_groups=query.only_groups,
    )
    with_groups, _, in_scope = _fact_groups(conn, since)
    g = with_groups.c
    keys = [g[name] for name in names]
    same_group = and_(*[g[n] == stock_dates.c[n] for n in names])
    if backend(conn).joins_by_nested_loop:
        # each fact row looks its group's date up: joined, every fact row would be read
        # once for each stock date (SQLite makes an index on the dates on the spot)
        stock_date = select(stock_dates.c.stock_date).where(same_group).scalar_subquery()
        totals = select(g.kind, *keys, *_sums(g)).where(in_scope, g.period_start > stock_date)
    else:
        totals = (
            select(g.kind, *keys, *_sums(g))
            .join_from(with_groups, stock_dates, same_group)
            .where(in_scope, g.period_start > stock_dates.c.stock_date)
        )
    return _groups_of_totals(conn, totals.group_by(g.kind, *keys), names)


def _flow_sums(conn: Connection, query: DeploymentQuery) -> dict[GroupKey, DeploymentGroup]:
    """Per group, only its dispatched and repatriated sums (no sources, events, shares)."""
    with_groups, names, in_scope = _fact_groups(conn, query)
    g = with_groups.c
    keys = [g[name] for name in names]
    totals = select(g.kind, *keys, *_sums(g)).where(in_scope).group_by(g.kind, *keys)
    return _groups_of_totals(conn, totals, names)


def _groups_of_totals(
    conn: Connection, totals: Any, names: list[str]
) -> dict[GroupKey, DeploymentGroup]:
    groups: dict[GroupKey, DeploymentGroup] = {}
    for row in conn.execute(totals):
        key = tuple(str(row._mapping[n]) for n in names)
        group = groups.setdefault(key, DeploymentGroup(key=dict(zip(names, key, strict=True))))
        group.set_totals(row.kind, _flow_totals(row))
    return groups


def facts_behind(
    conn: Connection, query: DeploymentQuery, key: dict[str, str], limit: int, after: int = 0
) -> list[int]:
    """Positions of the events behind one group: its facts' current versions, the first
    `limit` after position `after` (a page)."""
    # a flow is dated by its period's start; a stock by the first day it counts from
    first, _ = stock_interval(conn)
    stock_dates = [
        *([first <= query.as_of] if query.as_of is not None else []),
        *([first >= query.period_from] if query.period_from is not None else []),
        *([first <= query.period_to] if query.period_to is not None else []),
    ]
    # The flows and the stocks asked apart, each its first `limit`, not as one OR: with
    # the stocks' dates (a subquery a row) costed into it, PostgreSQL read and sorted
    # every current row of the log (400 ms at a million events). The flows walk the
    # position index. The stocks, a few in a thousand rows, are found by their own index
    # and sorted: `position + 0` is a position no index answers (walking the position
    # index in search of them, both databases read half the log: 70 and 180 ms).
    stock_position = FLOWS.c.position + 0
    flows = and_(FLOWS.c.kind.in_(FOLDED_KINDS), FLOWS.c.position > after, *_time_filters(query))
    stocks = and_(
        IS_STOCK, stock_position > after, visible(query.position, stock_position), *stock_dates
    )
    in_group = [_COLUMN[name] == value for name, value in key.items()]
    found: set[int] = set()
    for rows_of_kind, in_order in ((flows, FLOWS.c.position), (stocks, stock_position)):
        rows = conn.execute(
            select(FLOWS.c.position, in_order.label("in_order"))
            .where(rows_of_kind, *in_group)
            .distinct()
            .order_by(in_order)
            .limit(limit)
        )
        found |= {int(row.position) for row in rows}
    return sorted(found)[:limit]


@dataclass
class GroupChange:
    """What happened to a group's rows in a range of positions."""

    positions: set[int] = field(default_factory=set)
    only_new_flows: bool = True
    """Every change was a new dispatch, repatriation or plan row: none ended, no stock and no
    corroboration came. The group is then its earlier fold plus its new rows (`added_to`)."""
    countries: set[str] = field(default_factory=set)
    """The countries of the rows changed: a country's own stock, in a view by place, is
    carried by the flows into all of them (`fold_estimates`)."""


def changed_positions(
    conn: Connection, group_by: tuple[str, ...], start: int, end: int
) -> dict[GroupKey, set[int]]:
    """Per group, the positions in (start, end] that added or ended one of its rows."""
    return {
        key: change.positions for key, change in changed_groups(conn, group_by, start, end).items()
    }


def changed_groups(
    conn: Connection, group_by: tuple[str, ...], start: int, end: int
) -> dict[GroupKey, GroupChange]:
    """Per group, the changes in (start, end] to its rows: made, ended or corroborated."""
    dims = [_COLUMN[name].label(name) for name in group_by]
    made = and_(FLOWS.c.position > start, FLOWS.c.position <= end)
    ended = and_(FLOWS.c.superseded_at > start, FLOWS.c.superseded_at <= end)
    result: dict[GroupKey, GroupChange] = defaultdict(GroupChange)
    rows = conn.execute(
        select(
            *dims,
            FLOWS.c.country.label("row_country"),
            FLOWS.c.kind,
            FLOWS.c.position,
            FLOWS.c.superseded_at,
        ).where(or_(made, ended), IN_VIEWS)
    )
    for row in rows:
        change = result[tuple(str(row._mapping[n]) for n in group_by)]
        change.countries.add(row.row_country)
        if start < row.position <= end:
            change.positions.add(int(row.position))
            if row.kind not in FOLDED_KINDS:
                change.only_new_flows = False
        if row.superseded_at is not None and start < row.superseded_at <= end:
            change.positions.add(int(row.superseded_at))
            change.only_new_flows = False
    # The corroborations first, then their facts' rows by id: joined in one query, a
    # planner may read every row made by `end` to find the few corroborated.
    corroborated: dict[UUID, set[int]] = defaultdict(set)
    for fact_id, position in conn.execute(
        select(CORROBORATIONS.c.fact_id, CORROBORATIONS.c.position).where(
            CORROBORATIONS.c.position > start, CORROBORATIONS.c.position <= end
        )
    ):
        corroborated[fact_id].add(int(position))
    facts = sorted(corroborated)
    for first in range(0, len(facts), 500):
        rows = conn.execute(
            select(*dims, FLOWS.c.country.label("row_country"), FLOWS.c.fact_id).where(
                FLOWS.c.fact_id.in_(facts[first : first + 500]), visible(end), IN_VIEWS
            )
        )
        for row in rows:
            change = result[tuple(str(row._mapping[n]) for n in group_by)]
            change.countries.add(row.row_country)
            change.positions |= corroborated[row.fact_id]
            change.only_new_flows = False
    return dict(result)


def sources_redated(conn: Connection, start: int, end: int) -> bool:
    """Was a source's record corrected in (start, end]? Its publication date may have
    changed, and with it `reported_on` on every row of the source, in place: no row is
    made or ended for it, so `changed_groups` cannot tell which groups it touched."""
    targets = {
        UUID(str(data["target_event_id"]))
        for data in conn.execute(
            select(EVENTS.c.data).where(
                EVENTS.c.type == EventType.fact_corrected.value,
                EVENTS.c.position > start,
                EVENTS.c.position <= end,
            )
        ).scalars()
    }
    if not targets:
        return False
    found = conn.execute(
        select(FACTS.c.event_id)
        .where(FACTS.c.event_id.in_(targets), FACTS.c.type == EventType.source_recorded.value)
        .limit(1)
    ).first()
    return found is not None


def added_to(
    earlier: DeploymentGroup | None, new: DeploymentGroup, new_after_stock: DeploymentGroup | None
) -> DeploymentGroup:
    """A group folded earlier, with the fold of the rows made since (`made_after`) added,
    and of those of them after its stock (`new_flows_after_stocks`), if it has one.

    Exact when none of its earlier rows ended and no stock came (`GroupChange`): every
    figure is then a sum, a count, a union or an extreme over the group's rows, and a
    new fact's rows (all its places) are all new. Corroborations of the new facts are in
    `new`; a fact is corroborated only once recorded.
    """
    if earlier is None:
        return new
    stock_plus_flows = earlier.stock_plus_flows
    if stock_plus_flows is not None and new_after_stock is not None:
        stock_plus_flows = add(stock_plus_flows, new_after_stock.net_flow)
    shared = sorted([*earlier.shared, *new.shared], key=lambda s: s.fact_id)[:SHARED_LISTED]
    return replace(
        earlier,
        dispatched=FlowTotals(
            add(earlier.dispatched.bounds, new.dispatched.bounds),
            earlier.dispatched.facts + new.dispatched.facts,
        ),
        repatriated=FlowTotals(
            add(earlier.repatriated.bounds, new.repatriated.bounds),
            earlier.repatriated.facts + new.repatriated.facts,
        ),
        planned=FlowTotals(
            add(earlier.planned.bounds, new.planned.bounds),
            earlier.planned.facts + new.planned.facts,
        ),
        shared=shared,
        shared_total=earlier.shared_total + new.shared_total,
        events=earlier.events + new.events,
        source_ids=earlier.source_ids | new.source_ids,
        first_reported=_earliest(earlier.first_reported, new.first_reported),
        last_reported=_latest(earlier.last_reported, new.last_reported),
        stock_plus_flows=stock_plus_flows,
    )
