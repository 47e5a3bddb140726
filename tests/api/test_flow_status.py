"""A flow's status (DESIGN §1b): a plan is recorded as a plan and shown apart, never
counted as workers sent; its route (`via`) is kept and never counted either."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import SOURCE_ID, dispatch_body, meta_body, source_body

Headers = dict[str, str]
EXACT_1000 = {"text": "1,000", "qualifier": "exact", "number": 1000}
EXACT_99 = {"text": "99", "qualifier": "exact", "number": 99}
NOT_REPORTED = None  # a flow no fact reports is null: not a report of zero


def exactly(n: int) -> dict[str, Any]:
    return {"min": n, "best": n, "max": n, "best_complete": True}


def post(client: TestClient, headers: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    recorded: dict[str, Any] = response.json()
    return recorded


def recorded(client: TestClient, headers: Headers, body: dict[str, Any]) -> dict[str, Any]:
    """The one event `body` recorded, as `GET /v1/events/{id}` shows it."""
    event_id = post(client, headers, body)["events"][0]["id"]
    shown: dict[str, Any] = client.get(f"/v1/events/{event_id}").json()
    return shown


def rows_by_place(client: TestClient, **params: str) -> dict[str, dict[str, Any]]:
    view = client.get("/v1/deployments", params={"group_by": "place", **params}).json()
    return {row["place"]["place_id"]: row for row in view["rows"]}


def vladivostok(count: dict[str, Any] = EXACT_1000, **data: Any) -> dict[str, Any]:
    return dispatch_body(destinations=["Vladivostok"], count=count, **data)


def stock_body(n: int, as_of: str = "2023-01-01") -> dict[str, Any]:
    return {
        "type": "workforce.estimated",
        "provenance": {"source_id": SOURCE_ID, "locator": f"About {n} are in Vladivostok."},
        "data": {
            "place": {"name": "Vladivostok"},
            "count": {"text": str(n), "qualifier": "exact", "number": n},
            "as_of": as_of,
        },
    }


@pytest.fixture
def sourced(client: TestClient, writer: Headers) -> Headers:
    post(client, writer, source_body())
    return writer


@pytest.mark.parametrize("status", ["planned", "announced"])
def test_a_plan_is_stored_with_its_status_and_shown_apart_never_as_workers_sent(
    client: TestClient, sourced: Headers, status: str
) -> None:
    # given a stock of 99 in Vladivostok, and a report that 1,000 more "will be sent"
    post(client, sourced, stock_body(99))
    event = recorded(client, sourced, vladivostok(status=status))
    # then the plan is recorded as a plan, in schema version 2
    assert event["schema_version"] == 2
    assert event["data"]["status"] == status
    # and it is not in the flows nor in the stock, only in `planned`
    row = rows_by_place(client)["ru-vladivostok"]
    assert row["dispatched"] == NOT_REPORTED
    assert row["net_flow"] == NOT_REPORTED
    assert row["planned"] == exactly(1000)
    assert row["estimated_present"] == exactly(99)
    assert row["events"] == 1
    country = client.get("/v1/deployments", params={"group_by": "country"}).json()["rows"]
    assert country[0]["dispatched"] == NOT_REPORTED
    assert country[0]["planned"] == exactly(1000)


def test_an_underway_dispatch_counts_as_workers_sent(client: TestClient, sourced: Headers) -> None:
    post(client, sourced, stock_body(99))
    event = recorded(client, sourced, vladivostok(status="underway"))
    assert event["data"]["status"] == "underway"
    row = rows_by_place(client)["ru-vladivostok"]
    assert row["dispatched"] == exactly(1000)
    assert row["planned"] == NOT_REPORTED
    assert row["estimated_present"] == exactly(1099)


def test_a_dispatch_without_a_status_happened(client: TestClient, sourced: Headers) -> None:
    event = recorded(client, sourced, vladivostok())
    assert event["schema_version"] == 2
    assert event["data"]["status"] == "completed"
    assert event["data"]["via"] == []
    assert rows_by_place(client)["ru-vladivostok"]["dispatched"] == exactly(1000)


@pytest.mark.parametrize(
    "period",
    [None, {"text": "soon"}, {"precision": "unknown"}],
    ids=["no period", "words only", "precision unknown"],
)
def test_a_plan_with_no_date_at_all_is_accepted(
    client: TestClient, sourced: Headers, period: dict[str, Any] | None
) -> None:
    body = vladivostok(status="planned")
    if period is None:
        del body["data"]["period"]
    else:
        body["data"]["period"] = period
    event = recorded(client, sourced, body)
    stored = event["data"]["period"]
    assert (stored["start"], stored["end"], stored["precision"]) == (None, None, "unknown")
    # it is in today's view, in no view of a date, and under `undated` in the timeline
    assert rows_by_place(client)["ru-vladivostok"]["planned"] == exactly(1000)
    assert rows_by_place(client, as_of="2030-01-01") == {}
    timeline = client.get("/v1/deployments/timeline").json()["rows"]
    assert [(r["period"], r["planned"]) for r in timeline] == [("undated", exactly(1000))]


@pytest.mark.parametrize("status", [None, "completed", "underway"])
@pytest.mark.parametrize(
    "period",
    [None, {"text": "recently"}, {"precision": "unknown"}],
    ids=["no period", "words only", "precision unknown"],
)
def test_a_flow_that_happened_still_needs_a_date(
    client: TestClient, sourced: Headers, status: str | None, period: dict[str, Any] | None
) -> None:
    body = vladivostok(**({"status": status} if status else {}))
    if period is None:
        del body["data"]["period"]
    else:
        body["data"]["period"] = period
    response = client.post("/v1/events", json=body, headers=sourced)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert error["pointer"] == "/data/period"
    assert "start or an end date" in error["message"]


def test_a_period_with_a_date_is_not_of_unknown_precision(
    client: TestClient, sourced: Headers
) -> None:
    body = vladivostok(status="planned")
    body["data"]["period"] = {"start": "2023-06-01", "precision": "unknown"}
    response = client.post("/v1/events", json=body, headers=sourced)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/data/period/precision"


def test_a_route_is_stored_resolved_and_never_counted(client: TestClient, sourced: Headers) -> None:
    body = dispatch_body(
        destinations=["Moscow"],
        count=EXACT_99,
        transport="rail",
        via=[{"name": "Khasan"}, {"name": "Vladivostok"}],
    )
    event = recorded(client, sourced, body)
    assert [p["place_id"] for p in event["data"]["via"]] == ["ru-khasan", "ru-vladivostok"]
    assert event["data"]["via"][0]["kind"] == "crossing"
    rows = rows_by_place(client)
    assert set(rows) == {"ru-moscow"}
    assert rows["ru-moscow"]["dispatched"] == exactly(99)


def test_an_unknown_place_on_the_route_is_a_422_naming_it(
    client: TestClient, sourced: Headers
) -> None:
    body = vladivostok(via=[{"name": "Atlantis"}])
    response = client.post("/v1/events", json=body, headers=sourced)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/data/via/0/name"


def test_a_repatriation_keeps_its_sector_transport_and_route(
    client: TestClient, sourced: Headers
) -> None:
    body = {
        "type": "workers.repatriated",
        "provenance": {"source_id": SOURCE_ID, "locator": "30 builders went home by train"},
        "data": {
            "from_places": [{"name": "Vladivostok"}],
            "count": {"text": "30", "qualifier": "exact", "number": 30},
            "sector": "construction",
            "transport": "rail",
            "via": [{"name": "Khasan"}],
            "period": {"end": "2023-04-10"},
        },
    }
    event = recorded(client, sourced, body)
    assert event["schema_version"] == 2
    data = event["data"]
    assert (data["sector"], data["transport"], data["status"]) == (
        "construction",
        "rail",
        "completed",
    )
    assert [p["place_id"] for p in data["via"]] == ["ru-khasan"]
    row = rows_by_place(client)["ru-vladivostok"]
    assert row["repatriated"] == exactly(30)
    assert set(rows_by_place(client)) == {"ru-vladivostok"}


def test_a_planned_repatriation_counts_nowhere(client: TestClient, sourced: Headers) -> None:
    post(client, sourced, stock_body(99))
    body = {
        "type": "workers.repatriated",
        "provenance": {"source_id": SOURCE_ID, "locator": "30 are to go home"},
        "data": {
            "from_places": [{"name": "Vladivostok"}],
            "count": {"text": "30", "qualifier": "exact", "number": 30},
            "status": "announced",
        },
    }
    assert recorded(client, sourced, body)["data"]["status"] == "announced"
    row = rows_by_place(client)["ru-vladivostok"]
    assert (row["repatriated"], row["planned"]) == (NOT_REPORTED, NOT_REPORTED)
    assert row["estimated_present"] == exactly(99)


def test_a_version_1_body_keeps_its_meaning_and_is_recorded_as_version_2(
    client: TestClient, sourced: Headers
) -> None:
    event = recorded(client, sourced, {**vladivostok(), "schema_version": 1})
    assert event["schema_version"] == 2
    assert event["data"]["status"] == "completed"
    assert rows_by_place(client)["ru-vladivostok"]["dispatched"] == exactly(1000)


def test_a_version_1_body_with_a_status_is_a_422(client: TestClient, sourced: Headers) -> None:
    body = {**vladivostok(status="planned"), "schema_version": 1}
    response = client.post("/v1/events", json=body, headers=sourced)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["pointer"] == "/schema_version"
    assert "status" in error["message"]


def test_a_plan_corrected_to_a_dispatch_moves_from_planned_to_dispatched(
    client: TestClient, sourced: Headers, corrector: Headers
) -> None:
    plan = post(client, sourced, vladivostok(status="planned"))["events"][0]
    assert rows_by_place(client)["ru-vladivostok"]["planned"] == exactly(1000)
    replacement = {**vladivostok()["data"], "status": "completed"}
    post(
        client,
        corrector,
        meta_body("fact.corrected", plan["id"], reason="they left", replacement=replacement),
    )
    row = rows_by_place(client)["ru-vladivostok"]
    assert (row["dispatched"], row["planned"]) == (exactly(1000), NOT_REPORTED)


def test_plans_are_in_the_csv_the_geojson_and_the_timeline(
    client: TestClient, sourced: Headers
) -> None:
    post(client, sourced, vladivostok(status="planned"))
    post(client, sourced, vladivostok(count=EXACT_99))
    table = client.get(
        "/v1/deployments", params={"group_by": "place"}, headers={"Accept": "text/csv"}
    )
    [row] = list(csv.DictReader(io.StringIO(table.text)))
    assert (row["dispatched_best"], row["planned_min"], row["planned_best"]) == (
        "99",
        "1000",
        "1000",
    )
    geojson = client.get(
        "/v1/deployments",
        params={"group_by": "place"},
        headers={"Accept": "application/geo+json"},
    ).json()
    [feature] = geojson["features"]
    assert feature["properties"]["planned"] == exactly(1000)
    assert feature["properties"]["dispatched"] == exactly(99)
    timeline = client.get("/v1/deployments/timeline", params={"interval": "year"}).json()
    [year] = timeline["rows"]
    assert (year["period"], year["dispatched"], year["planned"]) == (
        "2023",
        exactly(99),
        exactly(1000),
    )


def test_a_plan_and_a_dispatch_are_never_warned_as_the_same_workers(
    client: TestClient, sourced: Headers
) -> None:
    post(client, sourced, source_body("rfa-2023"))
    post(client, sourced, vladivostok(status="planned"))
    # another source's dispatch of the same workers and dates: not the plan repeated
    dispatch = post(client, sourced, vladivostok(source_id="rfa-2023"))
    assert dispatch["warnings"] == []
    # another source's plan of them is
    plan = post(client, sourced, vladivostok(source_id="rfa-2023", status="announced"))
    assert len(plan["warnings"]) == 1
