"""Webhook deliveries, every outbound call mocked (pytest-httpx), on the real database.

The worker runs in the test's thread (`run_pending`) with a clock the test moves
on, so a retry "after the backoff" needs no waiting.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pytest_httpx import HTTPXMock
from standardwebhooks import Webhook, WebhookVerificationError

from service.follow.delivery import DeliveryPolicy, DeliveryWorker
from service.ledger import Ledger
from tests.factories import dispatch_body, source_body
from tests.follow.conftest import Webhooks
from tests.follow.servers import TEST_SECRET

HOOK = "https://newsroom.example.org/ledger-hook"
POLICY = DeliveryPolicy(
    timeout_seconds=5,
    lease_seconds=30,
    backoff_seconds=60,
    backoff_max_seconds=3600,
    poll_seconds=0.05,
    concurrency=4,
    secret_key=TEST_SECRET,  # the app's: the secrets it sealed open here
)


@dataclass
class Clock:
    """The real time, plus however far the test has moved it on."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def worker(ledger: Ledger, clock: Clock) -> Iterator[DeliveryWorker]:
    running = DeliveryWorker(ledger.engine, POLICY, clock=clock, jitter=lambda: 0.0)
    yield running
    running.close()


def record(client: TestClient, writer: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/events", json=body, headers=writer)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()["events"][0]
    return event


def positions(requests: list[httpx.Request]) -> list[int]:
    return [int(r.headers["Ledger-Position"]) for r in requests]


def test_a_new_event_is_posted_to_the_subscriber_once_and_marked_delivered(
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    httpx_mock: HTTPXMock,
) -> None:
    # given a subscriber and a new event
    webhook = webhooks.subscribe(HOOK)["webhook"]
    event = record(client, writer, source_body())
    httpx_mock.add_response(url=HOOK, method="POST", status_code=204)

    # when the worker runs (twice)
    assert worker.run_pending() == 1
    assert worker.run_pending() == 0

    # then the event was POSTed once, in its envelope, and the webhook says so
    request = httpx_mock.get_request()
    assert request is not None
    assert json.loads(request.content) == client.get(f"/v1/events/{event['id']}").json()
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Ledger-Event-Id"] == event["id"]
    assert request.headers["Ledger-Position"] == "1"
    assert request.headers["Ledger-Event-Type"] == "source.recorded"
    status = webhooks.status(webhook["id"])
    assert status["last_delivered_position"] == 1
    assert (status["pending_deliveries"], status["failures"], status["status"]) == (0, 0, "active")


def test_the_signature_is_hmac_sha256_of_the_time_a_dot_and_the_exact_body(
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    httpx_mock: HTTPXMock,
) -> None:
    secret = webhooks.subscribe(HOOK)["secret"]
    record(client, writer, source_body())
    httpx_mock.add_response(url=HOOK, status_code=200)

    worker.run_pending()

    request = httpx_mock.get_request()
    assert request is not None
    header = dict(part.split("=", 1) for part in request.headers["Ledger-Signature"].split(","))
    assert set(header) == {"t", "v1"} and header["t"].isdigit()
    expected = hmac.new(
        secret.encode("utf-8"), header["t"].encode("ascii") + b"." + request.content, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(header["v1"], expected)


def test_a_delivery_verifies_with_the_standard_webhooks_library(
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    httpx_mock: HTTPXMock,
) -> None:
    """A receiver can check deliveries with any Standard Webhooks library, as here
    with the `standardwebhooks` package, given only the secret."""
    secret = webhooks.subscribe(HOOK)["secret"]
    event = record(client, writer, source_body())
    httpx_mock.add_response(url=HOOK, status_code=200)

    worker.run_pending()

    request = httpx_mock.get_request()
    assert request is not None
    assert Webhook(secret).verify(request.content, dict(request.headers)) == json.loads(
        request.content
    )
    assert request.headers["webhook-id"] == event["id"]
    assert request.headers["webhook-signature"].startswith("v1,")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.content + b" ", dict(request.headers))
    other_secret = webhooks.subscribe(HOOK)["secret"]
    with pytest.raises(WebhookVerificationError):
        Webhook(other_secret).verify(request.content, dict(request.headers))


def test_a_retry_keeps_the_standard_message_id_and_signs_its_own_time(
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    clock: Clock,
    httpx_mock: HTTPXMock,
) -> None:
    webhooks.subscribe(HOOK)
    record(client, writer, source_body())
    httpx_mock.add_response(url=HOOK, status_code=503)
    httpx_mock.add_response(url=HOOK, status_code=200)

    worker.run_pending()
    clock.advance(POLICY.backoff_seconds)
    worker.run_pending()

    first, second = httpx_mock.get_requests()
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    later = int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"])
    assert later >= POLICY.backoff_seconds
    assert first.headers["webhook-signature"] != second.headers["webhook-signature"]


def test_a_500_is_retried_after_the_backoff_and_delivered_once(
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    clock: Clock,
    httpx_mock: HTTPXMock,
) -> None:
    webhook = webhooks.subscribe(HOOK)["webhook"]
    record(client, writer, source_body())
    httpx_mock.add_response(url=HOOK, status_code=500)
    httpx_mock.add_response(url=HOOK, status_code=200)

    # when the first attempt meets a 500
    assert worker.run_pending() == 1
    failed = webhooks.status(webhook["id"])
    assert (failed["failures"], failed["pending_deliveries"], failed["status"]) == (1, 1, "active")
    assert "HTTP 500" in failed["last_error"]

    # then nothing is tried again before the backoff, and once after it
    assert worker.run_pending() == 0
    clock.advance(POLICY.backoff_seconds)
    assert worker.run_pending() == 1
    requests = httpx_mock.get_requests()
    assert positions(requests) == [1, 1]
    assert [r.headers["Ledger-Attempt"] for r in requests] == ["1", "2"]
    delivered = webhooks.status(webhook["id"])
    assert (delivered["last_delivered_position"], delivered["failures"]) == (1, 0)
    assert worker.run_pending() == 0


def test_a_timeout_is_retried(
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    clock: Clock,
    httpx_mock: HTTPXMock,
) -> None:
    webhook = webhooks.subscribe(HOOK)["webhook"]
    record(client, writer, source_body())
    httpx_mock.add_exception(httpx.ReadTimeout("the receiver took too long"), url=HOOK)
    httpx_mock.add_response(url=HOOK, status_code=200)

    worker.run_pending()
    assert "timed out" in webhooks.status(webhook["id"])["last_error"]
    clock.advance(POLICY.backoff_seconds)
    worker.run_pending()

    assert positions(httpx_mock.get_requests()) == [1, 1]
    assert webhooks.status(webhook["id"])["last_delivered_position"] == 1


@pytest.mark.parametrize("status", [408, 429], ids=["request-timeout", "too-many-requests"])
def test_a_busy_receiver_is_retried_after_a_growing_backoff(
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    clock: Clock,
    httpx_mock: HTTPXMock,
    status: int,
) -> None:
    """408 and 429 say "not now", not "never": retried, each wait twice the one before."""
    # given a receiver that answers `status` three times, then takes the event
    webhook = webhooks.subscribe(HOOK, max_attempts=5)["webhook"]
    record(client, writer, source_body())
    for _ in range(3):
        httpx_mock.add_response(url=HOOK, status_code=status)
    httpx_mock.add_response(url=HOOK, status_code=200)
    assert worker.run_pending() == 1
    busy = webhooks.status(webhook["id"])
    assert (busy["status"], busy["failures"]) == ("active", 1)
    assert busy["last_error"] == f"HTTP {status} from the receiver"

    # when the clock moves on, each retry waits for its own, doubled, backoff
    for waited in (60, 120, 240):
        clock.advance(waited - 1)
        assert worker.run_pending() == 0, f"retried before {waited} s"
        clock.advance(1)
        assert worker.run_pending() == 1, f"not retried after {waited} s"

    # then the event was delivered on the fourth attempt, once
    requests = httpx_mock.get_requests()
    assert positions(requests) == [1, 1, 1, 1]
    assert [r.headers["Ledger-Attempt"] for r in requests] == ["1", "2", "3", "4"]
    delivered = webhooks.status(webhook["id"])
    assert (delivered["last_delivered_position"], delivered["failures"]) == (1, 0)
    assert (delivered["status"], delivered["pending_deliveries"]) == ("active", 0)
    clock.advance(3600)
    assert worker.run_pending() == 0


def test_a_receiver_down_past_the_retry_budget_parks_the_webhook_which_resumes_in_order(
    client: TestClient,
    admin: dict[str, str],
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    clock: Clock,
    httpx_mock: HTTPXMock,
) -> None:
    # given a webhook allowed 3 attempts, and a receiver that refuses connections
    webhook = webhooks.subscribe(HOOK, max_attempts=3)["webhook"]
    for n in range(3):
        record(client, writer, source_body(f"source-{n}"))
    for _ in range(3):
        httpx_mock.add_exception(httpx.ConnectError("connection refused"), url=HOOK)

    # when the worker tries through the whole backoff
    for delay in (0, 60, 120, 240, 3600):
        clock.advance(delay)
        worker.run_pending()

    # then it tried the first event 3 times, and the webhook is parked
    assert positions(httpx_mock.get_requests()) == [1, 1, 1]
    parked = webhooks.status(webhook["id"])
    assert parked["status"] == "failing"
    assert parked["failures"] == 3
    assert "ConnectError" in parked["last_error"]
    assert parked["last_delivered_position"] is None

    # and while parked it still collects what it is owed, but nothing is sent
    record(client, writer, source_body("source-3"))
    clock.advance(3600)
    assert worker.run_pending() == 0
    assert webhooks.status(webhook["id"])["pending_deliveries"] == 4

    # when an admin re-enables it and the receiver is back
    enabled = client.post(f"/v1/admin/webhooks/{webhook['id']}/enable", headers=admin)
    assert enabled.status_code == 200
    assert (enabled.json()["status"], enabled.json()["failures"]) == ("active", 0)
    httpx_mock.add_response(url=HOOK, status_code=200, is_reusable=True)
    assert worker.run_pending() == 4

    # then it resumed where it stopped, in order, and nothing was skipped
    assert positions(httpx_mock.get_requests())[3:] == [1, 2, 3, 4]
    done = webhooks.status(webhook["id"])
    assert (done["last_delivered_position"], done["pending_deliveries"]) == (4, 0)


def test_a_4xx_answer_parks_the_webhook_at_once(
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    clock: Clock,
    httpx_mock: HTTPXMock,
) -> None:
    webhook = webhooks.subscribe(HOOK)["webhook"]
    record(client, writer, source_body())
    httpx_mock.add_response(url=HOOK, status_code=410)

    worker.run_pending()
    clock.advance(3600)
    worker.run_pending()

    parked = webhooks.status(webhook["id"])
    assert parked["status"] == "failing"
    assert parked["last_error"] == "HTTP 410 from the receiver (not retried)"
    assert len(httpx_mock.get_requests()) == 1


def test_a_subscriber_gets_only_the_types_it_asked_for_and_only_new_events(
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    httpx_mock: HTTPXMock,
) -> None:
    # given a dispatch recorded before the subscription, and one after
    record(client, writer, source_body())
    record(client, writer, dispatch_body())
    webhook = webhooks.subscribe(HOOK, event_types=["workers.dispatched"])["webhook"]
    assert webhook["from_position"] == 2
    record(client, writer, source_body("rfa-2023-04"))
    record(client, writer, dispatch_body("rfa-2023-04"))
    httpx_mock.add_response(url=HOOK, status_code=200)

    worker.run_pending()

    request = httpx_mock.get_request()
    assert request is not None
    assert (request.headers["Ledger-Position"], request.headers["Ledger-Event-Type"]) == (
        "4",
        "workers.dispatched",
    )


def test_two_workers_never_deliver_one_subscriptions_events_side_by_side(
    ledger: Ledger,
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    clock: Clock,
    httpx_mock: HTTPXMock,
) -> None:
    webhooks.subscribe(HOOK)
    record(client, writer, source_body())
    record(client, writer, dispatch_body())
    other = DeliveryWorker(ledger.engine, POLICY, clock=clock)
    httpx_mock.add_response(url=HOOK, status_code=200, is_reusable=True)

    # while one worker holds the first event, the second event is nobody's to take
    [first] = worker.claim(10)
    assert first.position == 1
    assert other.claim(10) == []

    # once the first is delivered, the second is
    worker.deliver(first)
    [second] = other.claim(10)
    assert second.position == 2
    other.deliver(second)
    other.close()
    assert positions(httpx_mock.get_requests()) == [1, 2]


def test_a_delivery_claimed_by_a_worker_that_died_is_made_after_its_lease(
    ledger: Ledger,
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    clock: Clock,
    httpx_mock: HTTPXMock,
) -> None:
    webhooks.subscribe(HOOK)
    record(client, writer, source_body())
    dead = DeliveryWorker(ledger.engine, POLICY, clock=clock)
    assert len(dead.claim(10)) == 1  # ... and then its process is gone
    dead.close()
    httpx_mock.add_response(url=HOOK, status_code=200)

    assert worker.run_pending() == 0
    clock.advance(POLICY.lease_seconds)
    assert worker.run_pending() == 1


def test_a_disabled_webhook_gets_nothing_more(
    client: TestClient,
    admin: dict[str, str],
    webhooks: Webhooks,
    writer: dict[str, str],
    worker: DeliveryWorker,
    httpx_mock: HTTPXMock,
) -> None:
    webhook = webhooks.subscribe(HOOK)["webhook"]
    record(client, writer, source_body())

    disabled = client.delete(f"/v1/admin/webhooks/{webhook['id']}", headers=admin)
    record(client, writer, dispatch_body())

    assert disabled.status_code == 200
    assert (disabled.json()["status"], disabled.json()["pending_deliveries"]) == ("disabled", 0)
    assert worker.run_pending() == 0
    assert httpx_mock.get_requests() == []
