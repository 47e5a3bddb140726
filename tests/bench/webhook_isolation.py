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
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.access.keys import Scope
from service.app import create_app
from service.follow.delivery import BackgroundDelivery, DeliveryPolicy, DeliveryWorker
from service.ledger import build_ledger
from service.settings import Settings
from tests.factories import source_body
from tests.follow.test_isolation import HangingReceiver


class TimedReceiver:
    """Answers 200 at once and notes when each event arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        arrived = self.arrived

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                arrived.setdefault(self.headers["webhook-id"], time.monotonic())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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
    healthy = TimedReceiver()
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
            while len(healthy.arrived) < events and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        for h in hanging:
            h.close()
        delivery.stop(timeout=30)
        healthy.close()
        ledger.engine.dispose()
    missing = events - len(healthy.arrived)
    if missing:
        print(f"  {missing} events never reached the healthy receiver within 30 s")
    return sorted(healthy.arrived[i] - recorded[i] for i in recorded if i in healthy.arrived)


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
