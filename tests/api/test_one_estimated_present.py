"""`estimated_present` is one figure (DESIGN §1b, issue 14): `/v1/estimates` gives a place
the number `/v1/deployments` gives it — a country's stock with the flows into its cities,
as under `group_by=country`; a city's with the city's flows, as under `group_by=place`."""

from __future__ import annotations

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


def stock(place: str, n: int, as_of: str = "2023-01-01") -> dict[str, Any]:
    return {
        "type": "workforce.estimated",
        "provenance": {"source_id": SOURCE_ID, "locator": f"About {n} are in {place}."},
        "data": {
            "place": {"name": place},
            "count": {"text": str(n), "qualifier": "exact", "number": n},
            "affiliation": "civilian",
            "as_of": as_of,
        },
    }


def dispatch(city: str, n: int, start: str) -> dict[str, Any]:
    count = {"text": str(n), "qualifier": "exact", "number": n}
    return dispatch_body(destinations=[city], count=count, period={"start": start})


def estimates_present(client: TestClient, **params: str) -> dict[str, Any]:
    view = client.get("/v1/estimates", params=params).json()
    return {row["place_id"]: row["estimated_present"] for row in view["latest"]}


def deployments_present(client: TestClient, group_by: str, **params: str) -> dict[str, Any]:
    view = client.get("/v1/deployments", params={"group_by": group_by, **params}).json()
    return {
        (row["place"]["place_id"] if row["place"] else row["country"]): row["estimated_present"]
        for row in view["rows"]
    }


def exactly(n: int) -> dict[str, Any]:
    return {"min": n, "best": n, "max": n, "best_complete": True}


@pytest.fixture
def russia(client: TestClient, writer: Headers) -> Headers:
    """A stock of 1,000 in Russia on 2023-01-01, then 200 sent to Vladivostok in March."""
    post(client, writer, source_body())
    post(client, writer, stock("Russia", 1000))
    post(client, writer, dispatch("Vladivostok", 200, "2023-03-01"))
    return writer


def test_a_countrys_estimate_counts_the_flows_into_its_cities_in_both_views(
    client: TestClient, russia: Headers
) -> None:
    # then /v1/estimates gives Russia the stock plus the dispatch into Vladivostok
    assert estimates_present(client)["ru"] == exactly(1200)
    # and /v1/deployments gives Russia the same figure, with or without affiliation
    assert deployments_present(client, "country")["RU"] == exactly(1200)
    assert deployments_present(client, "country,affiliation")["RU"] == exactly(1200)


def test_both_views_agree_on_a_past_date_and_a_past_position(
    client: TestClient, russia: Headers
) -> None:
    # before the dispatch's date: the stock alone, in both views
    assert estimates_present(client, as_of="2023-02-01")["ru"] == exactly(1000)
    assert deployments_present(client, "country", as_of="2023-02-01")["RU"] == exactly(1000)
    # as the ledger knew it before the dispatch was recorded (positions 1, 2): the same
    assert estimates_present(client, at_position="2")["ru"] == exactly(1000)
    assert deployments_present(client, "country", at_position="2")["RU"] == exactly(1000)


def test_a_citys_estimate_is_the_city_row_of_the_deployments_by_place(
    client: TestClient, russia: Headers
) -> None:
    # given a stock of 300 in Vladivostok on 2023-02-01 (the March dispatch comes after it)
    post(client, russia, stock("Vladivostok", 300, "2023-02-01"))
    # then the city's figure is its stock plus its own later flows, in both views
    assert estimates_present(client)["ru-vladivostok"] == exactly(500)
    assert deployments_present(client, "place,affiliation")["ru-vladivostok"] == exactly(500)
    # and a city's stock never changes the country's figure
    assert estimates_present(client)["ru"] == exactly(1200)
    assert deployments_present(client, "country")["RU"] == exactly(1200)


def test_a_dispatch_before_the_countrys_stock_is_not_added_to_it(
    client: TestClient, russia: Headers
) -> None:
    # given a dispatch into Moscow in 2022, before the stock: the stock already holds it
    post(client, russia, dispatch("Moscow", 50, "2022-06-01"))
    assert estimates_present(client)["ru"] == exactly(1200)
    assert deployments_present(client, "country")["RU"] == exactly(1200)


def test_in_the_view_by_place_the_countrys_own_row_carries_its_stock_as_the_country_does(
    client: TestClient, russia: Headers
) -> None:
    # Russia's own row (a stock "in Russia", no city) gives the country's figure
    assert deployments_present(client, "place,affiliation")["ru"] == exactly(1200)
    assert deployments_present(client, "place")["ru"] == exactly(1200)
    # and keeps it as later reports come (the view carried forward by what changed)
    post(client, russia, dispatch("Moscow", 30, "2023-05-01"))
    assert deployments_present(client, "place,affiliation")["ru"] == exactly(1230)
    assert deployments_present(client, "country")["RU"] == exactly(1230)
    assert estimates_present(client)["ru"] == exactly(1230)
    # a city's row never takes the country's stock
    assert deployments_present(client, "place,affiliation")["ru-moscow"] is None


def test_a_countrys_own_row_keeps_to_the_place_filter(client: TestClient, russia: Headers) -> None:
    # a view of Russia (the country and its places) gives Russia's row the country's figure
    assert deployments_present(client, "place", place="Russia")["ru"] == exactly(1200)
    assert deployments_present(client, "place", country="RU")["ru"] == exactly(1200)
