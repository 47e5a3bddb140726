"""How long a healthy webhook subscriber waits for each event while 12 receivers hang.

    .venv/bin/python -m tests.bench.webhook_isolation [--events 60] [--hanging 12]

A ledger on a fresh SQLite file, the delivery worker with the service's default policy
(the settings' defaults: 5 s per attempt, 16 threads for receivers in good standing, 4
for tripped ones, polling every 0.25 s), one healthy receiver and N receivers that
accept connections and never answer, all on 127.0.0.1. Events are recorded one every
0.2 s; a delivery's latency is from the answer to the POST that recorded the event to
the healthy receiver reading the webhook. Printed for 0 hanging receivers and for N.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from service.access.keys import Scope
from service.app import create_app
from service.follow.delivery import BackgroundDelivery, DeliveryPolicy, DeliveryWorker
from service.ledger import build_ledger
from service.settings import Settings
from tests.factories import source_body
from tests.follow.servers import Receiver
from tests.follow.test_isolation import HangingReceiver


def run(events: int, hanging_count: int, workdir: Path) -> list[float]:
    settings = Settings(
        database_url=f"sqlite:///{workdir / f'bench-{hanging_count}.db'}",
        load_seed=False,
        bootstrap_admin=False,
        secret_key="bench-secret",
        deliver_webhooks=False,  # the worker is started below, on its own
        warm_views_on_start=False,
        webhooks_allow_private_targets=True,
    )
    ledger = build_ledger(settings)
    healthy = Receiver()
    hanging = [HangingReceiver() for _ in range(hanging_count)]
    _, admin_token = ledger.keys.create("bench-admin", {Scope.admin})
    _, writer_token = ledger.keys.create("bench-desk", {Scope.events_write})
    admin = {"Authorization": f"Bearer {admin_token}"}
    writer = {"Authorization": f"Bearer {writer_token}"}
    delivery = BackgroundDelivery(DeliveryWorker(ledger.engine, DeliveryPolicy.of(settings)))
    recorded: dict[str, float] = {}
    try:
        with TestClient(create_app(settings, ledger)) as client:
            for url in [h.url for h in hanging] + [healthy.url]:
                response = client.post("/v1/admin/webhooks", json={"url": url}, headers=admin)
                assert response.status_code == 201, response.text
            delivery.start()
            for n in range(events):
                response = client.post("/v1/events", json=source_body(f"b-{n}"), headers=writer)
                assert response.status_code == 201, response.text
                recorded[response.json()["events"][0]["id"]] = time.monotonic()
                time.sleep(0.2)
            deadline = time.monotonic() + 30
            while len(arrivals(healthy)) < events and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        for h in hanging:
            h.close()
        delivery.stop(timeout=30)
        healthy.close()
        ledger.engine.dispose()
    arrived = arrivals(healthy)
    if missing := events - len(arrived):
        print(f"  {missing} events never reached the healthy receiver within 30 s")
    return sorted(arrived[i] - recorded[i] for i in recorded if i in arrived)


def arrivals(receiver: Receiver) -> dict[str, float]:
    """When each event first reached the receiver."""
    first: dict[str, float] = {}
    for delivery in receiver.received():
        first.setdefault(delivery.event_id, delivery.received_at)
    return first


def summary(latencies: list[float]) -> str:
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    return (
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms over {len(latencies)} events"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--hanging", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for count in (0, args.hanging):
            latencies = run(args.events, count, Path(tmp))
            print(f"healthy subscriber, {count:2d} hanging receivers: {summary(latencies)}")


if __name__ == "__main__":
    main()
