"""Wages (DESIGN §1b): pay per worker as reported, promised or paid, per hour, day, month,
year or once, in USD at the reported rates; a wage is not a remittance. And the quotas'
new `per` values and `sector`, shown as reported."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import SOURCE_ID, meta_body, source_body

Headers = dict[str, str]


def wage_body(
    amount: str = "500", currency: str = "USD", per: str = "month", **data: Any
) -> dict[str, Any]:
    return {
        "type": "wage.reported",
        "provenance": {
            "source_id": SOURCE_ID,
            "locator": "They were promised USD 500 a month.",
            "reporting_basis": "anonymous_source_in_country",
        },
        "data": {
            "amount": {"amount": amount, "currency": currency},
            "per": per,
            "basis": "promised",
            "sector": "construction",
            "places": [{"name": "Vladivostok"}],
            **data,
        },
    }


def rate_body(rate: str = "0.0125", as_of: str = "2023-05-03") -> dict[str, Any]:
    return {
        "type": "fx.rate_reported",
        "provenance": {"source_id": SOURCE_ID, "locator": "RUB 100 = USD 1.25"},
        "data": {"base": "RUB", "quote": "USD", "rate": rate, "as_of": as_of},
    }


def quota_body(per: str = "month", **data: Any) -> dict[str, Any]:
    return {
        "type": "remittance.quota_reported",
        "provenance": {"source_id": SOURCE_ID, "locator": "each must send RUB 45,000"},
        "data": {
            "affiliation": "military",
            "amount": {"amount": "45000", "currency": "RUB"},
            "per": per,
            "period": {"start": "2023-04-01"},
            **data,
        },
    }


def post(client: TestClient, headers: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()["events"][0]
    return event


def wages(client: TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/wages", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["wages"]
    return found


@pytest.fixture
def sourced(client: TestClient, writer: Headers) -> Headers:
    post(client, writer, source_body(published_on="2023-05-10"))
    return writer


def test_a_wage_is_shown_as_reported_and_converted_to_usd(
    client: TestClient, sourced: Headers
) -> None:
    # given a rate and a wage of RUB 40,000 a month paid in May
    post(client, sourced, rate_body())
    event = post(
        client,
        sourced,
        wage_body("40000", "RUB", basis="paid", period={"start": "2023-05-15"}),
    )
    # then the wages view shows it as reported, in USD at that rate
    [wage] = wages(client)
    assert wage["event_id"] == event["id"]
    assert (wage["amount"], wage["currency"], wage["per"]) == ("40000", "RUB", "month")
    assert (wage["basis"], wage["sector"]) == ("paid", "construction")
    assert (wage["place_ids"], wage["countries"]) == (["ru-vladivostok"], ["RU"])
    assert wage["usd"] == "500.00"
    assert wage["usd_rate"]["rate"] == "0.0125"
    assert wage["rate_note"] is None
    assert wage["locator"] == "They were promised USD 500 a month."


def test_a_wage_before_any_rate_is_converted_at_the_later_one_and_says_so(
    client: TestClient, sourced: Headers
) -> None:
    post(client, sourced, rate_body())
    post(client, sourced, wage_body("40000", "RUB", period={"start": "2023-04-01"}))
    [wage] = wages(client)
    assert wage["usd"] == "500.00"
    assert "wage's date" in wage["rate_note"]


def test_without_a_rate_the_usd_amount_is_null_and_says_why(
    client: TestClient, sourced: Headers
) -> None:
    post(client, sourced, wage_body("40000", "RUB"))
    [wage] = wages(client)
    assert wage["usd"] is None
    assert "no RUB/USD rate" in wage["usd_unavailable_reason"]


@pytest.mark.parametrize("per", ["hour", "day", "month", "year", "once"])
def test_a_wage_keeps_its_period_never_turned_into_another(
    client: TestClient, sourced: Headers, per: str
) -> None:
    post(client, sourced, wage_body("120", per=per))
    [wage] = wages(client)
    assert (wage["per"], wage["amount"], wage["usd"]) == (per, "120", "120.00")


def test_a_wage_is_not_a_remittance(client: TestClient, sourced: Headers) -> None:
    post(client, sourced, wage_body())
    assert client.get("/v1/remittances").json()["quotas"] == []
    assert client.get("/v1/deployments").json()["rows"] == []
    assert wages(client) != []


def test_wages_are_filtered_by_country_sector_basis_and_date(
    client: TestClient, sourced: Headers
) -> None:
    russia = post(client, sourced, wage_body(period={"start": "2023-05-01"}))["id"]
    china = post(
        client,
        sourced,
        wage_body(
            "2000",
            "CNY",
            basis="paid",
            sector="seafood processing",
            places=[{"name": "Dandong"}],
            period={"start": "2019-01-01"},
        ),
    )["id"]

    def ids(**params: str) -> list[str]:
        return [w["event_id"] for w in wages(client, **params)]

    assert ids() == [china, russia]  # oldest first
    assert ids(country="RU") == [russia]
    assert ids(country="China") == [china]
    assert ids(sector="Seafood") == [china]
    assert ids(sector="construction") == [russia]
    assert ids(basis="promised") == [russia]
    assert ids(as_of="2020-01-01") == [china]


def test_wages_come_as_csv(client: TestClient, sourced: Headers) -> None:
    post(client, sourced, wage_body(per="day"))
    response = client.get("/v1/wages", headers={"Accept": "text/csv"})
    assert response.status_code == 200
    [line] = list(csv.DictReader(io.StringIO(response.text)))
    assert (line["amount"], line["per"], line["basis"], line["usd"]) == (
        "500",
        "day",
        "promised",
        "500.00",
    )
    assert line["place_ids"] == "ru-vladivostok"


def test_a_corrected_wage_is_shown_as_corrected_and_the_past_stays_readable(
    client: TestClient, sourced: Headers, corrector: Headers
) -> None:
    event = post(client, sourced, wage_body())
    before = client.get("/v1/wages").json()["position"]
    replacement = {**event["data"], "amount": {"amount": "100", "currency": "USD"}}
    post(
        client,
        corrector,
        meta_body("fact.corrected", event["id"], reason="misread", replacement=replacement),
    )
    [wage] = wages(client)
    assert (wage["event_id"], wage["amount"]) == (event["id"], "100")
    [then] = wages(client, at_position=str(before))
    assert then["amount"] == "500"
    post(client, corrector, meta_body("fact.retracted", event["id"], reason="not confirmed"))
    assert wages(client) == []


# --- quotas: per hour, day and once; sector -------------------------------------------


@pytest.mark.parametrize("per", ["hour", "day", "once"])
def test_a_quota_per_hour_day_or_once_is_shown_as_reported(
    client: TestClient, sourced: Headers, per: str
) -> None:
    post(client, sourced, rate_body(as_of="2023-03-01"))
    event = post(client, sourced, quota_body(per=per, sector="construction"))
    assert (event["schema_version"], event["data"]["sector"]) == (2, "construction")
    [quota] = client.get("/v1/remittances").json()["quotas"]
    # a one-off contribution is not turned into a monthly one: the amount stays as reported
    assert (quota["per"], quota["amount"], quota["usd"]) == (per, "45000", "562.50")
    assert quota["sector"] == "construction"


def test_a_version_1_quota_or_stock_is_recorded_as_version_2_without_a_sector(
    client: TestClient, sourced: Headers
) -> None:
    quota = post(client, sourced, {**quota_body(), "schema_version": 1})
    assert (quota["schema_version"], quota["data"]["sector"]) == (2, None)
    stock = {
        "type": "workforce.estimated",
        "schema_version": 1,
        "provenance": {"source_id": SOURCE_ID, "locator": "About 99 in Vladivostok."},
        "data": {
            "place": {"name": "Vladivostok"},
            "count": {"text": "99", "qualifier": "exact", "number": 99},
            "as_of": "2023-01-01",
        },
    }
    recorded = post(client, sourced, stock)
    assert (recorded["schema_version"], recorded["data"]["sector"]) == (2, None)
    # and a version 1 body that names a sector is refused, naming schema_version
    with_sector = {**quota_body(sector="mining"), "schema_version": 1}
    response = client.post("/v1/events", json=with_sector, headers=sourced)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/schema_version"


def test_a_stock_carries_its_sector_into_the_estimates(
    client: TestClient, sourced: Headers
) -> None:
    stock = {
        "type": "workforce.estimated",
        "provenance": {"source_id": SOURCE_ID, "locator": "About 99 build in Vladivostok."},
        "data": {
            "place": {"name": "Vladivostok"},
            "count": {"text": "99", "qualifier": "exact", "number": 99},
            "as_of": "2023-01-01",
            "sector": "construction",
        },
    }
    event = post(client, sourced, stock)
    shown = client.get(f"/v1/events/{event['id']}").json()
    assert (shown["schema_version"], shown["data"]["sector"]) == (2, "construction")
    [estimate] = client.get("/v1/estimates").json()["estimates"]
    assert estimate["sector"] == "construction"


# --- refused input: a 422 naming the field ---------------------------------------------


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"per": "week"}, "/data/per"),
        ({"basis": "hoped"}, "/data/basis"),
        ({"amount": {"amount": "-5", "currency": "USD"}}, "/data/amount/amount"),
        ({"amount": {"amount": "5", "currency": "XYZ"}}, "/data/amount/currency"),
    ],
)
def test_a_bad_wage_is_a_422_naming_the_field(
    client: TestClient, sourced: Headers, change: dict[str, Any], pointer: str
) -> None:
    body = wage_body()
    body["data"].update(change)
    response = client.post("/v1/events", json=body, headers=sourced)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["pointer"] == pointer


@pytest.mark.parametrize("missing", ["per", "basis", "amount"])
def test_a_wage_missing_a_required_field_is_a_422_naming_it(
    client: TestClient, sourced: Headers, missing: str
) -> None:
    body = wage_body()
    del body["data"][missing]
    response = client.post("/v1/events", json=body, headers=sourced)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == f"/data/{missing}"


def test_a_quota_per_week_is_a_422_naming_per(client: TestClient, sourced: Headers) -> None:
    response = client.post("/v1/events", json=quota_body(per="week"), headers=sourced)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/data/per"


@pytest.mark.parametrize(
    ("params", "field"), [({"basis": "hoped"}, "basis"), ({"country": "Atlantis"}, "country")]
)
def test_a_bad_wages_query_is_a_422_naming_the_parameter(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    response = client.get("/v1/wages", params=params)
    assert response.status_code == 422
    assert field in response.text
