from fastapi.testclient import TestClient

from tests.factories import source_body


def metric(client: TestClient, line_start: str) -> float:
    text = client.get("/metrics").text
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.split()[-1])
    return 0.0


def test_metrics_count_what_was_recorded_and_what_was_replayed(
    client: TestClient, writer: dict[str, str]
) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    recorded = 'ledger_events_appended_total{type="source.recorded"}'
    before, replays_before = (
        metric(client, recorded),
        metric(client, "ledger_appends_replayed_total"),
    )
    headers = {**writer, "Idempotency-Key": "metrics-1"}
    client.post("/v1/events", json=source_body("metrics-source"), headers=headers)
    client.post("/v1/events", json=source_body("metrics-source"), headers=headers)
    assert metric(client, recorded) == before + 1
    assert metric(client, "ledger_appends_replayed_total") == replays_before + 1
