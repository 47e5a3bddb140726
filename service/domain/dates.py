"""A date as precise as the report that gives it (DESIGN §1b).

"In May 2023", "in the second quarter", "in 2023": a report often names a month, a
quarter or a year, not a day. `ReportedDate` keeps what it said, in ISO 8601 reduced
precision (`2023-05-03`, `2023-05`, `2023-Q2`, `2023`), and the interval of days it
covers (`first`..`last`), which is what every comparison uses. A field that may be
unknown is `ReportedDate | None`: `null` is "the report gives no date".

A day is written exactly as before (`2023-05-03` in, `2023-05-03` out), so a payload
that held a plain day keeps its JSON, its hash and its schema version.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from service.domain.clock import utc_now
from service.domain.moments import EARLIEST_REPORTED, latest_reported


class Precision(StrEnum):
    """How precise a reported date is (`unknown`: a period with no date at all)."""

    day = "day"
    month = "month"
    quarter = "quarter"
    year = "year"
    unknown = "unknown"


PRECISION_ORDER = (Precision.day, Precision.month, Precision.quarter, Precision.year)
"""From the finest to the coarsest."""

REPORTED_DATE_PATTERN = r"^\d{4}(-(\d{2}(-\d{2})?|[Qq][1-4]))?$"
FORMS = "a day 2023-05-03, a month 2023-05, a quarter 2023-Q2 or a year 2023"
EXAMPLES = ["2023-05-03", "2023-05", "2023-Q2", "2023"]

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class ReportedDateError(ValueError):
    """Text that is none of the four forms, or a day the calendar lacks."""


@functools.total_ordering
@dataclass(frozen=True, eq=True)
class ReportedDate:
    """A day, month, quarter or year a report gives; orders by (first, last)."""

    text: str
    precision: Precision
    first: date
    last: date

    @classmethod
    def parse(cls, text: str) -> ReportedDate:
        """`"2023-Q2"` → 2023-04-01..2023-06-30. Raises ReportedDateError."""
        given = text.strip()
        if found := _DAY.match(given):
            try:
                day = date.fromisoformat(given)
            except ValueError:
                raise ReportedDateError(
                    f"{given} is not a day of the calendar; give {FORMS}"
                ) from None
            return cls.of_day(day)
        if found := _MONTH.match(given):
            year, month = int(found[1]), int(found[2])
            if not 1 <= month <= 12:
                raise ReportedDateError(f"{given}: a month is 01 to 12; give {FORMS}")
            return cls._span(f"{year:04d}-{month:02d}", Precision.month, year, month, month)
        if found := _QUARTER.match(given):
            year, quarter = int(found[1]), int(found[2])
            first_month = 3 * quarter - 2
            return cls._span(
                f"{year:04d}-Q{quarter}", Precision.quarter, year, first_month, first_month + 2
            )
        if found := _YEAR.match(given):
            year = int(found[1])
            return cls._span(f"{year:04d}", Precision.year, year, 1, 12)
        raise ReportedDateError(f"give {FORMS}; {given!r} is none of these")

    @classmethod
    def of_day(cls, day: date) -> ReportedDate:
        return cls(day.isoformat(), Precision.day, day, day)

    @classmethod
    def spanning(cls, first: date, last: date) -> ReportedDate:
        """The day, month, quarter or year that is exactly `first`..`last` (what a view
        row gives back of the interval it stored); an ISO 8601 interval text otherwise."""
        quarter = (first.month + 2) // 3
        year = f"{first.year:04d}"
        for text in (first.isoformat(), f"{year}-{first.month:02d}", f"{year}-Q{quarter}", year):
            candidate = cls.parse(text)
            if (candidate.first, candidate.last) == (first, last):
                return candidate
        return cls(f"{first.isoformat()}/{last.isoformat()}", Precision.unknown, first, last)

    @classmethod
    def _span(
        cls, text: str, precision: Precision, year: int, first_month: int, last_month: int
    ) -> ReportedDate:
        if year < 1:
            raise ReportedDateError(f"{text} is not a year of the calendar; give {FORMS}")
        last_day = calendar.monthrange(year, last_month)[1]
        return cls(text, precision, date(year, first_month, 1), date(year, last_month, last_day))

    @property
    def is_day(self) -> bool:
        return self.precision is Precision.day

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last

    def __str__(self) -> str:
        return self.text

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ReportedDate):
            return NotImplemented
        return (self.first, self.last) < (other.first, other.last)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(
            _validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _as_text, when_used="json"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": REPORTED_DATE_PATTERN,
            "description": "A date as precise as the report: ISO 8601 reduced precision, "
            f"{FORMS}; it means every day of the interval it names.",
            "examples": EXAMPLES,
        }


def _as_text(value: ReportedDate) -> str:
    return value.text


def _validate(value: object, info: ValidationInfo) -> ReportedDate:
    if isinstance(value, ReportedDate):
        reported = value
    elif isinstance(value, date) and not isinstance(value, datetime):
        reported = ReportedDate.of_day(value)
    elif isinstance(value, str):
        try:
            reported = ReportedDate.parse(value)
        except ReportedDateError as refused:
            raise _refusal(str(refused)) from None
    else:
        raise _refusal(f"give {FORMS}, as text")
    if not (isinstance(info.context, Mapping) and info.context.get("stored")):
        _within_the_years(reported)
    return reported


def _within_the_years(reported: ReportedDate) -> None:
    # The window of `moments._reported`: an interval reaching into it is a date a
    # report can speak of ("2036" while the window ends in December 2036).
    latest = latest_reported(utc_now().date())
    if reported.last < EARLIEST_REPORTED or reported.first > latest:
        raise _refusal(
            f"give a date from {EARLIEST_REPORTED} to {latest} (ten years from today); "
            f"{reported.text} is outside the years a report can speak of",
        )


def _refusal(reason: str) -> PydanticCustomError:
    # The reason goes in as context: text a client sent may hold braces.
    return PydanticCustomError("reported_date", "{reason}", {"reason": reason})
