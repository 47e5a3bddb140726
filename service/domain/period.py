"""When a reported fact happened — never the date it was published."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from service.domain.dates import (
    EXAMPLES,
    FORMS,
    PRECISION_ORDER,
    REPORTED_DATE_PATTERN,
    Precision,
    ReportedDate,
    ReportedDateError,
)
from service.domain.errors import FieldValueError
from service.domain.moments import ReportedDay

__all__ = ["Period", "Precision"]

_DAY_LENGTH = len("2023-05-03")


def _reduced(value: object) -> ReportedDate | None:
    """A month, quarter or year written as text; None for anything else (a day, a date)."""
    if not isinstance(value, str) or len(value.strip()) == _DAY_LENGTH:
        return None
    try:
        return ReportedDate.parse(value)
    except ReportedDateError as refused:
        raise ValueError(str(refused)) from None


def _to_day(pick: Callable[[ReportedDate], date]) -> Callable[[object], object]:
    def normalised(value: object) -> object:
        reduced = _reduced(value)
        return value if reduced is None else pick(reduced)

    return normalised


def _bound_schema(which: str, example: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "type": "string",
            "pattern": REPORTED_DATE_PATTERN,
            "description": f"A day, or as precise as the report: {FORMS}. A month, quarter "
            f"or year is read as its {which} day.",
            "examples": [example, *EXAMPLES[1:]],
        }
    )


PeriodStart = Annotated[
    ReportedDay,
    BeforeValidator(_to_day(lambda reported: reported.first)),
    _bound_schema("first", "2023-03-20"),
]
"""A period's start: a day, or a month, quarter or year, read as its first day."""
PeriodEnd = Annotated[
    ReportedDay,
    BeforeValidator(_to_day(lambda reported: reported.last)),
    _bound_schema("last", "2023-04-10"),
]
"""A period's end: a day, or a month, quarter or year, read as its last day."""


def _coarsest(values: list[object]) -> Precision | None:
    """The coarsest precision of the reduced dates among `values` (None: all days)."""
    try:
        given = [reduced.precision for v in values if (reduced := _reduced(v)) is not None]
    except ValueError:  # the field says why, where it is
        return None
    return max(given, key=PRECISION_ORDER.index, default=None)


class Period(BaseModel):
    """`from late March to early April` → start 2023-03-20, end 2023-04-10, words kept.

    `start` may be omitted when a report only says by when something had
    happened; `end` is then required. Either may be given as precisely as the report
    gives it (`{"start": "2023-Q1", "end": "2023"}`): it is stored as days, a start as the
    first day of its interval and an end as the last, with the coarsest precision given
    unless `precision` is sent. A period with no date at all ("will be sent",
    no date given) is `precision: unknown`, which is what a period sent without a
    date and without a precision means; whether a fact may be undated is its own
    rule (only a plan may: see `WorkersDispatched`).
    """

    model_config = ConfigDict(extra="forbid")

    start: PeriodStart | None = None
    end: PeriodEnd | None = None
    precision: Precision = Precision.day
    text: str | None = Field(
        default=None, max_length=500, examples=["from late March to early April"]
    )

    @model_validator(mode="before")
    @classmethod
    def _undated_is_unknown(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "precision" in data:
            return data
        if data.get("start") is None and data.get("end") is None:
            return {**data, "precision": Precision.unknown.value}
        if (coarsest := _coarsest([data.get("start"), data.get("end")])) is not None:
            return {**data, "precision": coarsest.value}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        undated = self.start is None and self.end is None
        if undated and self.precision is not Precision.unknown:
            raise FieldValueError(
                "start", "give a start or an end date (or precision unknown: no date at all)"
            )
        if not undated and self.precision is Precision.unknown:
            raise FieldValueError("precision", "precision unknown is a period with no date")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise FieldValueError("end", f"end {self.end} is before start {self.start}")
        return self

    @property
    def dated(self) -> bool:
        return self.start is not None or self.end is not None

    @property
    def effective_start(self) -> date | None:
        """The date a fact counts from in `as_of` queries (none for an undated period)."""
        return self.start or self.end
