"""The events behind a row of `/v1/deployments`, read a page at a time: its flows and its
stocks together, in the order recorded, each once (the two are found apart: see
`facts_behind`)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import SOURCE_ID, dispatch_body, source_body

Headers = dict[str, str]


def _stock(place: str, n: int, as_of: str) -> dict[str, Any]:
    return {
        "type": "workforce.estimated",
        "provenance": {"source_id": SOURCE_ID, "locator": f"About {n} in {place}."},
        "data": {
            "place": {"name": place},
            "as_of": as_of,
            "count": {"text": f"about {n}", "qualifier": "approximately", "number": n},
            "affiliation": "civilian",
        },
    }


def _ids(client: TestClient, params: dict[str, str]) -> list[str]:
    """Every event behind the row, following `next` a page at a time."""
    found: list[str] = []
    page: dict[str, Any] = client.get("/v1/deployments/events", params=params).json()
    while True:
        found += [event["id"] for event in page["events"]]
        if page["next"] is None:
            return found
        page = client.get(page["next"]).json()


def test_a_rows_stocks_and_flows_come_in_the_order_recorded_a_page_at_a_time(
    client: TestClient, writer: Headers
) -> None:
    assert client.post("/v1/events", json=source_body(), headers=writer).status_code == 201
    bodies = [
        _stock("Kazan", 40, "2023-01-01"),
        dispatch_body(destinations=["Kazan"]),
        dispatch_body(destinations=["Omsk"]),  # another row
        _stock("Kazan", 60, "2023-06-01"),
        dispatch_body(destinations=["Kazan", "Moscow"]),
        _stock("Kazan", 90, "2024-01-01"),
    ]
    recorded = [
        client.post("/v1/events", json=body, headers=writer).json()["events"][0]["id"]
        for body in bodies
    ]
    kazan = [recorded[i] for i in (0, 1, 3, 4, 5)]

    for limit in ("1", "2", "10"):
        assert _ids(client, {"place": "ru-kazan", "limit": limit}) == kazan
    in_2023 = {"place": "ru-kazan", "limit": "1", "as_of": "2023-12-31"}
    assert _ids(client, in_2023) == kazan[:4]  # the stock of 2024 not yet
