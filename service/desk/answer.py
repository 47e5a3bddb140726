"""The answer page's content: the question answered in words, a table per city with the
reports' own wording, plans apart, and the sources behind every number.

Two folds of the deployments view (the country's total, counted once, and its cities)
and one read of the reports behind them: the words are made from those rows alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Connection

from service.desk import words
from service.desk.evidence import REPORTS_LISTED, Evidence, Report, gather_evidence
from service.desk.question import Question
from service.gazetteer import Gazetteer
from service.views.deployments.fold import DeploymentQuery
from service.views.deployments.incremental import IncrementalFolds
from service.views.deployments.queries import DeploymentRow, Range, deployments_view
from service.views.deployments.row_json import RowFragments

RANGES = (
    ("dispatched", "sent"),
    ("planned", "planned"),
    ("repatriated", "sent home"),
    ("estimated_present", "stock"),
)
"""Each range of a row, and the kind of report behind it."""
TABLE_COLUMNS = (
    "country",
    "place",
    "place_id",
    "affiliation",
    *(f"{name}_{bound}" for name, _ in RANGES for bound in ("min", "best", "max")),
    "reports",
    "sources",
    "source_urls",
)
"""The answer's table, on the page and in its CSV: the same columns, the same cells.
(desk.css styles the cells by their position in this order.)"""


@dataclass(frozen=True)
class CityAnswer:
    row: DeploymentRow
    names: dict[str, str]
    """The place's names by language (en, ru, ko, zh)."""
    reports: list[Report]
    partners: list[str]
    """The places sharing a count with this one, by name."""

    def reported(self, name: str, kind: str) -> bool:
        """Does anything stand behind this range: a report of its kind, or a bound
        other than zero?"""
        value: Range | None = getattr(self.row, name)
        if value is None:
            return False
        return not words.is_nothing(value) or any(r.kind == kind for r in self.reports)

    @property
    def place_id(self) -> str | None:
        return self.row.place.place_id if self.row.place else None


@dataclass(frozen=True)
class Answer:
    question: Question
    where: str
    """"to Russia", "abroad"."""
    totals: list[DeploymentRow]
    sentences: list[str]
    cities: list[CityAnswer]
    evidence: Evidence

    @property
    def title(self) -> str:
        return f"Workers reported sent {self.where} {self.question.period_words}"

    def table(self) -> list[dict[str, str]]:
        return [cells for _, cells in self.rows()]

    def rows(self) -> list[tuple[CityAnswer, dict[str, str]]]:
        """Each city with its cells in the table."""
        return [(city, self._cells(city)) for city in self.cities]

    def _cells(self, city: CityAnswer) -> dict[str, str]:
        row = city.row
        cells: dict[str, str] = {
            "country": row.country or (row.place.country if row.place else ""),
            "place": row.place.name if row.place else "",
            "place_id": city.place_id or "",
            "affiliation": row.affiliation or "",
        }
        for name, kind in RANGES:
            value: Range | None = getattr(row, name)
            if not city.reported(name, kind):
                value = None  # nothing reported reads as blank, never as a report of 0
            for bound in ("min", "best", "max"):
                found = getattr(value, bound) if value is not None else None
                cells[f"{name}_{bound}"] = "" if found is None else str(found)
        ids = dict.fromkeys(i for r in city.reports for i in (r.source_id, *r.corroborated_by))
        named = [card for i in ids if (card := self.evidence.sources.get(i)) is not None]
        cells["reports"] = "; ".join(f"{r.kind}: {r.count_text}" for r in city.reports)
        cells["sources"] = "; ".join(s.outlet for s in named)
        cells["source_urls"] = " ".join(s.url for s in named if s.url)
        return cells


def answer(
    conn: Connection,
    gazetteer: Gazetteer,
    folds: IncrementalFolds,
    question: Question,
    query: DeploymentQuery,
    head: int,
    fragments: RowFragments | None = None,
) -> Answer:
    """The question answered at `query.position` (with `query.as_of`)."""
    scoped = asked(question, query.group_by, query.position, query.as_of)
    totals, by_city = (
        deployments_view(
            conn, gazetteer, replace(scoped, group_by=group_by), head, folds, fragments=fragments
        )
        for group_by in (("country",), ("place", "affiliation"))
    )
    scope = {"country": question.country.code} if question.country else {}
    if question.affiliation:
        scope["affiliation"] = question.affiliation
    evidence = gather_evidence(conn, scoped, scope, REPORTS_LISTED)
    cities = [_city(row, gazetteer, evidence) for row in by_city.rows]
    sentences = [
        sentence
        for total in totals.rows
        for sentence in _sentences(total, gazetteer, evidence, question)
    ] or [_nothing_reported(question.where, question)]
    return Answer(question, question.where, totals.rows, sentences, cities, evidence)


def asked(
    question: Question, group_by: tuple[str, ...], position: int, as_of: date | None
) -> DeploymentQuery:
    """The deployments view's question for the desk's: its country, period, affiliation."""
    return DeploymentQuery(
        group_by=group_by,
        position=position,
        as_of=as_of,
        period_from=question.period_from,
        period_to=question.period_to,
        countries=frozenset({question.country.code}) if question.country else None,
        affiliation=question.affiliation,
    )


def _city(row: DeploymentRow, gazetteer: Gazetteer, evidence: Evidence) -> CityAnswer:
    place = gazetteer.get(row.place.place_id) if row.place else None
    reports = [
        r
        for r in (evidence.at(place.id) if place else [])
        if row.affiliation is None or r.affiliation == row.affiliation
    ]
    # named only where the page shows them: under a city with reports listed
    partners = [
        _place_name(gazetteer, partner.split("/")[0])
        for shared in (row.shared if reports else [])
        for partner in shared.partners
    ]
    return CityAnswer(
        row=row,
        names=dict(place.names) if place else {},
        reports=reports,
        partners=list(dict.fromkeys(partners)),
    )


def _place_name(gazetteer: Gazetteer, place_id: str) -> str:
    place = gazetteer.get(place_id)
    return place.name if place else place_id


def _country_name(gazetteer: Gazetteer, code: str | None) -> str:
    place = gazetteer.get(code.lower()) if code else None
    return place.name if place else (code or "an unknown country")


def _sentences(
    total: DeploymentRow, gazetteer: Gazetteer, evidence: Evidence, question: Question
) -> list[str]:
    country = _country_name(gazetteer, total.country)
    in_country = [r for r in evidence.reports if _in(gazetteer, r, total.country)]
    who = f"{question.affiliation} workers" if question.affiliation else "workers"
    period = question.period_words
    said: list[str] = []
    by = _by(evidence)
    sent = [r for r in in_country if r.kind == "sent"]
    if sent or not words.is_nothing(total.dispatched):
        vague = [r.count_text for r in sent if r.vague]
        said.append(
            f"{words.bounds(total.dispatched, who).capitalize()} were reported sent to "
            f"{country} {period}, by {by(sent)} from "
            f"{words.how_many(total.sources, 'source')}; "
            f"{words.best_words(total.dispatched, vague)}."
        )
    else:
        said.append(_nothing_reported(f"to {country}", question))
    home = [r for r in in_country if r.kind == "sent home"]
    if home and not any(r.gives_number for r in home):
        quoted = "; ".join(f"“{r.count_text}”" for r in home[:3])
        said.append(
            f"{by(home).capitalize()} say {who} were sent home from {country} {period} "
            f"but give no number: {quoted}."
        )
    elif home:
        vague = [r.count_text for r in home if r.vague]
        said.append(
            f"{words.bounds(total.repatriated, who).capitalize()} were reported sent home "
            f"from {country} {period}, by {by(home)}; "
            f"{words.best_words(total.repatriated, vague)}."
        )
    if not words.is_nothing(total.planned):
        said.append(
            f"Plans or announcements to send {words.bounds(total.planned, 'more')} are "
            "shown apart: a plan is never counted as workers sent."
        )
    if total.estimated_present is not None:
        since = f" of {total.estimate_as_of}" if total.estimate_as_of else ""
        said.append(
            f"The latest reported stock{since}, with the flows reported after it, puts "
            f"{words.bounds(total.estimated_present, who)} in {country}."
        )
    return said


def _by(evidence: Evidence) -> Callable[[list[Report]], str]:
    """ "two reports"; "more than 500 reports" where the list was cut short."""

    def said(reports: list[Report]) -> str:
        if evidence.more:
            return f"more than {words.how_many(len(reports))}"
        return words.how_many(len(reports))

    return said


def _in(gazetteer: Gazetteer, report: Report, country: str | None) -> bool:
    if country is None:
        return True
    return any(
        (place := gazetteer.get(p)) is not None and place.country == country
        for p in report.place_ids
    )


def _nothing_reported(where: str, question: Question) -> str:
    return (
        f"No report in the ledger says workers were sent {where} {question.period_words}. "
        "That is an absence of reports, not a report that nobody went."
    )


def geojson(answer: Answer) -> dict[str, Any]:
    """The cities on screen as points with flat properties a mapping tool can style."""
    features: list[dict[str, Any]] = []
    for city, cells in answer.rows():
        place = city.row.place
        if place is None:
            continue
        properties: dict[str, Any] = {
            k: _number_or_text(v) for k, v in cells.items() if k not in ("place",)
        }
        properties["name"] = place.name
        properties["kind"] = place.kind
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [place.lon, place.lat]},
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _number_or_text(cell: str) -> int | str | None:
    if cell == "":
        return None
    return int(cell) if cell.lstrip("-").isdigit() else cell
