"""Faults between the service and PostgreSQL, through a proxy the test controls (issue 17):
a COMMIT whose answer is lost is a 503 that says the outcome is unknown (never "nothing
was recorded"), a retry with the same Idempotency-Key records it exactly once, and a
stalled or refusing database gives 503 problems, never a 500 or a hang."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.access.keys import Scope
from service.app import create_app
from service.ledger import Ledger, build_ledger
from tests.factories import dispatch_body, source_body
from tests.faults.proxy import CommitFault, FaultyProxy
from tests.faults.through_proxy import direct_engine, logged, proxy_to, settings_through

pytestmark = pytest.mark.postgres_only


@dataclass
class Proxied:
    proxy: FaultyProxy
    ledger: Ledger
    client: TestClient
    direct: Engine
    """The same database, not through the proxy: what is really in the log."""
    writer: dict[str, str]

    def logged(self) -> int:
        return logged(self.direct)

    def post(self, body: dict[str, Any], key: str) -> Any:
        return self.client.post(
            "/v1/events", json=body, headers={**self.writer, "Idempotency-Key": key}
        )


@pytest.fixture
def proxied(database_url: str) -> Iterator[Proxied]:
    proxy = proxy_to(database_url)
    settings = settings_through(
        proxy,
        database_url,
        db_pool_size=2,
        db_pool_timeout_seconds=1,
        db_connect_timeout_seconds=2,
    )
    ledger = build_ledger(settings)
    direct = direct_engine(database_url)
    _, token = ledger.keys.create("desk", {Scope.events_write})
    try:
        with TestClient(create_app(settings, ledger), raise_server_exceptions=False) as client:
            faults = Proxied(proxy, ledger, client, direct, {"Authorization": f"Bearer {token}"})
            # the key is used once before any fault: its first use writes `last_used_at`
            assert faults.post(source_body(), "source").status_code == 201
            yield faults
    finally:
        proxy.close()
        ledger.engine.dispose()
        direct.dispose()


@pytest.mark.parametrize("fault", list(CommitFault))
def test_a_lost_commit_is_an_unknown_outcome_and_a_retry_with_the_key_records_it_once(
    proxied: Proxied, fault: CommitFault
) -> None:
    before = proxied.logged()
    # given the connection is cut while the dispatch is being committed
    proxied.proxy.cut_at_commit = fault
    response = proxied.post(dispatch_body(), "dispatch-1")
    # then the answer says the outcome is unknown and how to retry, never "nothing recorded"
    assert proxied.proxy.cuts == 1
    assert response.status_code == 503, response.text
    problem = response.json()
    assert problem["type"].endswith("/problems/outcome-unknown")
    assert "Idempotency-Key" in problem["detail"]
    assert "nothing was recorded" not in problem["detail"].lower()
    assert response.headers["Retry-After"]
    # and the server did, or did not, commit it, as the fault says
    committed = fault is CommitFault.after_server
    assert proxied.logged() == before + (1 if committed else 0)

    # when the client retries with the same key
    retried = proxied.post(dispatch_body(), "dispatch-1")
    # then it is recorded exactly once
    assert retried.status_code == 201, retried.text
    assert retried.headers.get("Idempotent-Replayed") == ("true" if committed else None)
    assert proxied.logged() == before + 1


def test_a_refusing_database_answers_503_problems_and_healthz_stays_up(
    proxied: Proxied,
) -> None:
    # given the database refuses new connections and the pooled ones are gone
    proxied.proxy.refusing = True
    proxied.ledger.engine.dispose()
    # then reads and writes are 503 problems the client may retry
    read = proxied.client.get("/v1/events")
    assert read.status_code == 503, read.text
    assert read.json()["type"].endswith("/problems/database-unavailable")
    assert read.headers["Retry-After"]
    write = proxied.post(dispatch_body(), "dispatch-2")
    assert write.status_code == 503
    assert "Nothing was recorded" in write.json()["detail"]
    # and readiness says so, while liveness (no database) is fine
    assert proxied.client.get("/readyz").status_code == 503
    assert proxied.client.get("/healthz").status_code == 200
    # when the database is back, so is the service
    proxied.proxy.refusing = False
    assert proxied.post(dispatch_body(), "dispatch-2").status_code == 201


def test_a_stalled_database_makes_readyz_answer_503_rather_than_hang(proxied: Proxied) -> None:
    # given every byte to and from the database is held back
    proxied.proxy.stalled.set()
    try:
        # then readiness answers, saying the database does not answer in time
        ready = proxied.client.get("/readyz")
        assert ready.status_code == 503
        assert "did not answer within" in ready.json()["detail"]
        assert proxied.client.get("/healthz").json() == {"status": "ok"}
    finally:
        proxied.proxy.stalled.clear()
    assert proxied.client.get("/readyz").status_code in (200, 503)
