"""A date as precise as the report: a day, a month, a quarter or a year, meaning every
day of the interval it names (DESIGN §1b)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from service.domain.dates import ReportedDate
from service.domain.events import EventType
from service.domain.moments import STORED, latest_reported
from service.domain.period import Precision
from service.domain.readers import figures_of, read_figures, read_payload


class Dated(BaseModel):
    on: ReportedDate | None = None


def dated(value: object) -> ReportedDate | None:
    return Dated.model_validate({"on": value}).on


@pytest.mark.parametrize(
    ("text", "precision", "first", "last"),
    [
        ("2023-05-03", Precision.day, date(2023, 5, 3), date(2023, 5, 3)),
        ("2023-05", Precision.month, date(2023, 5, 1), date(2023, 5, 31)),
        ("2023-04", Precision.month, date(2023, 4, 1), date(2023, 4, 30)),
        ("2024-02", Precision.month, date(2024, 2, 1), date(2024, 2, 29)),
        ("2023-02", Precision.month, date(2023, 2, 1), date(2023, 2, 28)),
        ("2000-02", Precision.month, date(2000, 2, 1), date(2000, 2, 29)),
        ("2023-Q1", Precision.quarter, date(2023, 1, 1), date(2023, 3, 31)),
        ("2023-Q2", Precision.quarter, date(2023, 4, 1), date(2023, 6, 30)),
        ("2023-Q4", Precision.quarter, date(2023, 10, 1), date(2023, 12, 31)),
        ("2023", Precision.year, date(2023, 1, 1), date(2023, 12, 31)),
    ],
)
def test_a_reported_date_covers_every_day_of_what_it_names(
    text: str, precision: Precision, first: date, last: date
) -> None:
    assert dated(text) == ReportedDate(text, precision, first, last)


def test_a_quarter_written_in_lower_case_is_kept_in_upper_case() -> None:
    reported = dated(" 2023-q3 ")
    assert reported is not None and reported.text == "2023-Q3"
    assert Dated(on=reported).model_dump_json() == '{"on":"2023-Q3"}'


def test_a_date_object_is_a_day() -> None:
    assert dated(date(2023, 5, 3)) == ReportedDate.parse("2023-05-03")


def test_unknown_is_null() -> None:
    assert dated(None) is None
    assert Dated().model_dump_json() == '{"on":null}'


@pytest.mark.parametrize("text", ["2023-05-03", "2023-05", "2023-Q2", "2023"])
def test_json_gives_back_the_text_as_written(text: str) -> None:
    assert Dated.model_validate_json(f'{{"on":"{text}"}}').model_dump_json() == (
        f'{{"on":"{text}"}}'
    )


def test_dates_order_by_their_first_then_their_last_day() -> None:
    texts = ["2023", "2023-05-03", "2023-Q2", "2023-04", "2022-12-31", "2023-Q4", "2023-04-01"]
    ordered = [d.text for d in sorted(ReportedDate.parse(t) for t in texts)]
    assert ordered == [
        "2022-12-31",
        "2023",
        "2023-04-01",
        "2023-04",
        "2023-Q2",
        "2023-05-03",
        "2023-Q4",
    ]
    # a day, its month and its quarter begin together: the one that ends first comes first
    assert ReportedDate.parse("2023-04-01") < ReportedDate.parse("2023-04")
    assert ReportedDate.parse("2023-04") < ReportedDate.parse("2023-Q2")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("May 2023", "'May 2023' is none of these"),
        ("2023-13", "a month is 01 to 12"),
        ("2023-02-30", "2023-02-30 is not a day of the calendar"),
        ("2023-Q5", "is none of these"),
        ("2023-5", "is none of these"),
        ("23", "is none of these"),
        ("", "is none of these"),
        ("2023-05-03T00:00:00Z", "is none of these"),
        (20230503, "as text"),
        (True, "as text"),
    ],
)
def test_text_of_no_known_form_is_refused_showing_the_four_forms(value: object, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        dated(value)
    message = refused.value.errors()[0]["msg"]
    assert says in message
    assert "a day 2023-05-03, a month 2023-05, a quarter 2023-Q2 or a year 2023" in message


@pytest.mark.parametrize("text", ["1944", "1944-12", "1944-Q4", "1944-12-31", "9999"])
def test_a_date_outside_the_years_a_report_can_speak_of_is_refused(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        dated(text)
    assert "outside the years a report can speak of" in refused.value.errors()[0]["msg"]


def test_a_year_reaching_into_the_window_is_accepted() -> None:
    # the window ends ten years from today; that year, named whole, begins inside it
    latest = latest_reported(date.today())
    assert dated(str(latest.year)) is not None
    assert dated("1945") is not None


def test_a_stored_date_is_read_as_recorded_whatever_its_year() -> None:
    stored = Dated.model_validate({"on": "0001"}, context=STORED).on
    assert stored is not None and stored.first == date(1, 1, 1)


def test_the_json_schema_is_a_string_with_its_forms() -> None:
    schema = Dated.model_json_schema()["properties"]["on"]["anyOf"]
    text, null = schema
    assert null == {"type": "null"}
    assert text["type"] == "string"
    assert text["examples"] == ["2023-05-03", "2023-05", "2023-Q2", "2023"]
    assert "reduced precision" in text["description"]
    pattern = re.compile(text["pattern"])
    assert all(pattern.match(t) for t in text["examples"])
    assert not pattern.match("May 2023")


@pytest.mark.parametrize("as_of", ["2023-04-28", "2023-04", "2023-Q2", "2023", None])
def test_a_replay_reads_a_stocks_interval_as_its_model_does(as_of: str | None) -> None:
    stored = {
        "place": {"name": "Russia", "place_id": "ru", "country": "RU"},
        "count": {"text": "about 20,000", "qualifier": "approximately", "number": 20000},
        "affiliation": "unknown",
        "as_of": as_of,
    }
    kind = EventType.workforce_estimated.value
    read = read_figures(kind, 1, stored)
    assert read == figures_of(read_payload(kind, 1, stored))
    reported = None if as_of is None else ReportedDate.parse(as_of)
    assert read is not None
    assert (read.start, read.end) == ((reported.first, reported.last) if reported else (None, None))
