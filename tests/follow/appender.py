"""Append events from another process, one per transaction:

    python -m tests.follow.appender http URL KEY PREFIX COUNT
    python -m tests.follow.appender store PREFIX COUNT     (LEDGER_DATABASE_URL)

Each event records a new source `PREFIX-<n>`, so appenders never collide.
"""

from __future__ import annotations

import json
import sys
import time

import httpx

from service.ingest.importing import import_events, parse_lines
from service.ledger import build_ledger
from service.settings import Settings
from tests.factories import source_body

PAUSE_SECONDS = 0.005  # lets the appenders interleave


def main(argv: list[str]) -> None:
    if argv[0] == "http":
        url, key, prefix, count = argv[1], argv[2], argv[3], int(argv[4])
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            for n in range(count):
                response = client.post(url + "/v1/events", json=source_body(f"{prefix}-{n}"))
                response.raise_for_status()
                time.sleep(PAUSE_SECONDS)
        return
    prefix, count = argv[1], int(argv[2])
    ledger = build_ledger(Settings())
    for n in range(count):
        lines = parse_lines([json.dumps(source_body(f"{prefix}-{n}"))])
        import_events(ledger.store, ledger.gazetteer, lines, principal="appender", batch_size=1)
        time.sleep(PAUSE_SECONDS)
    ledger.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
