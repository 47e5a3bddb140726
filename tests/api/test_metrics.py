import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.serve_process import serving
from tests.factories import dispatch_body, source_body
from tests.follow.servers import ThreadedServer

HOOK = "http://127.0.0.1:9/ledger-hook"  # never called: delivery is off


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


# --- requests, the head, webhooks and streams, and several workers -----------------


def test_requests_are_timed_by_route_template(client: TestClient) -> None:
    timed = (
        'ledger_http_request_duration_seconds_count{method="GET",'
        'route="/v1/deployments",status="200"}'
    )
    by_id = (
        'ledger_http_request_duration_seconds_count{method="GET",'
        'route="/v1/events/{event_id}",status="404"}'
    )
    before, before_by_id = metric(client, timed), metric(client, by_id)
    client.get("/v1/deployments")
    client.get("/v1/deployments", params={"group_by": "country"})
    client.get(f"/v1/events/{uuid4()}")
    assert metric(client, timed) == before + 2
    assert metric(client, by_id) == before_by_id + 1  # one series, whatever the id


@pytest.mark.settings(deliver_webhooks=False, webhooks_allow_private_targets=True)
def test_the_head_position_and_the_webhook_backlog_are_read_from_the_ledger(
    client: TestClient, writer: dict[str, str], admin: dict[str, str]
) -> None:
    assert (metric(client, "ledger_head_position"), metric(client, "ledger_webhook_backlog")) == (
        0,
        0,
    )
    registered = client.post("/v1/admin/webhooks", json={"url": HOOK}, headers=admin)
    assert registered.status_code == 201, registered.text
    for body in (source_body(), dispatch_body()):
        assert client.post("/v1/events", json=body, headers=writer).status_code == 201
    assert metric(client, "ledger_head_position") == 2
    assert metric(client, "ledger_webhook_backlog") == 2  # two events owed, none delivered


@pytest.mark.settings(stream_heartbeat_seconds=0.1)
def test_open_streams_are_counted_while_they_are_open(app: FastAPI) -> None:
    server = ThreadedServer(app).start()
    try:
        scrape = f"{server.url}/metrics"
        assert scraped(scrape, "ledger_open_streams") == 0
        with httpx.stream("GET", f"{server.url}/v1/events/stream", timeout=5) as stream:
            assert stream.status_code == 200
            assert scraped(scrape, "ledger_open_streams") == 1
        deadline = time.monotonic() + 10  # the server notices at its next heartbeat
        while scraped(scrape, "ledger_open_streams") != 0:
            assert time.monotonic() < deadline, "the closed stream is still counted"
            time.sleep(0.1)
    finally:
        server.stop()


@pytest.mark.postgres_only  # several workers need PostgreSQL
def test_several_workers_add_up_to_one_answer(database_url: str, tmp_path: Path) -> None:
    # given `labor-ledger serve --workers 2`
    log = tmp_path / "serve.log"
    with serving(database_url, log, "--workers", "2", warm_views_on_start="false") as base:
        # when requests, each on a connection of its own, are served by both workers
        served = 0
        with ThreadPoolExecutor(8) as pool:
            while len(workers_that_served(log, "/v1/events")) < 2:
                assert served < 400, "one worker served everything"
                answers = pool.map(lambda _: httpx.get(f"{base}/v1/events?limit=1"), range(20))
                assert all(answer.status_code == 200 for answer in answers)
                served += 20
            time.sleep(0.5)  # the last access lines

        # then every scrape, by whichever worker, counts them all
        route = 'route="/v1/events",status="200"'
        for _ in range(6):
            text = httpx.get(f"{base}/metrics").text
            counted = sum(
                float(line.split()[-1])
                for line in text.splitlines()
                if line.startswith("ledger_http_request_duration_seconds_count") and route in line
            )
            assert counted == served, text


def workers_that_served(log: Path, path: str) -> set[int]:
    pids = set()
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "service.access" and entry.get("path") == path:
                pids.add(entry["pid"])
    return pids


def scraped(url: str, name: str) -> float:
    for line in httpx.get(url).text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in {url}")
