"""Find the facts whose period overlaps a new fact's, in one bounded query per append.

Two periods overlap when each starts before the other ends. On the index of
`(type, period_start)` that is a range closed at one end only: every older fact
qualifies, so a check per new fact would read the whole table, and an append
would slow down as the ledger grows. The ledger therefore keeps the longest
period any fact has (in `ledger_meta`): a fact overlapping [start, end] starts
within [start - longest, end], a closed range of that index. One query fetches
the candidates for a whole batch; each event then takes its own slice.

One long period anywhere widens every window, and a year's window of a large
ledger holds a hundred thousand facts. So when the longest period is long, the
search goes by place instead: in the facts' current rows of `flow_contributions`,
indexed by place.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
)

from service.views.deployments.tables import FLOWS
from service.views.deployments.updater import COUNTED_TYPES, PLAN_KINDS
from service.views.facts.longest_period import Period, longest_period_days
from service.views.facts.tables import FACTS

RETRACTED = "retracted"
MAX_RANGES = 20
PLACE_FILTER_FROM_DAYS = 31
"""Windows spanning more days than this are also filtered by place in the query; and when
the longest period is longer than this, the search goes by place altogether (`_by_place`).
A wide window (a ledger with year-long periods) holds every fact of the year; a narrow one
holds few, and there the filter costs more than it saves (measured: 1.2 vs 1.8 ms a single
append with one-day periods)."""


@dataclass(frozen=True)
class _Bounds:
    start: date
    end: date


def _bounds(period: Period) -> _Bounds:
    # A fact without a period could be any time: it is compared with every fact.
    return _Bounds(period[0] or date.min, period[1] or date.max)


def _earlier(day: date, days: int) -> date:
    return day - timedelta(days=days) if (day - date.min).days > days else date.min


_PLANS = tuple(PLAN_KINDS.values())
_FACTS_SEARCHED = (
    FACTS.c.type,
    # a plan's current rows are of a kind of their own (the flow's status is not in `facts`)
    exists()
    .where(
        FLOWS.c.fact_id == FACTS.c.event_id,
        FLOWS.c.superseded_at.is_(None),
        FLOWS.c.kind.in_(_PLANS),
    )
    .label("planned"),
    FACTS.c.period_start,
    FACTS.c.period_end,
    FACTS.c.event_id,
    FACTS.c.source_id,
    FACTS.c.place_ids,
    FACTS.c.count_min,
    FACTS.c.count_max,
)
_FLOW_KINDS = {t: (kind, PLAN_KINDS[t]) for t, kind in COUNTED_TYPES.items() if kind != "estimate"}
"""The row kinds of each flow type (a flow that happened, a plan), as the rows are written."""
# The same columns from a fact's current rows in `flow_contributions`, one per place.
_FLOWS_SEARCHED = (
    case(*((FLOWS.c.kind.in_(kinds), fact_type) for fact_type, kinds in _FLOW_KINDS.items())).label(
        "type"
    ),
    FLOWS.c.kind.in_(_PLANS).label("planned"),
    FLOWS.c.period_start,
    func.coalesce(FLOWS.c.period_end, FLOWS.c.period_start).label("period_end"),
    FLOWS.c.fact_id.label("event_id"),
    FLOWS.c.source_id,
    FLOWS.c.place_id.label("place_ids"),
    FLOWS.c.count_min,
    FLOWS.c.count_max,
)

Windows = dict[str, list[tuple[date, date]]]
"""Per fact type, the spans of `period_start` searched."""


@dataclass
class PeriodSearch:
    """The facts still standing (not retracted) that may overlap a batch's periods, by type.

    Each row has the fact's `event_id`, `source_id`, `place_ids` (space-separated),
    `count_min`, `count_max`, period, and whether it is a plan (`planned`, true for a
    planned or announced flow). A fact found by place comes once for each place
    it names among those asked for."""

    longest_days: int
    by_type: dict[str, list[Any]]
    starts: dict[str, list[date]]

    @classmethod
    def fetch(
        cls,
        conn: Connection,
        wanted: Iterable[tuple[str, Period]],
        places: Collection[str] | None = None,
    ) -> PeriodSearch:
        """One query: the dispatches and repatriations starting in any window a period
        needs; if `places` is given (and the windows are wide), only those naming one of
        them."""
        longest = longest_period_days(conn)
        windows: Windows = defaultdict(list)
        for fact_type, period in wanted:
            bounds = _bounds(period)
            windows[fact_type].append((_earlier(bounds.start, longest), bounds.end))
        merged = {fact_type: _merged(spans) for fact_type, spans in windows.items()}
        days = sum((hi - lo).days + 1 for spans in merged.values() for lo, hi in spans)
        if days <= PLACE_FILTER_FROM_DAYS:  # few facts start in so few days: fetch them all
            places = None
        if not merged:
            return cls.of([], longest)
        query = (
            _by_place(merged, places)
            if places is not None and longest > PLACE_FILTER_FROM_DAYS
            else _by_period(merged, places)
        )
        return cls.of(conn.execute(query), longest)  # ordered by period_start

    @classmethod
    def of(cls, rows: Iterable[Any], longest_days: int) -> PeriodSearch:
        """A search over `rows` already at hand (each with `type`, `period_start` and
        `period_end`; in order of `period_start`), none longer than `longest_days`."""
        by_type: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_type[row.type].append(row)
        starts = {t: [row.period_start for row in found] for t, found in by_type.items()}
        return cls(longest_days, by_type, starts)

    def overlapping(
        self, fact_type: str, period: Period, planned: bool | None = None
    ) -> Iterator[Any]:
        """The fetched facts of this type whose period overlaps `period`; if `planned` is
        given, only the plans (True) or only the flows that happened (False): a plan and
        a dispatch are never the same workers twice."""
        bounds = _bounds(period)
        rows, starts = self.by_type.get(fact_type, []), self.starts.get(fact_type, [])
        first = bisect_left(starts, _earlier(bounds.start, self.longest_days))
        last = bisect_right(starts, bounds.end)
        for row in rows[first:last]:
            overlaps = row.period_end is not None and row.period_end >= bounds.start
            if overlaps and (planned is None or bool(row.planned) == planned):
                yield row


def _by_period(windows: Windows, places: Collection[str] | None) -> Select[Any]:
    """From `facts`, on its index of (type, period_start); if `places` is given, only the
    facts whose `place_ids` name one of them. The windows hold only facts whose periods
    are near the new ones (the longest period is short), so the place test runs on
    those rows alone (`_naming`)."""
    in_windows = (
        and_(
            FACTS.c.type == fact_type,
            or_(*(FACTS.c.period_start.between(lo, hi) for lo, hi in spans)),
        )
        for fact_type, spans in windows.items()
    )
    return (
        select(*_FACTS_SEARCHED)
        .where(FACTS.c.status != RETRACTED, or_(*in_windows), *_naming(places))
        .order_by(FACTS.c.period_start)
    )


_PADDED_PLACE_IDS = literal_column("' '").concat(FACTS.c.place_ids).concat(literal_column("' '"))


def _naming(places: Collection[str] | None) -> list[ColumnElement[bool]]:
    """`place_ids` (space-separated) names one of `places`, tested in the database. (A `_`
    or `%` in an id matches more than it, never less: the caller compares places exactly.)"""
    if places is None:
        return []
    return [or_(*(_PADDED_PLACE_IDS.like(f"% {place} %") for place in sorted(places)))]


def _by_place(windows: Windows, places: Collection[str]) -> Select[Any]:
    """From the facts' current rows in `flow_contributions`, on its index of (current,
    kind, place). For windows widened by a long period: a year's window of a large
    ledger holds a hundred thousand facts, and the few naming these places are found
    without reading the others. (Searched in `facts` with a LIKE on `place_ids`, one
    append at 1M events took 105-209 ms on SQLite.) Not for windows of short periods:
    there the rows of a few busy places outnumber the facts in the windows (batch POSTs
    of one-day facts ran 30% slower). A retracted fact has no current rows; a corrected
    one, its new version's."""
    in_windows = (
        and_(
            FLOWS.c.kind.in_(_FLOW_KINDS[fact_type]),
            or_(*(FLOWS.c.period_start.between(lo, hi) for lo, hi in spans)),
        )
        for fact_type, spans in windows.items()
    )
    return (
        select(*_FLOWS_SEARCHED)
        .where(
            FLOWS.c.superseded_at.is_(None),
            FLOWS.c.place_id.in_(sorted(places)),
            or_(*in_windows),
        )
        .order_by(FLOWS.c.period_start)
    )


def _merged(spans: list[tuple[date, date]]) -> list[tuple[date, date]]:
    """The spans joined where they touch, then across the narrowest gaps until at most
    MAX_RANGES remain: a few facts too many are fetched, the query stays small."""
    joined: list[tuple[date, date]] = []
    for lo, hi in sorted(spans):
        if joined and (lo - joined[-1][1]).days <= 1:
            joined[-1] = (joined[-1][0], max(joined[-1][1], hi))
        else:
            joined.append((lo, hi))
    if len(joined) <= MAX_RANGES:
        return joined
    gaps = sorted(range(1, len(joined)), key=lambda i: joined[i][0] - joined[i - 1][1])
    closed = set(gaps[: len(joined) - MAX_RANGES])
    merged = [joined[0]]
    for i in range(1, len(joined)):
        if i in closed:
            merged[-1] = (merged[-1][0], max(merged[-1][1], joined[i][1]))
        else:
            merged.append(joined[i])
    return merged
