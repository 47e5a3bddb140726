"""`labor-ledger serve` as an operator runs it (or plain uvicorn on the app factory): its
own process on a free port, on the test's database, everything it prints kept in a file."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.follow.servers import ROOT, free_port, service_env

READY_WITHIN_SECONDS = 60
SERVE = ("service.cli.commands", "serve")
UVICORN_FACTORY = ("uvicorn", "service.app:create_app", "--factory")


@contextmanager
def serving(
    database_url: str, log: Path, *args: str, server: tuple[str, ...] = SERVE, **settings: str
) -> Iterator[str]:
    """The service until the block ends; yields its base URL once `/healthz` answers.
    `args` go to `serve` (e.g. `--workers 2`), `settings` to its `LEDGER_*` variables;
    `server=UVICORN_FACTORY` runs `python -m uvicorn service.app:create_app --factory`."""
    port = free_port()
    env = service_env(database_url, **settings)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", *server, "--port", str(port), *args],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
