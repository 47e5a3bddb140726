"""Carry a folded view forward by the groups an append changed, not by folding again.

A fold reads every current contribution: its cost grows with the log. But an
append changes few groups (a dispatch to Moscow changes Moscow's row), and in a
fold without a country or place filter each group's figures come from its own
rows alone (a shared count's number of groups is written on each of its rows).
So the view at head N is the view at an earlier head M with the groups that
changed in (M, N] brought up to date, and nothing else touched. Most changes are
new reports: a group that only gained dispatch or repatriation rows is its
earlier figures plus a fold of the new rows alone (`added_to`), a read whose cost
is the append's, not the group's. A group where a row ended (a correction, a
retraction), a stock came or a corroboration was added is folded again.

Which groups changed is read from the log's own bookkeeping (`changed_groups`:
rows made or ended, corroborations added, in (M, N]), so several processes on one
database each carry their own views forward and agree. A view more than
`max_step` events behind, one where many groups changed, or one over a correction
of a source (it re-dates the source's rows in place) is folded whole. A rebuild
rewrites the rows without moving the log: the folds kept are of the views'
generation they were read at (`read_views_generation`), and a newer one drops them.

A view with a country or place filter is, when the filter is decided by each group's own
key (countries in a view by country or by place, places in a view by place), the view
without the filter cut down to the groups inside it (`_restricted`): a fact's share then
depends only on how many groups it names, inside the filter or not, as in the scoped fold.
So it is carried forward as the unfiltered view is, and the desk's questions about one
country are an append's cost, not a fold of the country. A filter that splits a group
(a country's view of its cities, or a place filter in a view by country) is folded whole.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Connection

from service.domain.intervals import add
from service.gazetteer import Gazetteer, default_gazetteer
from service.log.head import read_views_generation
from service.settings import DEFAULTS
from service.views.deployments.fold import (
    DeploymentGroup,
    DeploymentQuery,
    GroupChange,
    GroupKey,
    added_to,
    changed_groups,
    country_grouping,
    fold_estimates,
    fold_flows,
    new_flows_after_stocks,
    sources_redated,
)


@dataclass(frozen=True)
class _Folded:
    position: int
    groups: dict[GroupKey, DeploymentGroup]


def fold_view(
    conn: Connection, query: DeploymentQuery, as_of: date
) -> dict[GroupKey, DeploymentGroup]:
    """Flows and stocks per group, as `query` asks: the full fold."""
    groups = fold_flows(conn, query)
    fold_estimates(conn, query, groups, as_of)
    return groups


def fold_new_rows(
    conn: Connection, query: DeploymentQuery, as_of: date, stocked: dict[GroupKey, date]
) -> dict[GroupKey, tuple[DeploymentGroup, DeploymentGroup | None]]:
    """Per group, the fold of the rows made after `query.made_after`; and for the groups
    with a stock (`stocked`: their stocks' dates), of those of them after the stock."""
    new = fold_flows(conn, query)
    after_stock = new_flows_after_stocks(conn, query, as_of, stocked) if stocked else {}
    return {key: (group, after_stock.get(key)) for key, group in new.items()}


class IncrementalFolds:
    """The folded views of each question asked without a place or country filter, at the
    last few positions asked."""

    def __init__(
        self,
        *,
        max_step: int = DEFAULTS.fold_carried_max_events,
        max_changed: int = DEFAULTS.fold_carried_max_groups,
        kept_per_question: int = DEFAULTS.folds_kept_per_question,
        kept_questions: int = DEFAULTS.folds_kept_questions,
        gazetteer: Gazetteer | None = None,
    ) -> None:
        """The limits are the `fold_*` and `folds_*` settings (see `Settings`); the
        gazetteer names each place's country (every stored place was resolved by it)."""
        self._country_of = _country_of(gazetteer or default_gazetteer())
        self.max_step = max_step
        self.max_changed = max_changed
        self.kept_per_question = kept_per_question
        self.kept_questions = kept_questions
        self._kept: OrderedDict[tuple[DeploymentQuery, date], list[_Folded]] = OrderedDict()
        self._generation = 0
        """The views' generation every fold kept was read at."""
        self._lock = threading.Lock()

    def fold(
        self, conn: Connection, query: DeploymentQuery, as_of: date
    ) -> dict[GroupKey, DeploymentGroup]:
        """What `fold_view` returns: from an earlier fold of the same question when
        there is one to carry forward. The groups returned are never changed later."""
        if query.month:
            return fold_view(conn, query, as_of)
        if query.countries is not None or query.place_ids is not None:
            return self._scoped(conn, query, as_of)
        question = (replace(query, position=0), as_of)
        # Read before the rows: a fold is never older than the generation it is kept under.
        generation = read_views_generation(conn)
        with self._lock:
            if generation > self._generation:  # rebuilt since: what is kept is not
                self._kept.clear()
                self._generation = generation
            kept = self._kept.get(question, []) if generation == self._generation else []
            earlier = max(
                (f for f in kept if f.position <= query.position),
                key=lambda f: f.position,
                default=None,
            )
        groups = None
        if earlier is not None and query.position - earlier.position <= self.max_step:
            groups = self._carried_forward(conn, query, as_of, earlier)
        if groups is None:
            groups = fold_view(conn, query, as_of)
        with self._lock:
            if generation != self._generation:  # read before a rebuild another fold has seen
                return dict(groups)
            kept = [f for f in self._kept.get(question, []) if f.position != query.position]
            self._kept[question] = [*kept, _Folded(query.position, groups)][
                -self.kept_per_question :
            ]
            self._kept.move_to_end(question)
            while len(self._kept) > self.kept_questions:
                self._kept.popitem(last=False)
        return dict(groups)

    def _scoped(
        self, conn: Connection, query: DeploymentQuery, as_of: date
    ) -> dict[GroupKey, DeploymentGroup]:
        """A view with a country or place filter: the unfiltered view's groups inside the
        filter, where each group's key decides whether it is inside; else a full fold."""
        if not _keyed_scope(query):
            return fold_view(conn, query, as_of)
        whole = self.fold(conn, replace(query, countries=None, place_ids=None), as_of)
        inside = _restricted(query, whole, self._country_of)
        return inside if inside is not None else fold_view(conn, query, as_of)

    def _carried_forward(
        self, conn: Connection, query: DeploymentQuery, as_of: date, earlier: _Folded
    ) -> dict[GroupKey, DeploymentGroup] | None:
        if earlier.position == query.position:
            return earlier.groups
        changes = changed_groups(conn, query.group_by, earlier.position, query.position)
        if len(changes) > self.max_changed or sources_redated(
            conn, earlier.position, query.position
        ):
            return None
        # A country's own stock, in a view by place, is carried forward by the flows into
        # the whole country (`fold_estimates`): its group changes with any of them. Where
        # the country only gained new flows, its estimate is carried like a group's: the
        # earlier one plus the country's new flows after the stock (`_add_country_flows`).
        carried_by_country = _countries_own_stocks(query, earlier, changes)
        by_new_flows = _carried_by_new_flows(query, carried_by_country, changes)
        refolded_by_country = carried_by_country - by_new_flows
        groups = {
            key: group
            for key, group in earlier.groups.items()
            if key not in changes and key not in carried_by_country
        }
        # A group with only new flow rows (the usual append: a new report) adds them to
        # its earlier figures: a read of the new rows, whatever the group's length.
        added = {
            key
            for key, change in changes.items()
            if change.only_new_flows and key not in refolded_by_country
        }
        if refolded := frozenset((changes.keys() | refolded_by_country) - added):
            groups |= fold_view(conn, replace(query, only_groups=refolded), as_of)
        if added:
            stocked = {  # flows count after the last day of the stock's interval
                key: stock_date.last
                for key in added - by_new_flows  # those: the country's flows, below
                if key in earlier.groups
                and (stock_date := earlier.groups[key].estimate_as_of) is not None
            }
            new = fold_new_rows(conn, replace(query, made_after=earlier.position), as_of, stocked)
            for key in added:
                if key in new:
                    groups[key] = added_to(earlier.groups.get(key), *new[key])
                elif key in earlier.groups:  # its new rows lie outside the question
                    groups[key] = earlier.groups[key]
        if by_new_flows:
            for key in by_new_flows - added:  # unchanged itself: its flows as they were
                groups[key] = earlier.groups[key]
            groups |= _add_country_flows(conn, query, as_of, earlier.position, groups, by_new_flows)
        return groups


def _carried_by_new_flows(
    query: DeploymentQuery, keys: set[GroupKey], changes: dict[GroupKey, GroupChange]
) -> set[GroupKey]:
    """Of the countries' own groups `keys`, those whose country only gained new flow rows
    (no row ended, no stock came): their estimates are carried by addition."""
    if not keys:
        return set()
    place = query.group_by.index("place")
    refolded = {
        country.lower()
        for change in changes.values()
        if not change.only_new_flows
        for country in change.countries
    }
    return {key for key in keys if key[place] not in refolded}


def _add_country_flows(
    conn: Connection,
    query: DeploymentQuery,
    as_of: date,
    since: int,
    groups: dict[GroupKey, DeploymentGroup],
    keys: set[GroupKey],
) -> dict[GroupKey, DeploymentGroup]:
    """`groups[key]` for each of `keys` (a country's own place, with a stock), its estimate
    moved on by the flows into the whole country made after `since` that start after the
    stock's last day: the fold by country of the new rows alone (a new fact's rows are
    all new, so a count shared by two of its cities adds once, as in the full fold)."""
    by_country, country_key = country_grouping(query.group_by)
    stock_dates: dict[GroupKey, date] = {}
    for key in keys:
        stock_date = groups[key].estimate_as_of
        assert stock_date is not None  # a country's own group with a stock
        stock_dates[country_key(key)] = stock_date.last
    countrywide = DeploymentQuery(
        group_by=by_country,
        position=query.position,
        affiliation=query.affiliation,
        made_after=since,
    )
    new = new_flows_after_stocks(conn, countrywide, as_of, stock_dates)
    moved: dict[GroupKey, DeploymentGroup] = {}
    for key in keys:
        flows = new.get(country_key(key))
        present = groups[key].stock_plus_flows
        if flows is not None and present is not None:
            moved[key] = replace(groups[key], stock_plus_flows=add(present, flows.net_flow))
    return moved


def _countries_own_stocks(
    query: DeploymentQuery, earlier: _Folded, changes: dict[GroupKey, GroupChange]
) -> set[GroupKey]:
    """The groups of a view by place that are a country's own place with a stock, in a
    country whose rows changed."""
    if "place" not in query.group_by:
        return set()
    place = query.group_by.index("place")
    touched = {country.lower() for change in changes.values() for country in change.countries}
    return {
        key
        for key, group in earlier.groups.items()
        if group.estimate_as_of is not None and key[place] in touched
    }


def _country_of(gazetteer: Gazetteer) -> Callable[[str], str | None]:
    def country_of(place_id: str) -> str | None:
        place = gazetteer.get(place_id)
        return place.country if place is not None else None

    return country_of


def _keyed_scope(query: DeploymentQuery) -> bool:
    """Does each group's key alone say whether it is inside the query's filters?"""
    countries_keyed = query.countries is None or bool({"country", "place"} & set(query.group_by))
    places_keyed = query.place_ids is None or "place" in query.group_by
    return countries_keyed and places_keyed


def _restricted(
    query: DeploymentQuery,
    groups: dict[GroupKey, DeploymentGroup],
    country_of: Callable[[str], str | None],
) -> dict[GroupKey, DeploymentGroup] | None:
    """The groups inside `query`'s filters (`_keyed_scope`); None when a place of some
    group is not in the gazetteer, so that its country is known only to its rows."""
    names = query.group_by
    inside: dict[GroupKey, DeploymentGroup] = {}
    for key, group in groups.items():
        values = dict(zip(names, key, strict=True))
        if query.place_ids is not None and values["place"] not in query.place_ids:
            continue
        if query.countries is not None:
            country = values.get("country") or country_of(values["place"])
            if country is None:
                return None
            if country not in query.countries:
                continue
        inside[key] = group
    return inside
