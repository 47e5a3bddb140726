"""Dates and times as a client writes them: ISO 8601 text, nothing else.

Pydantic's lax mode would also read a number as a Unix timestamp (`0` is
1970-01-01, `"0.5"` half a second later), which the OpenAPI document does not
promise and no reporter means; and a time without a UTC offset cannot be
compared with the log's UTC times. These types refuse both, with a message
that shows the form to use.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

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
