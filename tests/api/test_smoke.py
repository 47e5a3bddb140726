from fastapi.testclient import TestClient

from tests.factories import dispatch_body, source_body


def test_a_recorded_dispatch_can_be_read_back(client: TestClient, writer: dict[str, str]) -> None:
    assert client.post("/v1/events", json=source_body(), headers=writer).status_code == 201
    created = client.post("/v1/events", json=dispatch_body(), headers=writer)
    assert created.status_code == 201, created.text
    event = created.json()["events"][0]
    assert event["position"] == 2
    assert event["data"]["count"] == {
        "text": "about 350",
        "qualifier": "approximately",
        "number": 350,
        "min": 315,
        "best": 350,
        "max": 385,
        "bounds_rule": "approximately",
    }
    assert client.get(f"/v1/events/{event['id']}").json() == event
