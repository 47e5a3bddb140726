"""A quota is converted at the nearest reported rate earlier than it; where only a later
one was reported, that one is used and the row says so (`rate_note`, DESIGN §1b)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from service.ledger import Ledger
from tests.factories import SOURCE_ID, source_body

Headers = dict[str, str]


def quota(amount: str, start: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "affiliation": "civilian",
        "amount": {"amount": amount, "currency": "RUB"},
        "per": "month",
        "per_worker": True,
    }
    if start is not None:
        data["period"] = {"start": start, "text": start}
    return {
        "type": "remittance.quota_reported",
        "provenance": {"source_id": SOURCE_ID, "locator": f"RUB {amount} a month"},
        "data": data,
    }


def rate(usd_per_100_rub: str, as_of: str) -> dict[str, Any]:
    return {
        "type": "fx.rate_reported",
        "provenance": {"source_id": SOURCE_ID, "locator": f"RUB 100 = USD {usd_per_100_rub}"},
        "data": {
            "base": "RUB",
            "quote": "USD",
            "rate": str(Decimal(usd_per_100_rub) / 100),
            "as_of": as_of,
        },
    }


def record(client: TestClient, writer: Headers, *bodies: dict[str, Any]) -> None:
    response = client.post("/v1/events", json={"events": list(bodies)}, headers=writer)
    assert response.status_code == 201, response.text


def rows(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/v1/remittances")
    assert response.status_code == 200, response.text
    return {q["amount"]: q for q in response.json()["quotas"]}


def test_the_seed_quotas_say_their_rate_is_later_than_they_are(
    client: TestClient, seeded: Ledger
) -> None:
    # given the founding report: quotas of 28 April (its Korean original), a rate of 3 May
    quotas = client.get("/v1/remittances").json()["quotas"]
    # then each is converted at that later rate, as before, and says so
    assert {q["usd"] for q in quotas} == {"562.50", "875.00"}
    for q in quotas:
        assert q["usd_rate"]["as_of"] == "2023-05-03"
        assert q["rate_note"] == (
            "No RUB/USD rate was reported on or before the quota's date (2023-04-28): "
            "converted at the nearest later rate, of 2023-05-03."
        )


def test_a_quota_is_converted_at_the_nearest_earlier_rate_with_no_note(
    client: TestClient, writer: Headers
) -> None:
    # given rates of January, March and June, and a quota from April
    record(
        client,
        writer,
        source_body(published_on="2023-07-01"),
        rate("1.50", "2023-01-10"),
        rate("1.30", "2023-03-15"),
        rate("1.10", "2023-06-01"),
        quota("1000", start="2023-04-01"),
    )
    # then it is converted at March's rate, the nearest earlier, and nothing is noted
    [row] = rows(client).values()
    assert (row["usd"], row["usd_rate"]["as_of"], row["rate_note"]) == (
        "13.00",
        "2023-03-15",
        None,
    )


def test_a_rate_of_the_quotas_own_day_is_not_later(client: TestClient, writer: Headers) -> None:
    record(
        client,
        writer,
        source_body(published_on="2023-07-01"),
        rate("1.20", "2023-04-01"),
        quota("1000", start="2023-04-01"),
    )
    [row] = rows(client).values()
    assert (row["usd"], row["rate_note"]) == ("12.00", None)


def test_where_only_later_rates_exist_the_nearest_later_is_used_and_noted(
    client: TestClient, writer: Headers
) -> None:
    # given a quota from January and rates of March and June only
    record(
        client,
        writer,
        source_body(published_on="2023-07-01"),
        rate("1.10", "2023-06-01"),
        rate("1.30", "2023-03-15"),
        quota("1000", start="2023-01-01"),
    )
    # then March's rate is used, and the row says it is later than the quota
    [row] = rows(client).values()
    assert (row["usd"], row["usd_rate"]["as_of"]) == ("13.00", "2023-03-15")
    assert row["rate_note"] == (
        "No RUB/USD rate was reported on or before the quota's date (2023-01-01): "
        "converted at the nearest later rate, of 2023-03-15."
    )


def test_the_csv_carries_the_rate_note(client: TestClient, writer: Headers) -> None:
    record(
        client,
        writer,
        source_body(published_on="2023-07-01"),
        rate("1.30", "2023-03-15"),
        quota("1000", start="2023-01-01"),
        quota("2000", start="2023-04-01"),
    )
    response = client.get("/v1/remittances", headers={"Accept": "text/csv"})
    assert response.status_code == 200
    table = {r["amount"]: r for r in csv.DictReader(io.StringIO(response.text))}
    assert table["1000"]["rate_note"].startswith("No RUB/USD rate was reported on or before")
    assert table["2000"]["rate_note"] == ""
