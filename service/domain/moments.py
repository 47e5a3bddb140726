"""Dates and times as a client writes them: ISO 8601 text, nothing else.

Pydantic's lax mode would also read a number as a Unix timestamp (`0` is
1970-01-01, `"0.5"` half a second later), which the OpenAPI document does not
promise and no reporter means; and a time without a UTC offset cannot be
compared with the log's UTC times. These types refuse both, with a message
that shows the form to use.

A date a report gives (`ReportedDay`, `ReportedMoment`) lies between 1945, when
Korea was divided, and ten years from today: year 1 or 9999 is a typing slip,
not a fact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ValidationInfo

from service.domain.clock import utc_now

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _datetime_text(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATETIME.match(value)):
        return value
    raise ValueError("give a date and time with a UTC offset, e.g. 2023-06-01T00:00:00Z")


def _date_text(value: object) -> object:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("give a date as YYYY-MM-DD, e.g. 2023-04-15")


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first UTC day
        raise ValueError("the date and time is out of range") from None


Timestamp = Annotated[AwareDatetime, BeforeValidator(_datetime_text), AfterValidator(_in_utc)]
"""An ISO 8601 date-time with its UTC offset, e.g. `2023-06-01T00:00:00Z`; given back in UTC."""

Day = Annotated[date, BeforeValidator(_date_text)]
"""An ISO 8601 calendar date, e.g. `2023-04-15`."""


EARLIEST_REPORTED = date(1945, 1, 1)
"""The first day a reported date may be: the division of Korea."""
YEARS_AHEAD = 10
"""How far ahead of today a reported date may be (a plan's, an announcement's)."""
STORED: Mapping[str, bool] = {"stored": True}
"""The validation context of a payload read back from the log: it was checked on the
way in, by the rules of its day, and is read as it was recorded (a window that moved,
or a rule that came later, never makes the log unreadable)."""

_Moment = TypeVar("_Moment", date, datetime)


def latest_reported(today: date) -> date:
    """The last day a reported date may be: ten years from `today`."""
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February, ten years on, is not always a day
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def _reported(value: _Moment, info: ValidationInfo) -> _Moment:
    if isinstance(info.context, Mapping) and info.context.get("stored"):
        return value
    day = value.date() if isinstance(value, datetime) else value
    latest = latest_reported(utc_now().date())
    if not EARLIEST_REPORTED <= day <= latest:
        raise ValueError(
            f"give a date from {EARLIEST_REPORTED} to {latest} (ten years from today); "
            f"{day} is outside the years a report can speak of"
        )
    return value


ReportedDay = Annotated[date, AfterValidator(_reported)]
"""A date a report gives, e.g. `2023-04-15`: from 1945-01-01 to ten years from today."""

ReportedMoment = Annotated[datetime, AfterValidator(_reported)]
"""A date and time of a report (when it was retrieved), within the same years."""
