"""`estimated_present`, one figure (DESIGN §1b): the number `/v1/deployments` gives a
place's row is the number `/v1/estimates` gives beside its stock.

A stock is a figure of its own level: "20,000 in Russia" is Russia's, and the flows it
is carried forward by are Russia's, those into its cities included (the country row of
`/v1/deployments?group_by=country`); a stock for Vladivostok is the city's (its row
under `group_by=place`). Both views read it from the same fold (`fold_estimates`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from service.domain.dates import ReportedDate
from service.domain.intervals import Bounds
from service.views.deployments.fold import DeploymentQuery
from service.views.deployments.incremental import IncrementalFolds
from service.views.deployments.queries import folded_groups


@dataclass(frozen=True)
class StockPlace:
    """Where a stock was reported: its place, that place's country, its affiliation."""

    place_id: str
    country: str
    affiliation: str

    @property
    def group_by(self) -> tuple[str, str]:
        """The deployments grouping whose row carries this stock's `estimated_present`."""
        level = "country" if is_country_level(self.place_id, self.country) else "place"
        return (level, "affiliation")

    @property
    def key(self) -> tuple[str, str]:
        """Its row's key in that grouping."""
        return (self.country if self.group_by[0] == "country" else self.place_id, self.affiliation)


@dataclass(frozen=True)
class Present:
    """A place's `estimated_present` (None: no stock counts by the date) and the date of
    the stock it starts from."""

    bounds: Bounds | None
    stock_as_of: ReportedDate | None


def is_country_level(place_id: str, country: str) -> bool:
    """A stock of the country itself (its place is the country), not of a place in it."""
    return place_id == country.lower()


def estimated_present(
    conn: Connection,
    folds: IncrementalFolds,
    places: Iterable[StockPlace],
    position: int,
    as_of: date | None,
) -> dict[StockPlace, Present]:
    """Each place's `estimated_present` on `as_of` (else today), as the ledger knew it at
    `position`: read from the deployments fold of its level (`StockPlace.group_by`), the
    very fold `/v1/deployments` serves, and caches, for that question."""
    wanted = set(places)
    found: dict[StockPlace, Present] = {}
    for group_by in sorted({place.group_by for place in wanted}):
        query = DeploymentQuery(group_by=group_by, position=position, as_of=as_of)
        groups = {tuple(g.key[n] for n in group_by): g for g in folded_groups(conn, query, folds)}
        for place in (p for p in wanted if p.group_by == group_by):
            group = groups.get(place.key)
            found[place] = (
                Present(group.estimated_present, group.estimate_as_of)
                if group is not None
                else Present(None, None)
            )
    return found
