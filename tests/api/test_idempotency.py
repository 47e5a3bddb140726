"""`Idempotency-Key`: a retry returns the first result and records nothing twice."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import TypeAdapter
from sqlalchemy import update

from service.access.keys import Scope
from service.domain.events import EventIn, EventInBase
from service.ingest.submit import new_events
from service.ledger import Ledger
from service.log.append import AppendOutcome, IdempotencyRequest, read_head
from service.log.tables import IDEMPOTENCY
from tests.conftest import TokenFactory
from tests.factories import dispatch_body, source_body

T = TypeVar("T")
RACERS = 8


def recorded(client: TestClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = client.get("/v1/events", params={"limit": 1000}).json()["events"]
    return events


def post(client: TestClient, body: object, headers: dict[str, str], key: str) -> Response:
    return client.post("/v1/events", json=body, headers={**headers, "Idempotency-Key": key})


def ids_and_positions(response: Response) -> list[tuple[str, int]]:
    return [(e["id"], e["position"]) for e in response.json()["events"]]


def race(count: int, attempt: Callable[[], T]) -> list[T]:
    """Run `attempt` in `count` threads released at the same moment."""
    start = threading.Barrier(count)

    def go() -> T:
        start.wait()
        return attempt()

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(go) for _ in range(count)]
        return [f.result() for f in futures]


def test_a_retry_with_the_same_key_and_body_returns_the_first_result(
    client: TestClient, writer: dict[str, str]
) -> None:
    first = post(client, source_body(), writer, "retry-1")
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers

    retry = post(client, source_body(), writer, "retry-1")

    assert retry.status_code == 201, retry.text
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert len(recorded(client)) == 1


def test_a_retry_records_nothing_twice_even_after_other_events(
    client: TestClient, writer: dict[str, str]
) -> None:
    post(client, source_body(), writer, "source")
    first = post(client, dispatch_body(), writer, "dispatch")
    client.post("/v1/events", json=dispatch_body(destinations=["Vladivostok"]), headers=writer)

    retry = post(client, dispatch_body(), writer, "dispatch")

    assert retry.headers["Idempotent-Replayed"] == "true"
    assert (
        ids_and_positions(retry)
        == ids_and_positions(first)
        == [(first.json()["events"][0]["id"], 2)]
    )
    assert [e["position"] for e in recorded(client)] == [1, 2, 3]


def test_the_same_body_in_another_key_order_is_the_same_request(
    client: TestClient, writer: dict[str, str]
) -> None:
    body = source_body()
    first = post(client, body, writer, "reordered")
    reordered = {k: body[k] for k in reversed(list(body))}

    retry = post(client, reordered, writer, "reordered")

    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert ids_and_positions(retry) == ids_and_positions(first)


def test_the_same_key_with_another_body_is_422(client: TestClient, writer: dict[str, str]) -> None:
    post(client, source_body(), writer, "reused")

    response = post(client, source_body("another-source"), writer, "reused")

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/idempotency-key-reused"
    assert response.json()["errors"][0]["field"] == "header.idempotency-key"
    assert len(recorded(client)) == 1


def test_keys_belong_to_their_holder_so_another_can_use_the_same_string(
    client: TestClient, writer: dict[str, str], make_key: TokenFactory
) -> None:
    other = make_key(Scope.events_write, name="other-desk")
    mine = post(client, source_body(), writer, "shared-string")

    theirs = post(client, source_body("another-source"), other, "shared-string")

    assert theirs.status_code == 201, theirs.text
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["events"][0]["recorded_by"] == "other-desk"
    assert ids_and_positions(theirs) != ids_and_positions(mine)
    assert len(recorded(client)) == 2


def test_the_same_key_and_body_from_another_holder_is_recorded_for_them(
    client: TestClient, writer: dict[str, str], make_key: TokenFactory
) -> None:
    other = make_key(Scope.events_write, name="other-desk")
    post(client, source_body(), writer, "same-everything")
    post(client, dispatch_body(), writer, "dispatch")

    theirs = post(client, dispatch_body(), other, "dispatch")

    assert theirs.status_code == 201, theirs.text
    assert "Idempotent-Replayed" not in theirs.headers
    assert len(recorded(client)) == 3


def test_a_refused_request_is_not_remembered_so_a_fixed_retry_can_succeed(
    client: TestClient, writer: dict[str, str]
) -> None:
    refused = post(client, dispatch_body(), writer, "after-fix")  # its source is missing
    assert refused.status_code == 422

    client.post("/v1/events", json=source_body(), headers=writer)
    retry = post(client, dispatch_body(), writer, "after-fix")

    assert retry.status_code == 201, retry.text
    assert "Idempotent-Replayed" not in retry.headers


def test_a_batch_retried_is_one_batch(client: TestClient, writer: dict[str, str]) -> None:
    batch = {
        "events": [
            source_body(),
            dispatch_body(),
            dispatch_body(destinations=["Vladivostok"]),
        ]
    }
    first = post(client, batch, writer, "batch-1")
    assert first.status_code == 201, first.text

    retry = post(client, batch, writer, "batch-1")

    assert retry.headers["Idempotent-Replayed"] == "true"
    assert ids_and_positions(retry) == ids_and_positions(first)
    assert [p for _, p in ids_and_positions(first)] == [1, 2, 3]
    assert len(recorded(client)) == 3


def test_a_key_longer_than_200_characters_is_422_naming_the_header(
    client: TestClient, writer: dict[str, str]
) -> None:
    response = post(client, source_body(), writer, "k" * 201)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "header.idempotency-key"
    assert recorded(client) == []


def test_two_identical_requests_racing_record_one_event(
    app: FastAPI, client: TestClient, writer: dict[str, str]
) -> None:
    post(client, source_body(), writer, "source")

    def attempt() -> Response:
        with TestClient(app) as own:
            return post(own, dispatch_body(), writer, "racing")

    responses = race(RACERS, attempt)

    assert {r.status_code for r in responses} == {201}
    assert len({tuple(ids_and_positions(r)) for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == RACERS - 1
    assert [e["type"] for e in recorded(client)] == ["source.recorded", "workers.dispatched"]


def test_identical_appends_racing_through_the_store_record_one_batch(ledger: Ledger) -> None:
    parse = TypeAdapter[EventInBase](EventIn).validate_python
    ledger.store.append(new_events([parse(source_body())], ledger.gazetteer), principal="desk")
    batch = new_events([parse(dispatch_body()), parse(dispatch_body())], ledger.gazetteer)
    same = IdempotencyRequest("racing-batch", "0" * 64)

    outcomes: list[AppendOutcome] = race(
        RACERS, lambda: ledger.store.append(batch, principal="desk", idempotency=same)
    )

    assert sum(not o.replayed for o in outcomes) == 1
    assert len({tuple(e.position for e in o.result.events) for o in outcomes}) == 1
    assert outcomes[0].result.events[0].position == 2
    with ledger.engine.connect() as conn:
        assert read_head(conn).position == 3


def age_idempotency_keys(ledger: Ledger, age: timedelta) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(update(IDEMPOTENCY).values(created_at=datetime.now(UTC) - age))


def test_the_store_keeps_keys_for_the_configured_time(ledger: Ledger) -> None:
    configured = timedelta(hours=ledger.settings.idempotency_ttl_hours)
    assert configured >= timedelta(hours=24)
    assert ledger.store.idempotency_ttl == configured


def test_a_key_is_still_remembered_just_inside_the_configured_time(
    client: TestClient, writer: dict[str, str], ledger: Ledger
) -> None:
    post(client, source_body(), writer, "source")
    first = post(client, dispatch_body(), writer, "old-but-kept")
    age_idempotency_keys(ledger, ledger.store.idempotency_ttl - timedelta(hours=1))
    post(client, source_body("another-source"), writer, "purges-expired-keys")

    retry = post(client, dispatch_body(), writer, "old-but-kept")

    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert ids_and_positions(retry) == ids_and_positions(first)


def test_a_key_older_than_the_configured_time_is_forgotten(
    client: TestClient, writer: dict[str, str], ledger: Ledger
) -> None:
    post(client, source_body(), writer, "source")
    post(client, dispatch_body(), writer, "expired")
    age_idempotency_keys(ledger, ledger.store.idempotency_ttl + timedelta(hours=1))
    post(client, source_body("another-source"), writer, "purges-expired-keys")

    retry = post(client, dispatch_body(), writer, "expired")

    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers


def test_public_reads_show_a_digest_of_the_idempotency_key_never_the_key(
    client: TestClient, make_key: TokenFactory
) -> None:
    # given a desk whose keys say more than they should
    writer = make_key(Scope.events_write)
    key = "desk:alice@example.org:import-2026-12-03.jsonl:line-12"
    sent = client.post("/v1/events", json=source_body(), headers={**writer, "Idempotency-Key": key})
    assert sent.status_code == 201
    # when anyone reads the log, one event or a page of them, or the source's stream
    event_id = sent.json()["events"][0]["id"]
    one = client.get(f"/v1/events/{event_id}")
    pages = [
        one.text,
        client.get("/v1/events").text,
        client.get("/v1/streams/source:dailynk-2023-05-nk-workers-russia").text,
    ]
    # then they see the key's SHA-256, never the key
    digest = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    assert one.json()["idempotency_key"] == digest
    assert all(key not in page and "alice" not in page for page in pages)
    # and a retry with the key is still recognised
    again = client.post(
        "/v1/events", json=source_body(), headers={**writer, "Idempotency-Key": key}
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
