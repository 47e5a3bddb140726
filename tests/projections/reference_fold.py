"""A small reference fold of DESIGN §2, in plain Python, to check the SQL fold against.

Written straight from the design and for clarity, not speed: replay the recorded
events (the envelopes of `GET /v1/events`) up to a position, keep each fact as
last corrected, drop retracted facts, then sum bounds per group. It shares no
code with the service, so a mistake there cannot hide here too.

It reads the payloads as the desk SENT them, not as the service stored them: a
count's bounds follow from its qualifier and number by DESIGN §1's rules (or are
the desk's own, where it gave them), and a place's country and kind come from a
small table of its own (`PLACES`), not from the service's gazetteer.

A flow's `status` (DESIGN §1b; absent, as in every version 1 payload: `completed`):
only completed and underway flows count; planned and announced dispatches add to the
row's `planned`, by the same rules as `dispatched`, and to nothing else; planned and
announced repatriations add to nothing.

Choices the design leaves open, made here as the SQL fold makes them:
- a row's `events` and `sources` count the flows behind it (planned dispatches too)
  and their corroborations (a stock estimate adds none); a planned dispatch given
  for several places is listed under `shared` as a dispatch is;
- an undated plan comes after every date: it is in a view without `as_of` or
  `period_to`, and in no view with either;
- a row's report dates are the publication dates of the flows' own sources;
- of two stocks reported for the same date, the one recorded (or corrected) later
  is the latest;
- a place or country filter is a scope: a fact with places inside and outside it
  is shared with the outside (a view of Moscow never claims the Saint Petersburg
  half); a stock counts only when its own place is inside the scope; the period
  filters choose flows, never the stock and the flows after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

DISPATCHED = "workers.dispatched"
REPATRIATED = "workers.repatriated"
ESTIMATED = "workforce.estimated"
FLOW_KINDS = {DISPATCHED: "dispatched", REPATRIATED: "repatriated"}
COUNTED_STATUSES = {"completed", "underway"}
COUNTED = {DISPATCHED, REPATRIATED, ESTIMATED}
GROUP_NAMES = ("country", "place", "affiliation")

Key = tuple[str, ...]
Event = dict[str, Any]


# --- interval arithmetic (None is an open bound) ---------------------------------------


@dataclass(frozen=True)
class Interval:
    min: int | None
    best: int | None
    max: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "min": self.min,
            "best": self.best,
            "max": self.max,
            "best_complete": self.best is not None,
        }


ZERO = Interval(0, 0, 0)


def _sum(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def _difference(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a - b


def plus(a: Interval, b: Interval) -> Interval:
    """Sums add bounds; an open bound stays open; best needs both bests."""
    return Interval(_sum(a.min, b.min), _sum(a.best, b.best), _sum(a.max, b.max))


def minus(a: Interval, b: Interval) -> Interval:
    """a − b is [a.min − b.max, a.max − b.min]: the widest the two allow."""
    return Interval(
        _difference(a.min, b.max), _difference(a.best, b.best), _difference(a.max, b.min)
    )


def clamped_at_zero(a: Interval) -> Interval:
    """A stock of people is never below 0 (an unbounded-below min becomes 0)."""
    return Interval(
        0 if a.min is None else max(0, a.min),
        None if a.best is None else max(0, a.best),
        None if a.max is None else max(0, a.max),
    )


def bounds_by_rule(qualifier: str, n: int | None) -> Interval:
    """DESIGN §1: the bounds a qualifier and its number give (integer arithmetic)."""
    if qualifier in ("hundreds", "thousands", "unknown"):
        return {
            "hundreds": Interval(200, None, 999),
            "thousands": Interval(2000, None, 9999),
            "unknown": Interval(1, None, None),
        }[qualifier]
    assert n is not None, f"{qualifier} needs a number"
    return {
        "exact": Interval(n, n, n),
        "approximately": Interval(-(-9 * n // 10), n, 11 * n // 10),  # ⌈0.9n⌉, ⌊1.1n⌋
        "at_least": Interval(n, None, None),
        "more_than": Interval(n + 1, None, None),
        "at_most": Interval(1, None, n),
        "fewer_than": Interval(1, None, n - 1),
    }[qualifier]


def count_of(data: dict[str, Any]) -> Interval:
    """The count's bounds: the desk's own where it sent any, else the qualifier's rule."""
    count = data["count"]
    if any(count.get(bound) is not None for bound in ("min", "best", "max")):
        return Interval(count["min"], count.get("best"), count.get("max"))
    return bounds_by_rule(count["qualifier"], count.get("number"))


# --- places: a table of the reference's own -------------------------------------------

# place_id → (country, kind, parent). An occupied place keeps its de jure country.
PLACES: dict[str, tuple[str, str, str | None]] = {
    "ru": ("RU", "country", None),
    "ru-moscow": ("RU", "city", "ru"),
    "ru-saint-petersburg": ("RU", "city", "ru"),
    "ru-primorsky-krai": ("RU", "region", "ru"),
    "ru-vladivostok": ("RU", "city", "ru-primorsky-krai"),
    "cn": ("CN", "country", None),
    "cn-liaoning": ("CN", "region", "cn"),
    "cn-dandong": ("CN", "city", "cn-liaoning"),
    "cn-shenyang": ("CN", "city", "cn-liaoning"),
    "ua": ("UA", "country", None),
    "ua-donetsk-oblast": ("UA", "region", "ua"),
    "ua-donetsk": ("UA", "city", "ua-donetsk-oblast"),
}


def place_of(sent: dict[str, Any]) -> dict[str, Any]:
    """A place as sent (`{"place_id": ...}`), with its country and kind."""
    place_id = sent["place_id"]
    country, kind, _ = PLACES[place_id]
    return {"place_id": place_id, "country": country, "kind": kind}


def within(place_id: str) -> frozenset[str]:
    """The place and every place below it: a place filter is a region with its cities."""

    def ancestors(of: str) -> Iterable[str]:
        current: str | None = of
        while current is not None:
            yield current
            current = PLACES[current][2]

    return frozenset(p for p in PLACES if place_id in ancestors(p))


# --- the facts in force at a position ----------------------------------------------------


@dataclass
class Fact:
    """A counted fact as last corrected, with the corroborations it gathered."""

    id: str
    type: str
    source_id: str
    data: dict[str, Any]
    version_position: int
    corroborations: list[tuple[str, str]] = field(default_factory=list)  # (event id, source)

    @property
    def places(self) -> list[dict[str, Any]]:
        if self.type == DISPATCHED:
            return [place_of(p) for p in self.data["destinations"]]
        if self.type == REPATRIATED:
            return [place_of(p) for p in self.data["from_places"]]
        return [self.place]

    @property
    def place(self) -> dict[str, Any]:
        """A stock's one place."""
        return place_of(self.data["place"])

    @property
    def date(self) -> date:
        """The date the fact counts from: the period's start, or its end without a start;
        after every date for a plan with no date."""
        if self.type == ESTIMATED:
            return date.fromisoformat(self.data["as_of"])
        period = self.data.get("period") or {}
        day = period.get("start") or period.get("end")
        return date.fromisoformat(day) if day else date.max

    @property
    def figure(self) -> str | None:
        """The row figure a flow adds to: `dispatched`, `repatriated`, `planned` (a planned
        or announced dispatch), or None (a planned repatriation, a stock)."""
        if self.type not in FLOW_KINDS:
            return None
        if self.data.get("status", "completed") in COUNTED_STATUSES:
            return FLOW_KINDS[self.type]
        return "planned" if self.type == DISPATCHED else None


@dataclass
class Ledger:
    facts: dict[str, Fact]
    report_dates: dict[str, date | None]


def _report_date(source: dict[str, Any]) -> date | None:
    published = source.get("published_on") or (source.get("original") or {}).get("published_on")
    return date.fromisoformat(published) if published else None


def known_events(
    events: Iterable[Event], position: int | None = None, known_at: datetime | None = None
) -> list[Event]:
    """The events the ledger had recorded at `position` and at `known_at`."""
    kept = sorted(events, key=lambda e: int(e["position"]))
    if position is not None:
        kept = [e for e in kept if e["position"] <= position]
    if known_at is not None:
        kept = [e for e in kept if datetime.fromisoformat(e["recorded_at"]) <= known_at]
    return kept


def replay(events: Sequence[Event]) -> Ledger:
    """Corrections replace a payload, retractions remove a fact, corroborations add a source."""
    facts: dict[str, Fact] = {}
    report_dates: dict[str, date | None] = {}
    for event in sorted(events, key=lambda e: int(e["position"])):
        kind, data = event["type"], event["data"]
        source_id = event["provenance"]["source_id"]
        if kind == "source.recorded":
            report_dates[data["source_id"]] = _report_date(data)
        elif kind in COUNTED:
            facts[event["id"]] = Fact(event["id"], kind, source_id, data, event["position"])
        elif kind == "fact.corrected":
            target = facts.get(data["target_event_id"])
            if target is not None:
                target.data = data["replacement"]
                target.version_position = event["position"]
        elif kind == "fact.retracted":
            facts.pop(data["target_event_id"], None)
        elif kind == "fact.corroborated":
            target = facts.get(data["target_event_id"])
            if target is not None:
                target.corroborations.append((event["id"], source_id))
    return Ledger(facts, report_dates)


# --- deployments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    countries: frozenset[str] | None = None
    place_ids: frozenset[str] | None = None
    affiliation: str | None = None
    period_from: date | None = None
    period_to: date | None = None

    def inside(self, place: dict[str, Any]) -> bool:
        return (self.countries is None or place["country"] in self.countries) and (
            self.place_ids is None or place["place_id"] in self.place_ids
        )

    def takes(self, fact: Fact) -> bool:
        """The fact's affiliation and date pass (places are a scope, not a filter)."""
        return (
            (self.affiliation is None or affiliation_of(fact) == self.affiliation)
            and (self.period_from is None or fact.date >= self.period_from)
            and (self.period_to is None or fact.date <= self.period_to)
        )


NO_FILTERS = Filters()


@dataclass(frozen=True)
class SharedEntry:
    event_id: str
    count: Interval
    partners: tuple[str, ...]


@dataclass
class Row:
    dispatched: Interval = ZERO
    repatriated: Interval = ZERO
    planned: Interval = ZERO
    estimated_present: Interval | None = None
    estimate_as_of: date | None = None
    shared: list[SharedEntry] = field(default_factory=list)
    events: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    reported: list[date] = field(default_factory=list)
    figures: set[str] = field(default_factory=set)
    """The flows some fact of the row reports: the others are null (nothing reported is
    not a report of zero), and net_flow is null when neither flow was reported."""

    @property
    def net_flow(self) -> Interval:
        return minus(self.dispatched, self.repatriated)

    def _flow(self, name: str, value: Interval) -> dict[str, Any] | None:
        return value.as_json() if name in self.figures else None

    def as_json(self) -> dict[str, Any]:
        """The row's figures in the API's shape (see `normalised_view`)."""
        return {
            "dispatched": self._flow("dispatched", self.dispatched),
            "repatriated": self._flow("repatriated", self.repatriated),
            "net_flow": (
                self.net_flow.as_json() if self.figures & {"dispatched", "repatriated"} else None
            ),
            "planned": self._flow("planned", self.planned),
            "estimated_present": (
                self.estimated_present.as_json() if self.estimated_present else None
            ),
            "estimate_as_of": self.estimate_as_of.isoformat() if self.estimate_as_of else None,
            "shared": sorted(
                (s.event_id, s.count.min, s.count.best, s.count.max, s.partners)
                for s in self.shared
            ),
            "shared_total": len(self.shared),
            "events": len(self.events),
            "sources": len(self.sources),
            "first_reported": min(self.reported).isoformat() if self.reported else None,
            "last_reported": max(self.reported).isoformat() if self.reported else None,
        }


def affiliation_of(fact: Fact) -> str:
    return str(fact.data.get("affiliation") or "unknown")


def group_key(place: dict[str, Any], fact: Fact, group_by: Sequence[str]) -> Key:
    value = {
        "country": place["country"],
        "place": place["place_id"],
        "affiliation": affiliation_of(fact),
    }
    return tuple(value[name] for name in group_by)


def _parts_of(fact: Fact, group_by: Sequence[str], filters: Filters) -> list[tuple[Key, bool]]:
    """The groups the fact's places fall in, each inside the filters' scope or not."""
    return list(
        dict.fromkeys((group_key(p, fact, group_by), filters.inside(p)) for p in fact.places)
    )


def fold_flows(
    ledger: Ledger,
    group_by: Sequence[str],
    filters: Filters = NO_FILTERS,
    *,
    after: date | None = None,
    until: date | None = None,
) -> dict[Key, Row]:
    """Flows whose date is in (after, until]: an unshared fact adds its bounds; a fact
    in several groups (or partly outside the scope) adds only its max to each (0 to
    min, best unknown)."""
    rows: dict[Key, Row] = {}
    for fact in ledger.facts.values():
        figure = fact.figure
        if figure is None or not filters.takes(fact):
            continue
        if (until is not None and fact.date > until) or (after is not None and fact.date <= after):
            continue
        parts = _parts_of(fact, group_by, filters)
        count = count_of(fact.data)
        part = count if len(parts) == 1 else Interval(0, None, count.max)
        for key, inside in parts:
            if not inside:
                continue
            row = rows.setdefault(key, Row())
            setattr(row, figure, plus(getattr(row, figure), part))
            row.figures.add(figure)
            if len(parts) > 1:
                partners = tuple(sorted({"/".join(k) for k, _ in parts if k != key}))
                row.shared.append(SharedEntry(fact.id, count, partners))
            row.events |= {fact.id, *(event for event, _ in fact.corroborations)}
            row.sources |= {fact.source_id, *(source for _, source in fact.corroborations)}
            reported = ledger.report_dates.get(fact.source_id)
            if reported is not None:
                row.reported.append(reported)
    return rows


def _stock_counts_for(fact: Fact, group_by: Sequence[str]) -> bool:
    """A stock counts only at its own level: for a place in place rows, for the whole
    country (a country-level stock) in country rows."""
    if "place" in group_by:
        return True
    return "country" in group_by and fact.place["kind"] == "country"


def fold_estimates(
    ledger: Ledger, group_by: Sequence[str], filters: Filters, rows: dict[Key, Row], on: date
) -> None:
    """The latest stock at or before `on`, plus the net flows dated after it, clamped at 0."""
    scope = Filters(filters.countries, filters.place_ids, filters.affiliation)
    latest: dict[Key, Fact] = {}
    for fact in ledger.facts.values():
        if fact.type != ESTIMATED or fact.date > on or not _stock_counts_for(fact, group_by):
            continue
        if not (scope.takes(fact) and scope.inside(fact.place)):
            continue
        key = group_key(fact.place, fact, group_by)
        held = latest.get(key)
        if held is None or (fact.date, fact.version_position) > (
            held.date,
            held.version_position,
        ):
            latest[key] = fact
    for key, stock in latest.items():
        flows_by, flows_key = group_by, key
        if "place" in group_by and stock.place["kind"] == "country":
            # a country's own row, by place, is carried by the flows into all the country
            # (DESIGN §1b: one estimated_present, the figure of the rows by country)
            flows_by = tuple(dict.fromkeys("country" if n == "place" else n for n in group_by))
            flows_key = group_key(stock.place, stock, flows_by)
        later = fold_flows(ledger, flows_by, scope, after=stock.date, until=on).get(
            flows_key, Row()
        )
        row = rows.setdefault(key, Row())
        row.estimated_present = clamped_at_zero(plus(count_of(stock.data), later.net_flow))
        row.estimate_as_of = stock.date


def deployments(
    events: Iterable[Event],
    group_by: Sequence[str],
    *,
    today: date,
    as_of: date | None = None,
    position: int | None = None,
    known_at: datetime | None = None,
    filters: Filters = NO_FILTERS,
) -> dict[Key, dict[str, Any]]:
    """Every row of `GET /v1/deployments` for this grouping, time axes and filters."""
    group_by = [name for name in GROUP_NAMES if name in group_by]
    ledger = replay(known_events(events, position, known_at))
    rows = fold_flows(ledger, group_by, filters, until=as_of)
    if "place" in group_by or "country" in group_by:
        fold_estimates(ledger, group_by, filters, rows, as_of or today)
    return {key: row.as_json() for key, row in rows.items()}


def normalised_view(view: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    """The API's rows in the reference's shape: keyed by group, shared counts sorted."""
    out: dict[Key, dict[str, Any]] = {}
    for row in view["rows"]:
        key = tuple(
            row["place"]["place_id"] if name == "place" else row[name] for name in view["group_by"]
        )
        out[key] = {
            "dispatched": row["dispatched"],
            "repatriated": row["repatriated"],
            "net_flow": row["net_flow"],
            "planned": row["planned"],
            "estimated_present": row["estimated_present"],
            "estimate_as_of": row["estimate_as_of"],
            "shared": sorted(
                (
                    s["event_id"],
                    s["count"]["min"],
                    s["count"]["best"],
                    s["count"]["max"],
                    tuple(sorted(s["partners"])),
                )
                for s in row["shared"]
            ),
            "shared_total": row["shared_total"],
            "events": row["events"],
            "sources": row["sources"],
            "first_reported": row["first_reported"],
            "last_reported": row["last_reported"],
        }
    return out
