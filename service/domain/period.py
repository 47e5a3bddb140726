"""When a reported fact happened — never the date it was published."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.domain.errors import FieldValueError


class Precision(StrEnum):
    day = "day"
    month = "month"
    quarter = "quarter"
    year = "year"


class Period(BaseModel):
    """`from late March to early April` → start 2023-03-20, end 2023-04-10, words kept.

    `start` may be omitted when a report only says by when something had
    happened; `end` is then required.
    """

    model_config = ConfigDict(extra="forbid")

    start: date | None = Field(default=None, examples=["2023-03-20"])
    end: date | None = Field(default=None, examples=["2023-04-10"])
    precision: Precision = Precision.day
    text: str | None = Field(
        default=None, max_length=500, examples=["from late March to early April"]
    )

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.start is None and self.end is None:
            raise FieldValueError("start", "give a start or an end date")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise FieldValueError("end", f"end {self.end} is before start {self.start}")
        return self

    @property
    def effective_start(self) -> date:
        """The date a fact counts from in `as_of` queries."""
        start = self.start or self.end
        assert start is not None  # guaranteed by the validator
        return start
