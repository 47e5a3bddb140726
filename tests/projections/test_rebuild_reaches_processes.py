"""A rebuild reaches every running process: the next read after `labor-ledger rebuild`,
in any process and any worker, serves the rebuilt view.

The service runs as a user runs it (uvicorn in its own process, one or two workers);
a derived row is changed behind its back before it starts, so that what it folds and
caches is wrong; `labor-ledger rebuild` runs as a third process and repairs the row
without moving the log's head. Nothing a worker computed before the rebuild may be
served after it: not the rendered bytes, not the folded groups, not a 304.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from service.domain.events import EventIn, EventInBase
from service.ingest.submit import new_events
from service.ledger import Ledger
from tests.factories import dispatch_body, source_body
from tests.follow.servers import ROOT, free_port, service_env

EVENT = TypeAdapter[EventInBase](EventIn)
REBUILT_MAX = 385  # "about 350" to Moscow: at most 385 by the approximately rule
TAMPERED_MAX = 123456
READS = 12  # per step: with two workers, each is all but sure to answer some
READY_WITHIN_SECONDS = 60
CLI = Path(sys.executable).with_name("labor-ledger")


@contextmanager
def service(database_url: str, workers: int) -> Iterator[str]:
    """uvicorn with `workers` processes on the test's database; its URL once ready."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "1",
        ],
        cwd=ROOT,
        env=service_env(database_url),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while True:
            assert process.poll() is None, f"the service exited with {process.returncode}"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service was never ready"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def moscow_max(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    [row] = [r for r in response.json()["rows"] if r["place"]["place_id"] == "ru-moscow"]
    return row["dispatched"]["max"]


def reads(base: str, params: dict[str, str] | None = None) -> list[httpx.Response]:
    """READS reads on fresh connections (each may meet either worker)."""
    return [httpx.get(f"{base}/v1/deployments", params=params, timeout=30) for _ in range(READS)]


def tamper(database_url: str, sql: str) -> None:
    engine = create_engine(make_url(database_url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            assert conn.execute(text(sql)).rowcount > 0, sql
    finally:
        engine.dispose()


def labor_ledger_rebuild(database_url: str) -> None:
    env = service_env(database_url)
    done = subprocess.run(
        [str(CLI), "rebuild"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rebuilt from" in done.stdout, done.stdout


@pytest.mark.parametrize("workers", [2])
def test_the_next_read_after_a_rebuild_in_every_worker_serves_the_rebuilt_view(
    workers: int, ledger: Ledger, database_url: str
) -> None:
    # given a dispatch to Moscow, and its derived row changed behind the service's back
    events = [EVENT.validate_python(b) for b in (source_body(), dispatch_body())]
    ledger.store.append(new_events(events, ledger.gazetteer), principal="desk")
    tamper(
        database_url,
        f"UPDATE flow_contributions SET count_max = {TAMPERED_MAX} WHERE place_id = 'ru-moscow'",
    )

    with service(database_url, workers) as base:
        # and a service that folded, rendered and cached the wrong view (the bug's
        # precondition: without a rebuild, its readers see the changed row)
        before = reads(base)
        assert [moscow_max(r) for r in before] == [TAMPERED_MAX] * READS
        stale_etag = before[0].headers["etag"]

        # when another process rebuilds the views (the log's head does not move)
        labor_ledger_rebuild(database_url)

        # then the next read, whichever worker answers, serves the rebuilt view
        after = reads(base)
        assert [moscow_max(r) for r in after] == [REBUILT_MAX] * READS
        assert {r.json()["head"] for r in after} == {before[0].json()["head"]}
        # with an ETag of its own: a client holding the old view gets the new one, not a 304
        assert stale_etag not in {r.headers["etag"] for r in after}
        again = [
            httpx.get(f"{base}/v1/deployments", headers={"If-None-Match": stale_etag}, timeout=30)
            for _ in range(READS)
        ]
        assert [moscow_max(r) for r in again] == [REBUILT_MAX] * READS
        # and a view read through the other path (a filtered fold) agrees
        by_country = reads(base, {"country": "RU"})
        assert [moscow_max(r) for r in by_country] == [REBUILT_MAX] * READS
