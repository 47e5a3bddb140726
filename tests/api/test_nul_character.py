"""The NUL character is refused everywhere, on both backends, naming where it was.

PostgreSQL cannot store U+0000 in text or JSON, SQLite can: the service refuses
it up front so that a request means the same on either.
"""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.factories import source_body

PROBLEM = "application/problem+json"


def test_a_nul_in_a_field_of_the_body_is_a_422_naming_the_field(
    client: TestClient, writer: dict[str, str]
) -> None:
    body = source_body(title="North Korea\u0000sends workers")

    response = client.post(
        "/v1/events",
        content=json.dumps(body),
        headers={**writer, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["pointer"] == "/data/title"
    assert client.get("/v1/events").json()["events"] == []


def test_a_nul_in_a_batch_points_at_the_event_and_field(
    client: TestClient, writer: dict[str, str]
) -> None:
    batch = {"events": [source_body(), source_body("second", outlet="\u0000")]}

    response = client.post("/v1/events", json=batch, headers=writer)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "events.1.data.outlet"


def test_a_nul_in_the_query_or_the_path_is_a_422(client: TestClient) -> None:
    in_query = client.get("/v1/events?source_id=a%00b")
    in_path = client.get("/v1/streams/source:a%00b")

    assert (in_query.status_code, in_path.status_code) == (422, 422)
    assert in_query.json()["errors"][0]["pointer"] == "/query/source_id"
    assert in_path.headers["content-type"] == PROBLEM


def test_the_six_characters_backslash_u0000_are_ordinary_text(
    client: TestClient, writer: dict[str, str]
) -> None:
    body = source_body(title="escaped: \\u0000")

    response = client.post("/v1/events", json=body, headers=writer)

    assert response.status_code == 201, response.text
    assert response.json()["events"][0]["data"]["title"] == "escaped: \\u0000"
