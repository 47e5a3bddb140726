"""The follow tests run their own delivery workers: the app's stays off.

Their receivers listen on 127.0.0.1, so private targets are allowed here, unless a
test says otherwise with `@pytest.mark.settings(webhooks_allow_private_targets=False)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.follow.delivery import DeliveryPolicy, DeliveryWorker
from service.ledger import Ledger
from service.settings import Settings
from tests.follow.servers import LiveServer, Receiver, ThreadedServer

ServerFactory = Callable[..., LiveServer]
ServersFactory = Callable[..., list[LiveServer]]


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest) -> Settings:
    marked = request.node.get_closest_marker("settings")
    return Settings(
        **{"webhooks_allow_private_targets": True, **(marked.kwargs if marked else {})},
        database_url=database_url,
        migrate_on_start=False,
        load_seed=False,
        bootstrap_admin=False,
        secret_key="test-secret",
        db_pool_size=5,
        deliver_webhooks=False,
        stream_heartbeat_seconds=1,
        stream_poll_seconds=0.05,
    )


@pytest.fixture
def live_server(database_url: str) -> Iterator[ServerFactory]:
    """`live_server(**settings)` starts the service in a uvicorn process on this test's
    database; every one started is stopped after the test."""
    started: list[LiveServer] = []

    def start(**settings: str) -> LiveServer:
        server = LiveServer(database_url, settings).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def live_servers(database_url: str) -> Iterator[ServersFactory]:
    """`live_servers(n, **settings)`: n service processes on this test's database,
    started side by side."""
    started: list[LiveServer] = []

    def start(count: int, **settings: str) -> list[LiveServer]:
        servers = [LiveServer(database_url, settings).launch() for _ in range(count)]
        started.extend(servers)
        return [server.wait_ready() for server in servers]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def served(app: FastAPI) -> Iterator[ThreadedServer]:
    """The test's app behind a real uvicorn, in this process."""
    server = ThreadedServer(app).start()
    yield server
    server.stop()


@dataclass
class Webhooks:
    """An admin's webhooks, through the test's client."""

    client: TestClient
    admin: dict[str, str]

    def register(self, url: str, **body: Any) -> Any:
        """The answer to registering a webhook to `url`, whatever it is."""
        return self.client.post("/v1/admin/webhooks", json={"url": url, **body}, headers=self.admin)

    def subscribe(self, url: str, **body: Any) -> dict[str, Any]:
        """A webhook registered: `{"webhook": ..., "secret": ...}` (the secret shown once)."""
        response = self.register(url, **body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def status(self, webhook_id: str) -> dict[str, Any]:
        response = self.client.get(f"/v1/admin/webhooks/{webhook_id}", headers=self.admin)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found


@pytest.fixture
def webhooks(client: TestClient, admin: dict[str, str]) -> Webhooks:
    return Webhooks(client, admin)


DeliverPending = Callable[..., int]


@pytest.fixture
def deliver_pending(ledger: Ledger) -> DeliverPending:
    """`deliver_pending(policy, **worker_options)`: one worker's pass over the deliveries
    owed, in the test's thread, the worker closed after; how many it attempted."""

    def deliver(policy: DeliveryPolicy, **options: Any) -> int:
        worker = DeliveryWorker(ledger.engine, policy, **options)
        try:
            return worker.run_pending()
        finally:
            worker.close()

    return deliver
