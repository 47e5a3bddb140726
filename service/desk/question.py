"""What a reader asks on the desk's forms, read from the query string.

A form sends every field, empty ones as `""`: an empty field is no answer, not a
mistake. Anything else that cannot be read is a `DeskInputError` naming the field,
shown on the page with a 422 (never a 500).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from service.domain.moments import Day, Timestamp
from service.domain.payloads import Affiliation
from service.gazetteer import Gazetteer

MAX_POSITION = 2**63 - 1
_CODE = re.compile(r"^[A-Za-z]{2}$")
_YEAR = re.compile(r"^\d{4}$")
_DAY: TypeAdapter[date] = TypeAdapter(Day)
_MOMENT: TypeAdapter[datetime] = TypeAdapter(Timestamp)

T = TypeVar("T")


class DeskInputError(ValueError):
    """A field of a desk form that cannot be read; `field` is its name in the form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    names: dict[str, str]


@dataclass(frozen=True)
class TimeTravel:
    """The two time axes: the world as reported for `as_of`, as the ledger knew it at
    `known_at` or `at_position`."""

    as_of: date | None = None
    known_at: datetime | None = None
    at_position: int | None = None


@dataclass(frozen=True)
class Question:
    """The answer page's question: a country, a period, an affiliation."""

    country: Country | None
    period_from: date | None
    period_to: date | None
    affiliation: str | None
    period_words: str
    """How the answer names the period: "in 2023", "from 2023-01-01 to 2023-06-30"."""

    @property
    def where(self) -> str:
        """ "to Russia", or "abroad" for no country."""
        return f"to {self.country.name}" if self.country else "abroad"


def text_field(params: dict[str, str], name: str) -> str | None:
    value = params.get(name, "").strip()
    return value or None


def _read(adapter: TypeAdapter[T], field: str, value: str) -> T:
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        raise DeskInputError(field, error.errors()[0]["msg"]) from None


def read_day(params: dict[str, str], field: str) -> date | None:
    value = text_field(params, field)
    return _read(_DAY, field, value) if value else None


def read_position(params: dict[str, str], field: str) -> int | None:
    """A log position (`at_position`, or `after` to read a long list on)."""
    value = text_field(params, field)
    if value is None:
        return None
    if not value.isdigit() or int(value) > MAX_POSITION:
        raise DeskInputError(field, "give a log position: a whole number from 0")
    return int(value)


def read_time_travel(params: dict[str, str]) -> TimeTravel:
    known_at = text_field(params, "known_at")
    return TimeTravel(
        as_of=read_day(params, "as_of"),
        known_at=_read(_MOMENT, "known_at", known_at) if known_at else None,
        at_position=read_position(params, "at_position"),
    )


def find_country(gazetteer: Gazetteer, name: str) -> Country:
    """A country by its name in English, Russian, Korean or Chinese, an alias, or its
    two-letter code."""
    if _CODE.match(name):
        place = gazetteer.get(name.lower())
        if place is not None and place.kind == "country":
            return Country(place.country, place.name, dict(place.names))
    found = [p for p in gazetteer.resolve(name) if p.kind == "country"]
    if len(found) == 1:
        return Country(found[0].country, found[0].name, dict(found[0].names))
    close = [m.place.name for m in gazetteer.closest(name) if m.place.kind == "country"]
    hint = f" Did you mean {', '.join(close[:3])}?" if close else ""
    raise DeskInputError("country", f"no country called “{name}” is known.{hint}")


def read_question(params: dict[str, str], gazetteer: Gazetteer) -> Question:
    name = text_field(params, "country")
    country = find_country(gazetteer, name) if name else None
    year = text_field(params, "year")
    period_from = read_day(params, "from")
    period_to = read_day(params, "to")
    if year is not None:
        if not _YEAR.match(year) or not 1945 <= int(year) <= 2100:
            raise DeskInputError("year", "give a year as four digits, e.g. 2023")
        if period_from or period_to:
            raise DeskInputError("year", "give a year or a date range, not both")
        period_from, period_to = date(int(year), 1, 1), date(int(year), 12, 31)
    if period_from and period_to and period_from > period_to:
        raise DeskInputError("to", "the range ends before it starts")
    affiliation = text_field(params, "affiliation")
    if affiliation is not None and affiliation not in {a.value for a in Affiliation}:
        raise DeskInputError("affiliation", "choose military, civilian or unknown")
    return Question(
        country=country,
        period_from=period_from,
        period_to=period_to,
        affiliation=affiliation,
        period_words=_period_words(year, period_from, period_to),
    )


def _period_words(year: str | None, start: date | None, end: date | None) -> str:
    if year is not None:
        return f"in {year}"
    if start and end:
        return f"from {start.isoformat()} to {end.isoformat()}"
    if start:
        return f"from {start.isoformat()} on"
    if end:
        return f"up to {end.isoformat()}"
    return "in any period reported"
