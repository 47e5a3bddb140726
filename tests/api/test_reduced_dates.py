"""Dates as precise as the report (DESIGN §1b): a source, a stock or a rate may give a
month, a quarter or a year, or (a stock) no date at all, and each means the interval it
names; a day means exactly what it meant before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import SOURCE_ID, dispatch_body, source_body

Headers = dict[str, str]


def post(client: TestClient, headers: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    recorded: dict[str, Any] = response.json()
    return recorded


def refused(client: TestClient, headers: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 422, response.text
    problem: dict[str, Any] = response.json()
    return problem


def stock(n: int, as_of: str | None, source_id: str = SOURCE_ID) -> dict[str, Any]:
    data: dict[str, Any] = {
        "place": {"name": "Russia"},
        "count": {"text": str(n), "qualifier": "exact", "number": n},
        "affiliation": "civilian",
    }
    if as_of is not None:
        data["as_of"] = as_of
    return {
        "type": "workforce.estimated",
        "provenance": {"source_id": source_id, "locator": f"About {n} are in Russia."},
        "data": data,
    }


def dispatch(n: int, start: str, source_id: str = SOURCE_ID) -> dict[str, Any]:
    count = {"text": str(n), "qualifier": "exact", "number": n}
    return dispatch_body(source_id, destinations=["Moscow"], count=count, period={"start": start})


def rate(as_of: str, rate: str = "0.0125") -> dict[str, Any]:
    return {
        "type": "fx.rate_reported",
        "provenance": {"source_id": SOURCE_ID, "locator": "the rouble"},
        "data": {"base": "RUB", "quote": "USD", "rate": rate, "as_of": as_of},
    }


def quota(start: str) -> dict[str, Any]:
    return {
        "type": "remittance.quota_reported",
        "provenance": {"source_id": SOURCE_ID, "locator": "each must send 80,000 roubles"},
        "data": {
            "affiliation": "civilian",
            "amount": {"amount": "80000", "currency": "RUB"},
            "period": {"start": start},
        },
    }


def russia(client: TestClient, **params: str) -> dict[str, Any]:
    view = client.get("/v1/deployments", params={"group_by": "country", **params}).json()
    empty = {"estimated_present": None, "estimate_as_of": None}  # no row: nothing by then
    found: dict[str, Any] = next((row for row in view["rows"] if row["country"] == "RU"), empty)
    return found


def latest_stock(client: TestClient, **params: str) -> dict[str, Any]:
    view = client.get("/v1/estimates", params=params).json()
    found: dict[str, Any] = next(row for row in view["latest"] if row["place_id"] == "ru")
    return found


def best(range_: dict[str, Any] | None) -> int | None:
    return None if range_ is None else int(range_["best"])


@pytest.fixture
def sourced(client: TestClient, writer: Headers) -> Headers:
    post(client, writer, source_body(published_on="2023-06-15"))
    return writer


@pytest.mark.parametrize("published_on", ["2023-05-03", "2023-05", "2023-Q2", "2023"])
def test_a_source_keeps_its_date_as_precise_as_it_was_given(
    client: TestClient, writer: Headers, published_on: str
) -> None:
    event = post(client, writer, source_body(published_on=published_on))["events"][0]
    assert client.get(f"/v1/events/{event['id']}").json()["data"]["published_on"] == published_on
    listed = client.get("/v1/sources").json()["sources"][0]
    assert listed["data"]["published_on"] == published_on


@pytest.mark.parametrize(
    ("pointer", "body", "says"),
    [
        ("/data/published_on", source_body(published_on="May 2023"), "'May 2023' is none"),
        (
            "/data/original/published_on",
            source_body(original={"published_on": "2023-13", "language": "ko"}),
            "a month is 01 to 12",
        ),
        ("/data/as_of", stock(1000, "2023-Q5"), "'2023-Q5' is none"),
        ("/data/as_of", stock(1000, "1900"), "outside the years a report can speak of"),
        ("/data/as_of", rate("20230501"), "'20230501' is none"),
    ],
)
def test_a_date_of_no_known_form_is_a_422_naming_the_field_and_the_forms(
    client: TestClient, sourced: Headers, pointer: str, body: dict[str, Any], says: str
) -> None:
    problem = refused(client, sourced, body)
    assert problem["type"] == "/problems/validation-error"
    error = problem["errors"][0]
    assert error["pointer"] == pointer
    assert says in str(error)
    if "outside" not in says:
        assert "a day 2023-05-03, a month 2023-05, a quarter 2023-Q2 or a year 2023" in str(error)


def test_a_stock_of_a_quarter_counts_from_its_first_day_and_adds_flows_after_its_last(
    client: TestClient, sourced: Headers
) -> None:
    # given 1,000 in Russia "in the first quarter of 2023", and dispatches in and after it
    post(client, sourced, stock(1000, "2023-Q1"))
    post(client, sourced, dispatch(100, "2023-02-10"))  # may be in the stock already
    post(client, sourced, dispatch(50, "2023-04-02"))  # after it: added
    # then the stock counts from 1 January, and only the April dispatch is added to it
    assert russia(client, as_of="2022-12-31")["estimated_present"] is None
    assert best(russia(client, as_of="2023-01-01")["estimated_present"]) == 1000
    assert best(russia(client, as_of="2023-03-31")["estimated_present"]) == 1000
    assert best(russia(client)["estimated_present"]) == 1050
    assert russia(client)["estimate_as_of"] == "2023-Q1"
    # and /v1/estimates shows the stock as reported, with the day it counts from
    latest = latest_stock(client)
    assert (latest["latest"]["as_of"], latest["latest"]["counts_from"]) == ("2023-Q1", "2023-01-01")
    assert best(latest["estimated_present"]) == 1050


def test_of_a_month_and_a_day_of_it_the_later_ending_stock_is_the_latest(
    client: TestClient, sourced: Headers
) -> None:
    # given "1,000 in May 2023" and "900 on 1 May 2023", and a dispatch in mid-May
    post(client, sourced, stock(1000, "2023-05"))
    post(client, sourced, stock(900, "2023-05-01"))
    post(client, sourced, dispatch(40, "2023-05-15"))
    # both begin on 1 May; the month ends later: it is the latest, and holds the dispatch
    assert best(russia(client)["estimated_present"]) == 1000
    assert best(latest_stock(client)["estimated_present"]) == 1000
    assert latest_stock(client)["latest"]["as_of"] == "2023-05"


def test_a_stock_of_unknown_date_counts_from_its_sources_publication(
    client: TestClient, sourced: Headers
) -> None:
    # given a source published on 2023-06-15 reporting "about 1,000 in Russia", no date
    event = post(client, sourced, stock(1000, None))["events"][0]
    assert client.get(f"/v1/events/{event['id']}").json()["data"]["as_of"] is None
    post(client, sourced, dispatch(100, "2023-06-01"))  # before the report: in the stock
    post(client, sourced, dispatch(30, "2023-07-01"))  # after it: added
    # then it counts from the publication date, and only the later dispatch is added
    assert russia(client, as_of="2023-06-14")["estimated_present"] is None
    assert best(russia(client)["estimated_present"]) == 1030
    assert russia(client)["estimate_as_of"] == "2023-06-15"
    latest = latest_stock(client)
    assert (latest["latest"]["as_of"], latest["latest"]["counts_from"]) == (None, "2023-06-15")
    assert best(latest["estimated_present"]) == 1030


def test_a_stock_of_unknown_date_moves_with_a_correction_of_its_sources_date(
    client: TestClient, writer: Headers, corrector: Headers
) -> None:
    # given a source of June 2023 (its last day: 30 June) and a stock it gives no date
    source = post(client, writer, source_body(published_on="2023-06"))["events"][0]
    post(client, writer, stock(1000, None))
    post(client, writer, dispatch(30, "2023-06-20"))
    assert best(russia(client)["estimated_present"]) == 1000  # June is in the stock
    # when the source's date is corrected to May 2023
    correction = {
        "type": "fact.corrected",
        "provenance": {"source_id": SOURCE_ID, "locator": "editor's note"},
        "data": {
            "target_event_id": source["id"],
            "reason": "the report is of May",
            "replacement": source_body(published_on="2023-05")["data"],
        },
    }
    post(client, corrector, correction)
    # then the stock counts from 31 May, and the June dispatch is added to it
    assert russia(client)["estimate_as_of"] == "2023-05-31"
    assert best(russia(client)["estimated_present"]) == 1030
    assert best(latest_stock(client)["estimated_present"]) == 1030


def test_a_stock_of_unknown_date_from_an_undated_source_counts_from_the_day_recorded(
    client: TestClient, writer: Headers
) -> None:
    post(client, writer, source_body())  # no publication date
    post(client, writer, stock(1000, None))
    today = datetime.now(UTC).date().isoformat()
    assert russia(client)["estimate_as_of"] == today
    assert latest_stock(client)["latest"]["counts_from"] == today
    assert best(latest_stock(client)["estimated_present"]) == 1000


def test_a_quota_is_converted_at_a_months_rate_and_the_row_says_so(
    client: TestClient, sourced: Headers
) -> None:
    # given a rate "in May 2023" and a quota from 10 May
    post(client, sourced, rate("2023-05"))
    post(client, sourced, quota("2023-05-10"))
    row = client.get("/v1/remittances").json()["quotas"][0]
    # then the May rate is used, and the note says it may be of a later day
    assert row["usd"] == "1000.00"
    assert row["usd_rate"]["as_of"] == "2023-05"
    assert "2023-05 as a whole (month)" in row["rate_note"]
    assert "may be of a day after" in row["rate_note"]


def test_a_day_rate_beginning_later_than_a_years_is_the_nearest_earlier(
    client: TestClient, sourced: Headers
) -> None:
    # given a rate of 2023 as a whole and one of 2 May 2023, and a quota from 10 May
    post(client, sourced, rate("2023", "0.0100"))
    post(client, sourced, rate("2023-05-02"))
    post(client, sourced, quota("2023-05-10"))
    row = client.get("/v1/remittances").json()["quotas"][0]
    assert (row["usd_rate"]["as_of"], row["usd"], row["rate_note"]) == (
        "2023-05-02",
        "1000.00",
        None,
    )


def test_a_years_rate_wholly_before_the_quota_is_used_and_named(
    client: TestClient, sourced: Headers
) -> None:
    post(client, sourced, rate("2022"))
    post(client, sourced, quota("2023-05-10"))
    row = client.get("/v1/remittances").json()["quotas"][0]
    assert row["usd_rate"]["as_of"] == "2022"
    assert row["rate_note"] == (
        "Converted at a rate reported for 2022 as a whole (year), the nearest reported "
        "before the quota's date (2023-05-10)."
    )
    # and a rate of a later quarter is not of a date the view can use on an earlier as_of
    post(client, sourced, rate("2023-Q3", "0.0200"))
    earlier = client.get("/v1/remittances", params={"as_of": "2023-06-30"}).json()["quotas"][0]
    assert earlier["usd_rate"]["as_of"] == "2022"


def recorded_period(client: TestClient, headers: Headers, period: dict[str, Any]) -> Any:
    body = dispatch_body(destinations=["Moscow"], period=period)
    event = post(client, headers, body)["events"][0]
    return client.get(f"/v1/events/{event['id']}").json()["data"]["period"]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ({"start": "2023-05"}, {"start": "2023-05-01", "end": None, "precision": "month"}),
        (
            {"start": "2023-Q1", "end": "2023"},
            {"start": "2023-01-01", "end": "2023-12-31", "precision": "year"},
        ),
        ({"end": "2024-02"}, {"start": None, "end": "2024-02-29", "precision": "month"}),
        (
            {"start": "2023-05-03", "end": "2023-Q3"},
            {"start": "2023-05-03", "end": "2023-09-30", "precision": "quarter"},
        ),
        # a precision sent is kept; a day-precision body means what it always meant
        (
            {"start": "2023-05", "precision": "day"},
            {"start": "2023-05-01", "end": None, "precision": "day"},
        ),
        (
            {"start": "2023-03-20", "end": "2023-04-10"},
            {"start": "2023-03-20", "end": "2023-04-10", "precision": "day"},
        ),
    ],
)
def test_a_period_given_as_a_month_quarter_or_year_is_stored_as_the_days_it_covers(
    client: TestClient, sourced: Headers, sent: dict[str, Any], stored: dict[str, Any]
) -> None:
    period = recorded_period(client, sourced, sent)
    assert {k: period[k] for k in ("start", "end", "precision")} == stored


def test_a_dispatch_of_a_month_counts_from_its_first_day(
    client: TestClient, sourced: Headers
) -> None:
    post(client, sourced, dispatch(70, "2023-05"))
    assert "RU" not in {
        r["country"]
        for r in client.get(
            "/v1/deployments", params={"group_by": "country", "as_of": "2023-04-30"}
        ).json()["rows"]
    }
    assert russia(client, as_of="2023-05-01")["dispatched"]["best"] == 70


@pytest.mark.parametrize(
    ("period", "pointer", "says"),
    [
        ({"start": "2023-13"}, "/data/period/start", "a month is 01 to 12"),
        ({"end": "spring 2023"}, "/data/period/end", "is none of these"),
        ({"start": "2023", "end": "2022-12"}, "/data/period/end", "is before start"),
        ({"start": "1900"}, "/data/period/start", "outside the years"),
    ],
)
def test_a_period_bound_of_no_known_form_is_a_422_naming_it(
    client: TestClient, sourced: Headers, period: dict[str, Any], pointer: str, says: str
) -> None:
    problem = refused(client, sourced, dispatch_body(destinations=["Moscow"], period=period))
    error = problem["errors"][0]
    assert (error["pointer"], says in error["message"]) == (pointer, True)


def test_the_events_behind_a_row_on_a_date_include_a_stock_of_unknown_date_by_then(
    client: TestClient, sourced: Headers
) -> None:
    # given a stock with no date, of a source published on 2023-06-15
    event_id = post(client, sourced, stock(1000, None))["events"][0]["id"]

    def behind(as_of: str) -> list[str]:
        params = {"country": "RU", "as_of": as_of}
        events = client.get("/v1/deployments/events", params=params).json()["events"]
        return [e["id"] for e in events]

    # then it is behind Russia's row from the day it counts from, and not before
    assert behind("2023-06-15") == [event_id]
    assert behind("2023-06-14") == []
