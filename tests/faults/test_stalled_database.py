"""A stalled PostgreSQL, through the proxy, under a real uvicorn (issue 17): requests
already waiting on a query get their 503 within `LEDGER_DB_STALL_CHECK_SECONDS` and the
probe's 2 s, not at the statement timeout; a write so answered is outcome-unknown and a
retry with its key records it once; a query that is slow on a database that answers
(a lock wait) is never cut."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, text

from service.access.keys import Scope
from service.api.server_limits import uvicorn_limits
from service.app import create_app
from service.db.probe import PROBE_WITHIN_SECONDS
from service.ledger import Ledger, build_ledger
from service.log.tables import EVENTS
from tests.factories import dispatch_body, source_body
from tests.faults.proxy import FaultyProxy
from tests.faults.through_proxy import direct_engine, logged, proxy_to, settings_through
from tests.follow.servers import free_port

pytestmark = pytest.mark.postgres_only

STALL_CHECK_SECONDS = 1.0
ANSWERED_WITHIN = STALL_CHECK_SECONDS + PROBE_WITHIN_SECONDS + 1.0  # 1 s for a busy machine


@dataclass
class Served:
    proxy: FaultyProxy
    ledger: Ledger
    direct: Engine
    """The same database, not through the proxy: what is really in the log."""
    writer: dict[str, str]
    http: httpx.Client
    """Shared by the test's threads, with a connection for each."""

    def logged(self) -> int:
        return logged(self.direct)

    def post(self, body: dict[str, Any], key: str) -> httpx.Response:
        headers = {**self.writer, "Idempotency-Key": key}
        return self.http.post("/v1/events", json=body, headers=headers)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)


@pytest.fixture
def served(database_url: str) -> Iterator[Served]:
    proxy = proxy_to(database_url)
    settings = settings_through(
        proxy,
        database_url,
        db_pool_size=8,
        # Longer than the stall check: what answers the stalled requests is the check.
        db_connect_timeout_seconds=10,
        db_pool_timeout_seconds=10,
        db_stall_check_seconds=STALL_CHECK_SECONDS,
        rate_limits_enabled=False,
    )
    ledger = build_ledger(settings)
    direct = direct_engine(database_url)
    _, token = ledger.keys.create("desk", {Scope.events_write})
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, ledger),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            **uvicorn_limits(settings),
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", timeout=60, limits=httpx.Limits(max_connections=32)
    )
    try:
        _wait_for(lambda: server.started, "uvicorn did not start")
        faults = Served(proxy, ledger, direct, {"Authorization": f"Bearer {token}"}, http)
        # the key is used once before any fault: its first use writes `last_used_at`
        assert faults.post(source_body(), "source").status_code == 201
        yield faults
    finally:
        http.close()
        proxy.close()
        server.should_exit = True
        thread.join(30)
        ledger.engine.dispose()
        direct.dispose()


def _wait_for(condition: Callable[[], bool], failure: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)


def _timed(ask: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = ask()
    return response, time.monotonic() - started


def test_requests_waiting_on_a_stalled_database_get_503_problems_within_seconds(
    served: Served,
) -> None:
    before = served.logged()
    # given every byte to and from the database is held back, as by a frozen server
    served.proxy.stalled.set()
    try:
        # when 20 readers ask for a view and 4 writers send keyed events
        with ThreadPoolExecutor(24) as pool:
            reads = [pool.submit(_timed, lambda: served.get("/v1/deployments")) for _ in range(20)]
            writes = [
                pool.submit(_timed, partial(served.post, dispatch_body(), f"stalled-{n}"))
                for n in range(4)
            ]
            time.sleep(0.5)
            health, health_seconds = _timed(lambda: served.get("/healthz"))
        # then each is answered with a 503 problem within the check and the probe's 2 s,
        # long before the 10 s connect and pool timeouts or the 30 s statement timeout
        for read, seconds in (future.result() for future in reads):
            assert read.status_code == 503, read.text
            assert read.json()["type"].endswith("/problems/database-unavailable")
            assert read.headers["Retry-After"]
            assert seconds < ANSWERED_WITHIN
        # and a write, which may still be committed once the database answers, says so
        for write, seconds in (future.result() for future in writes):
            assert write.status_code == 503, write.text
            problem = write.json()
            assert problem["type"].endswith("/problems/outcome-unknown")
            assert "Idempotency-Key" in problem["detail"]
            assert "nothing was recorded" not in problem["detail"].lower()
            assert write.headers["Retry-After"]
            assert seconds < ANSWERED_WITHIN
        # and liveness never waited
        assert health.status_code == 200
        assert health_seconds < 1.0
    finally:
        served.proxy.stalled.clear()

    # when the database answers again, so does the service
    _wait_for(lambda: served.get("/v1/deployments").status_code == 200, "no 200 after the stall")
    # and the requests left running end on their own, their connections back in the pool
    _wait_for(lambda: served.ledger.engine.pool.checkedout() == 0, "connections still out")  # type: ignore[attr-defined]
    # and each write retried with its key is recorded exactly once
    for n in range(4):
        retried = served.post(dispatch_body(), f"stalled-{n}")
        assert retried.status_code == 201, retried.text
    assert served.logged() == before + 4


def test_a_slow_query_on_a_database_that_answers_is_not_cut(served: Served) -> None:
    before = served.logged()
    # given another session holds a lock on the log for a while: the service's queries
    # wait on it, while the database answers the probe
    held_for = STALL_CHECK_SECONDS * 3
    with served.direct.connect() as holder:
        holder.execute(text(f"LOCK TABLE {EVENTS.name} IN ACCESS EXCLUSIVE MODE"))
        with ThreadPoolExecutor(2) as pool:
            read = pool.submit(_timed, lambda: served.get("/v1/events"))
            write = pool.submit(_timed, lambda: served.post(dispatch_body(), "slow"))
            time.sleep(held_for)
            holder.rollback()
            # then both wait for the lock, past several stall checks, and are answered
            read_response, read_seconds = read.result()
            write_response, write_seconds = write.result()
    assert read_response.status_code == 200, read_response.text
    assert write_response.status_code == 201, write_response.text
    assert min(read_seconds, write_seconds) >= held_for - 0.5
    assert served.logged() == before + 1
