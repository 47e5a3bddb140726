"""`/metrics` for Prometheus: what the service records and serves, correct with several
workers.

Each uvicorn worker is a process of its own. `labor-ledger serve --workers N` points
them at one directory (`PROMETHEUS_MULTIPROC_DIR`, prometheus_client's multiprocess
mode): each writes its counters there, and a scrape answered by any of them adds up
all. The head position and the webhook backlog are read from the database when
scraped: one number for the whole ledger, whichever worker answers.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from service.api.deps import LedgerDep
from service.follow.tables import OUTBOX
from service.log.append import read_head

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

router = APIRouter(include_in_schema=False)

EVENTS_APPENDED = Counter(
    "ledger_events_appended", "Events recorded by this process, by type.", ["type"]
)
APPENDS_REPLAYED = Counter(
    "ledger_appends_replayed", "POSTs answered from an Idempotency-Key's first result."
)
REQUEST_SECONDS = Histogram(
    "ledger_http_request_duration_seconds",
    "Time to answer a request, to its last byte, by method, route and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OPEN_STREAMS = Gauge(
    "ledger_open_streams",
    "Event streams (text/event-stream answers) being sent now.",
    multiprocess_mode="livesum",
)


class LedgerState(Collector):
    """What the database says at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        with self.engine.connect() as conn:
            position = read_head(conn).position
            backlog = conn.execute(select(func.count()).select_from(OUTBOX)).scalar_one()
        yield GaugeMetricFamily(
            "ledger_head_position", "The position of the last recorded event.", value=position
        )
        yield GaugeMetricFamily(
            "ledger_webhook_backlog",
            "Webhook deliveries owed, over every subscription (outbox rows).",
            value=backlog,
        )


def share_between_workers() -> Path:
    """Before workers start (they inherit the environment): the directory they count in,
    `PROMETHEUS_MULTIPROC_DIR` if set, else a new one, emptied of an earlier run's files
    (prometheus_client would add them in)."""
    given = os.environ.get(MULTIPROCESS_DIR)
    directory = Path(given) if given else Path(tempfile.mkdtemp(prefix="ledger-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_DIR] = str(directory)
    return directory


def forget_this_process() -> None:
    """At a worker's shutdown: its open streams no longer count (`livesum`)."""
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def _processes_registry() -> CollectorRegistry:
    if not os.environ.get(MULTIPROCESS_DIR):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


@router.get("/metrics")
def metrics(ledger: LedgerDep) -> Response:
    state = CollectorRegistry()
    state.register(LedgerState(ledger.engine))
    body = generate_latest(_processes_registry()) + generate_latest(state)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
