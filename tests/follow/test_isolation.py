"""One receiver's trouble is its own: hanging or failing receivers never hold up a
healthy one (issue 17). Real local receivers, the worker on its own thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_httpx import HTTPXMock

from service.follow.delivery import BackgroundDelivery, DeliveryPolicy, DeliveryWorker
from service.ledger import Ledger
from tests.factories import source_body
from tests.follow.conftest import DeliverPending, Webhooks
from tests.follow.servers import TEST_SECRET, Receiver


class HangingReceiver:
    """Accepts connections, reads what comes, and never answers, until closed."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed
                return
            with self.lock:
                self.connections.append(connection)

    def requests_held(self) -> int:
        with self.lock:
            return len(self.connections)

    def close(self) -> None:
        """Hang up: every delivery still waiting on it fails at once."""
        self.listener.close()
        with self.lock:
            for connection in self.connections:
                connection.close()


@pytest.fixture
def hanging() -> Iterator[list[HangingReceiver]]:
    receivers = [HangingReceiver() for _ in range(6)]
    yield receivers
    for receiver in receivers:
        receiver.close()


def test_a_healthy_subscriber_gets_each_event_while_hanging_receivers_are_still_pending(
    ledger: Ledger,
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    receiver: Receiver,
    hanging: list[HangingReceiver],
) -> None:
    # given six receivers that never answer, registered before the healthy one
    hanging_ids = [webhooks.subscribe(h.url)["webhook"]["id"] for h in hanging]
    webhooks.subscribe(receiver.url)
    # an attempt's deadline far beyond the test: the hanging ones stay pending throughout
    policy = DeliveryPolicy(
        timeout_seconds=120,
        lease_seconds=240,
        poll_seconds=0.05,
        concurrency=len(hanging) + 2,
        failing_concurrency=1,
        allow_private_targets=True,
        secret_key=TEST_SECRET,
    )
    delivery = BackgroundDelivery(DeliveryWorker(ledger.engine, policy))
    delivery.start()
    try:
        # when three events are recorded
        for n in range(3):
            created = client.post("/v1/events", json=source_body(f"src-{n}"), headers=writer)
            assert created.status_code == 201

        # then the healthy subscriber gets all three, in order ...
        got = receiver.wait_for(3, timeout=60)
        assert [d.position for d in got] == [1, 2, 3]
        # ... while every hanging receiver still holds its first event
        for webhook_id, h in zip(hanging_ids, hanging, strict=True):
            status = webhooks.status(webhook_id)
            assert (status["pending_deliveries"], status["last_delivered_position"]) == (3, None)
            assert status["failures"] == 0  # not failed: still waiting for an answer
            assert h.requests_held() == 1
    finally:
        for h in hanging:
            h.close()
        delivery.stop(timeout=30)


class TricklingReceiver:
    """Answers one byte of a header at a time, a byte every 0.2 s, for two minutes:
    never slow enough for a read to time out, never done."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            connection.recv(65536)
            reply = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"z" * 600
            for byte in reply:
                if self.stop.wait(0.2):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:  # the worker hung up: done
                    return

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_attempts_deadline(
    client: TestClient, webhooks: Webhooks, writer: dict[str, str], deliver_pending: DeliverPending
) -> None:
    """Each read gets a byte in time, so only the attempt's total deadline ends it."""
    trickling = TricklingReceiver()
    webhook_id = webhooks.subscribe(trickling.url)["webhook"]["id"]
    client.post("/v1/events", json=source_body(), headers=writer)
    policy = DeliveryPolicy(timeout_seconds=1, allow_private_targets=True, secret_key=TEST_SECRET)
    try:
        assert deliver_pending(policy) == 1
    finally:
        trickling.close()

    status = webhooks.status(webhook_id)
    assert status["last_error"] == "timed out: ReadTimeout"
    assert (status["pending_deliveries"], status["failures"]) == (1, 1)


HEALTHY = "https://healthy.example.org/hook"
FAILING = "https://failing.example.org/hook"


def test_a_receiver_that_keeps_failing_is_claimed_only_in_the_narrow_lane(
    ledger: Ledger,
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    httpx_mock: HTTPXMock,
) -> None:
    # given a worker whose breaker trips after two failures in a row
    clock: dict[str, Any] = {"now": datetime.now(UTC)}
    policy = DeliveryPolicy(
        backoff_seconds=10, breaker_failures=2, allow_private_targets=True, secret_key=TEST_SECRET
    )
    worker = DeliveryWorker(ledger.engine, policy, clock=lambda: clock["now"], jitter=lambda: 0)
    webhooks.subscribe(HEALTHY)
    failing_id = webhooks.subscribe(FAILING)["webhook"]["id"]
    httpx_mock.add_response(url=HEALTHY, status_code=200, is_reusable=True)
    httpx_mock.add_response(url=FAILING, status_code=503, is_reusable=True)
    try:
        client.post("/v1/events", json=source_body("src-0"), headers=writer)
        clock["now"] = datetime.now(UTC)

        # when the failing receiver has failed twice
        worker.run_pending()
        clock["now"] += timedelta(seconds=10)
        worker.run_pending()
        status = webhooks.status(failing_id)
        assert (status["failures"], status["status"]) == (2, "active")
        client.post("/v1/events", json=source_body("src-1"), headers=writer)
        clock["now"] += timedelta(seconds=3600)

        # then the lane of receivers in good standing holds only the healthy one's event,
        # and the failing one waits in the tripped lane
        [good] = worker.claim(10, tripped=False)
        [tripped] = worker.claim(10, tripped=True)
        assert (good.url, good.position) == (HEALTHY, 2)
        assert (tripped.url, tripped.position) == (FAILING, 1)
    finally:
        worker.close()
