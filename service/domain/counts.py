"""How many people a report speaks of, as said and as honest bounds.

A report rarely gives an exact number. `Count` keeps the words verbatim and
derives bounds by one documented rule per qualifier, so "fewer than 100" never
becomes a false-exact 99 and "hundreds" never becomes 500.
"""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.domain.errors import FieldValueError


class CountQualifier(StrEnum):
    exact = "exact"
    approximately = "approximately"
    at_least = "at_least"
    more_than = "more_than"
    at_most = "at_most"
    fewer_than = "fewer_than"
    range = "range"
    hundreds = "hundreds"
    thousands = "thousands"
    unknown = "unknown"


# (min, best, max) as a function of the stated number; None is an open bound.
# The texts are shown in the API description so a reader can check each rule.
BOUNDS_RULES: dict[CountQualifier, str] = {
    CountQualifier.exact: "exact n → [n, n], best n",
    CountQualifier.approximately: "approximately n → [⌈0.9n⌉, ⌊1.1n⌋], best n",
    CountQualifier.at_least: "at_least n → [n, open], best null",
    CountQualifier.more_than: "more_than n → [n+1, open], best null",
    CountQualifier.at_most: "at_most n → [1, n], best null",
    CountQualifier.fewer_than: "fewer_than n → [1, n−1], best null",
    CountQualifier.range: "range → the client must give min and max",
    CountQualifier.hundreds: "hundreds → [200, 999], best null",
    CountQualifier.thousands: "thousands → [2000, 9999], best null",
    CountQualifier.unknown: "unknown → [1, open], best null",
}

GIVEN = "given"
"""`bounds_rule` when the client stated the bounds itself."""

_NEEDS_NUMBER = {
    CountQualifier.exact,
    CountQualifier.approximately,
    CountQualifier.at_least,
    CountQualifier.more_than,
    CountQualifier.at_most,
    CountQualifier.fewer_than,
}

Bounds = tuple[int, int | None, int | None]


def bounds_by_rule(qualifier: CountQualifier, number: int | None) -> Bounds | None:
    """The (min, best, max) the documented rule gives, or None when it cannot apply."""
    if qualifier in _NEEDS_NUMBER and number is None:
        return None
    n = number or 0
    match qualifier:
        case CountQualifier.exact:
            return (n, n, n)
        case CountQualifier.approximately:
            return (math.ceil(0.9 * n), n, math.floor(1.1 * n))
        case CountQualifier.at_least:
            return (n, None, None)
        case CountQualifier.more_than:
            return (n + 1, None, None)
        case CountQualifier.at_most:
            return (1, None, n)
        case CountQualifier.fewer_than:
            return (1, None, n - 1)
        case CountQualifier.hundreds:
            return (200, None, 999)
        case CountQualifier.thousands:
            return (2000, None, 9999)
        case CountQualifier.unknown:
            return (1, None, None)
        case CountQualifier.range:
            return None


class Count(BaseModel):
    """What the report said ("about 350") and the bounds that honestly follow.

    Give `text`, `qualifier` and, for a qualifier about a number, `number`: the
    server fills `min`/`best`/`max` by the rule for the qualifier and names it in
    `bounds_rule`. Or give the bounds yourself (`bounds_rule` is then `given`).
    An open bound is `null`.
    """

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=500, examples=["about 350"])
    qualifier: CountQualifier
    # Strict: a count is a whole number as JSON writes one; `true`, `"350"` or `3.5` is a
    # slip a lax parser would record as 1, 350 or 3.
    number: int | None = Field(default=None, ge=0, le=100_000_000, strict=True)
    min: int | None = Field(default=None, ge=0, le=100_000_000, strict=True)
    best: int | None = Field(default=None, ge=0, le=100_000_000, strict=True)
    max: int | None = Field(default=None, ge=0, le=100_000_000, strict=True)
    bounds_rule: str | None = Field(
        default=None,
        description="Set by the server: the qualifier whose rule filled the bounds, or `given`.",
    )

    @model_validator(mode="after")
    def _fill_and_check_bounds(self) -> Count:
        given = self.min is not None or self.best is not None or self.max is not None
        ruled = bounds_by_rule(self.qualifier, self.number)
        if not given:
            if ruled is None:
                field = "min" if self.qualifier is CountQualifier.range else "number"
                needs = "`min` and `max`" if field == "min" else "a `number`"
                raise FieldValueError(
                    field, f"the qualifier {self.qualifier.value!r} needs {needs}"
                )
            self.min, self.best, self.max = ruled
        if self.min is None:
            raise FieldValueError("min", "give the lower bound when giving bounds")
        if self.qualifier is CountQualifier.range and self.max is None:
            raise FieldValueError("max", "a range needs an upper bound")
        if self.max is not None and self.min > self.max:
            raise FieldValueError("min", f"min {self.min} is greater than max {self.max}")
        if self.best is not None and not (
            self.min <= self.best and (self.max is None or self.best <= self.max)
        ):
            raise FieldValueError("best", f"best {self.best} is outside [min, max]")
        rule_matches = ruled is not None and ruled == (self.min, self.best, self.max)
        self.bounds_rule = self.qualifier.value if rule_matches else GIVEN
        return self
