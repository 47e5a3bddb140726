"""When a reported fact happened — never the date it was published."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.domain.dates import Precision
from service.domain.errors import FieldValueError
from service.domain.moments import ReportedDay

__all__ = ["Period", "Precision"]


class Period(BaseModel):
    """`from late March to early April` → start 2023-03-20, end 2023-04-10, words kept.

    `start` may be omitted when a report only says by when something had
    happened; `end` is then required. A period with no date at all ("will be sent",
    no date given) is `precision: unknown`, which is what a period sent without a
    date and without a precision means; whether a fact may be undated is its own
    rule (only a plan may: see `WorkersDispatched`).
    """

    model_config = ConfigDict(extra="forbid")

    start: ReportedDay | None = Field(default=None, examples=["2023-03-20"])
    end: ReportedDay | None = Field(default=None, examples=["2023-04-10"])
    precision: Precision = Precision.day
    text: str | None = Field(
        default=None, max_length=500, examples=["from late March to early April"]
    )

    @model_validator(mode="before")
    @classmethod
    def _undated_is_unknown(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and data.get("start") is None
            and data.get("end") is None
            and "precision" not in data
        ):
            return {**data, "precision": Precision.unknown.value}
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
