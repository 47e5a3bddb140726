"""Webhook secrets are stored sealed under the service's secret, never in clear."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from fastapi.testclient import TestClient
from pytest_httpx import HTTPXMock
from sqlalchemy import select, update
from standardwebhooks import Webhook

from service.follow.delivery import DeliveryPolicy, DeliveryWorker
from service.follow.tables import SUBSCRIPTIONS
from service.ledger import Ledger
from tests.factories import source_body
from tests.follow.conftest import DeliverPending, Webhooks
from tests.follow.servers import TEST_SECRET

HOOK = "https://newsroom.example.org/ledger-hook"


def stored_secret(ledger: Ledger, webhook_id: str) -> str:
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(SUBSCRIPTIONS.c.id, SUBSCRIPTIONS.c.secret)).all()
    found: str = next(r.secret for r in rows if str(r.id) == webhook_id)
    return found


def test_a_webhook_secret_is_stored_sealed_and_deliveries_still_verify(
    ledger: Ledger,
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    httpx_mock: HTTPXMock,
    deliver_pending: DeliverPending,
) -> None:
    created = webhooks.subscribe(HOOK)
    client.post("/v1/events", json=source_body(), headers=writer)
    httpx_mock.add_response(url=HOOK, status_code=200)

    stored = stored_secret(ledger, created["webhook"]["id"])
    deliver_pending(DeliveryPolicy(secret_key=TEST_SECRET))

    assert stored.startswith("sealed:v1:")
    assert created["secret"].removeprefix("whsec_") not in stored
    request = httpx_mock.get_request()
    assert request is not None
    Webhook(created["secret"]).verify(request.content, dict(request.headers))


def test_a_secret_an_earlier_version_kept_in_clear_is_sealed_when_the_worker_starts(
    ledger: Ledger,
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    httpx_mock: HTTPXMock,
) -> None:
    # given a subscription whose secret is in clear, as earlier versions stored it
    webhook_id = webhooks.subscribe(HOOK)["webhook"]["id"]
    old_secret = "whsec_" + secrets.token_urlsafe(32)
    with ledger.engine.begin() as conn:
        conn.execute(update(SUBSCRIPTIONS).values(secret=old_secret))
    client.post("/v1/events", json=source_body(), headers=writer)
    httpx_mock.add_response(url=HOOK, status_code=200)

    # when the delivery worker starts (and is told to stop at once)
    worker = DeliveryWorker(ledger.engine, DeliveryPolicy(secret_key=TEST_SECRET))
    stopped = threading.Event()
    stopped.set()
    worker.run(stopped)
    worker.run_pending()
    worker.close()

    # then the secret is sealed, and deliveries are still signed with it
    assert stored_secret(ledger, webhook_id).startswith("sealed:v1:")
    request = httpx_mock.get_request()
    assert request is not None
    t, v1 = (p.split("=", 1)[1] for p in request.headers["Ledger-Signature"].split(","))
    expected = hmac.new(old_secret.encode(), f"{t}.".encode() + request.content, hashlib.sha256)
    assert hmac.compare_digest(v1, expected.hexdigest())


def test_a_secret_sealed_under_another_service_secret_parks_the_webhook_and_sends_nothing(
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    httpx_mock: HTTPXMock,
    deliver_pending: DeliverPending,
) -> None:
    webhook_id = webhooks.subscribe(HOOK)["webhook"]["id"]
    client.post("/v1/events", json=source_body(), headers=writer)

    deliver_pending(DeliveryPolicy(secret_key="a-changed-service-secret"))

    assert httpx_mock.get_requests() == []
    status = webhooks.status(webhook_id)
    assert status["status"] == "failing"
    assert "LEDGER_SECRET_KEY" in status["last_error"]
