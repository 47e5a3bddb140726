"""The count rules of DESIGN §1: what a report said, and the honest bounds that follow."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from service.domain.counts import BOUNDS_RULES, GIVEN, Count, CountQualifier
from service.domain.errors import FieldValueError


def count(qualifier: str, **fields: Any) -> Count:
    return Count.model_validate({"text": f"{qualifier} words", "qualifier": qualifier, **fields})


def bounds(c: Count) -> tuple[int | None, int | None, int | None]:
    return (c.min, c.best, c.max)


def refused_field(qualifier: str, **fields: Any) -> str:
    """The field a refused count names (as the problem response will)."""
    with pytest.raises(ValidationError) as refused:
        count(qualifier, **fields)
    cause = (refused.value.errors()[0].get("ctx") or {}).get("error")
    if isinstance(cause, FieldValueError):
        return cause.field
    return ".".join(str(p) for p in refused.value.errors()[0]["loc"])


def test_exact_n_is_n_to_n_with_best_n() -> None:
    c = count("exact", number=42)
    assert bounds(c) == (42, 42, 42)
    assert c.bounds_rule == "exact"


@pytest.mark.parametrize(
    ("number", "expected"),
    [(350, (315, 350, 385)), (7, (7, 7, 7)), (10, (9, 10, 11)), (1, (1, 1, 1))],
)
def test_approximately_n_rounds_the_lower_bound_up_and_the_upper_bound_down(
    number: int, expected: tuple[int, int, int]
) -> None:
    c = count("approximately", number=number)
    assert bounds(c) == expected
    assert c.bounds_rule == "approximately"


def test_at_least_n_has_an_open_upper_bound_and_no_best() -> None:
    c = count("at_least", number=300)
    assert bounds(c) == (300, None, None)
    assert c.bounds_rule == "at_least"


def test_more_than_n_starts_at_n_plus_one() -> None:
    c = count("more_than", number=300)
    assert bounds(c) == (301, None, None)
    assert c.bounds_rule == "more_than"


def test_at_most_n_is_one_to_n() -> None:
    c = count("at_most", number=50)
    assert bounds(c) == (1, None, 50)
    assert c.bounds_rule == "at_most"


def test_fewer_than_n_is_one_to_n_minus_one_never_a_false_exact_number() -> None:
    c = count("fewer_than", number=100)
    assert bounds(c) == (1, None, 99)
    assert c.bounds_rule == "fewer_than"


def test_range_takes_the_bounds_the_client_gives() -> None:
    c = count("range", min=200, max=300)
    assert bounds(c) == (200, None, 300)
    assert c.bounds_rule == GIVEN


def test_range_without_bounds_is_refused_naming_min() -> None:
    assert refused_field("range", number=250) == "min"


def test_range_without_an_upper_bound_is_refused_naming_max() -> None:
    assert refused_field("range", min=200) == "max"


def test_hundreds_is_two_hundred_to_nine_hundred_ninety_nine() -> None:
    c = count("hundreds")
    assert bounds(c) == (200, None, 999)
    assert c.bounds_rule == "hundreds"


def test_thousands_is_two_thousand_to_nine_thousand_nine_hundred_ninety_nine() -> None:
    c = count("thousands")
    assert bounds(c) == (2000, None, 9999)
    assert c.bounds_rule == "thousands"


def test_unknown_is_at_least_one_with_no_upper_bound() -> None:
    c = count("unknown")
    assert bounds(c) == (1, None, None)
    assert c.bounds_rule == "unknown"


@pytest.mark.parametrize(
    "qualifier", ["exact", "approximately", "at_least", "more_than", "at_most", "fewer_than"]
)
def test_a_qualifier_about_a_number_without_the_number_is_refused(qualifier: str) -> None:
    assert refused_field(qualifier) == "number"


def test_every_qualifier_has_a_documented_rule() -> None:
    assert set(BOUNDS_RULES) == set(CountQualifier)


def test_bounds_the_client_gives_are_kept_and_marked_given() -> None:
    c = count("approximately", number=350, min=300, best=350, max=400)
    assert bounds(c) == (300, 350, 400)
    assert c.bounds_rule == GIVEN


def test_bounds_the_client_gives_that_equal_the_rule_name_the_rule() -> None:
    c = count("approximately", number=350, min=315, best=350, max=385)
    assert c.bounds_rule == "approximately"


def test_min_above_max_is_refused_naming_min() -> None:
    assert refused_field("range", min=400, max=300) == "min"


@pytest.mark.parametrize(("best", "field"), [(100, "best"), (500, "best")])
def test_best_outside_min_max_is_refused_naming_best(best: int, field: str) -> None:
    assert refused_field("range", min=200, best=best, max=300) == field


def test_best_above_min_with_open_max_is_accepted() -> None:
    c = count("at_least", number=300, min=300, best=320)
    assert bounds(c) == (300, 320, None)


def test_bounds_without_a_lower_bound_are_refused_naming_min() -> None:
    assert refused_field("at_most", number=50, max=50) == "min"


@pytest.mark.parametrize("field", ["number", "min", "best", "max"])
def test_negative_numbers_are_refused(field: str) -> None:
    fields: dict[str, Any] = {"number": 5, field: -1}
    assert refused_field("exact", **fields) == field


def test_fewer_than_one_is_refused_because_a_dispatch_moved_at_least_one_person() -> None:
    # The rule gives [1, 0]: min above max.
    assert refused_field("fewer_than", number=1) == "min"


def test_a_count_keeps_the_reports_words_verbatim() -> None:
    c = Count.model_validate({"text": "약 350명", "qualifier": "approximately", "number": 350})
    assert c.text == "약 350명"


def test_unknown_fields_in_a_count_are_refused() -> None:
    assert refused_field("exact", number=5, guess=6) == "guess"
