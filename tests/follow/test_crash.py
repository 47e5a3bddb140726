"""Kill the service with deliveries pending: on restart every one is made."""

from __future__ import annotations

import time
from uuid import UUID

import httpx
import pytest

from service.follow.subscriptions import get_subscription
from service.ledger import Ledger
from tests.factories import source_body
from tests.follow.conftest import ServerFactory
from tests.follow.servers import Receiver

EVENTS = 20
FAST_DELIVERY = {
    "deliver_webhooks": "true",
    "webhook_poll_seconds": "0.05",
    "webhook_timeout_seconds": "1",
    "webhook_lease_seconds": "1",
    "webhook_backoff_seconds": "0.1",
}


def test_deliveries_pending_when_the_service_is_killed_are_all_made_after_a_restart(
    live_server: ServerFactory,
    ledger: Ledger,
    admin: dict[str, str],
    writer: dict[str, str],
    record_property: pytest.RecordProperty,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a service delivering to a slowish receiver, owing it 20 events
    receiver = Receiver(delay=0.05)
    try:
        service = live_server(**FAST_DELIVERY)
        with httpx.Client(base_url=service.url, timeout=30) as http:
            created = http.post("/v1/admin/webhooks", json={"url": receiver.url}, headers=admin)
            assert created.status_code == 201, created.text
            batch = {"events": [source_body(f"report-{n}") for n in range(EVENTS)]}
            assert http.post("/v1/events", json=batch, headers=writer).status_code == 201
        webhook_id = created.json()["webhook"]["id"]

        # when it is killed (SIGKILL) part way through, and started again
        receiver.wait_for(distinct=5, timeout=30)
        service.kill()
        subscription = get_subscription(ledger.engine, UUID(webhook_id))
        assert subscription is not None and subscription.pending > 0
        pending_at_kill = subscription.pending
        live_server(**FAST_DELIVERY)
        received = receiver.wait_for(distinct=EVENTS, timeout=30)
    finally:
        receiver.close()

    # then every event arrived, first deliveries in position order, and the receiver
    # (de-duplicating by event id) saw at most the one in flight at the kill twice
    first_seen: dict[str, int] = {}
    for delivery in received:
        first_seen.setdefault(delivery.event_id, delivery.position)
    assert list(first_seen.values()) == list(range(1, EVENTS + 1))
    repeats = len(received) - len(first_seen)
    record_property("webhook_repeats_after_sigkill", repeats)
    with capsys.disabled():
        print(
            f"\n  SIGKILL with {pending_at_kill} of {EVENTS} deliveries pending: all "
            f"{len(first_seen)} delivered after the restart, {repeats} delivered twice"
        )
    assert repeats <= 1
    assert _settles(ledger, webhook_id)


def _settles(ledger: Ledger, webhook_id: str) -> bool:
    """The service records the last delivery just after the receiver has it."""

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = get_subscription(ledger.engine, UUID(webhook_id))
        if found and found.pending == 0 and found.last_delivered_position == EVENTS:
            return True
        time.sleep(0.05)
    return False
