"""`labor-ledger serve` on an empty SQLite file, run as a user runs it: a real process
on a real port. The first start loads the seed and prints a first admin key; a restart
loads nothing twice, prints no second key, and the key printed first still works
(the secret it was stored under was generated once and kept)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import source_body

CLI = Path(sys.executable).with_name("labor-ledger")
TOKEN = re.compile(r"ll_[A-Za-z0-9_-]{20,}")
SEED_EVENTS = 9
READY_WITHIN_SECONDS = 60

pytestmark = pytest.mark.sqlite_only  # the embedded default; one pass is enough


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(workdir: Path, database: Path, log: Path) -> Iterator[str]:
    """`labor-ledger serve` on its own port until the block ends; yields its base URL
    once /readyz answers. What it prints goes to `log`."""
    with serving_process(workdir, database, log) as (base, _):
        yield base


@contextmanager
def serving_process(
    workdir: Path, database: Path, log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`serving`, giving the process too."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env |= {"LEDGER_DATABASE_URL": f"sqlite:///{database}", "COLUMNS": "200"}
    with log.open("w") as sink:
        process = subprocess.Popen(
            [str(CLI), "serve", "--port", str(port)],
            cwd=workdir,  # no .env of the repository's
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + READY_WITHIN_SECONDS
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "never ready: " + log.read_text()
                time.sleep(0.2)
            yield base, process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def the_log(base: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{base}/v1/events", params={"limit": 1000}, timeout=10)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def test_serve_on_an_empty_database_seeds_once_and_prints_one_admin_key_that_survives_restarts(
    tmp_path: Path,
) -> None:
    database = tmp_path / "data" / "ledger.db"
    database.parent.mkdir()
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"

    # when the service starts on an empty database
    with serving(tmp_path, database, first_log) as base:
        first_events = the_log(base)
    printed = first_log.read_text()

    # then it loaded the seed report and printed a first admin key, once
    assert f"loaded the seed report: {SEED_EVENTS} events" in printed
    assert len(first_events) == SEED_EVENTS
    assert {e["type"] for e in first_events} >= {"source.recorded", "workers.dispatched"}
    tokens = TOKEN.findall(printed)
    assert len(tokens) == 1, printed
    assert printed.count("First admin key") == 1

    # when it is stopped and started again on the same file
    with serving(tmp_path, database, second_log) as base:
        second_events = the_log(base)
        # the key printed at the first start still works: the secret it is checked
        # under was kept, not generated anew
        bearer = {"Authorization": f"Bearer {tokens[0]}"}
        keys = httpx.get(f"{base}/v1/admin/keys", headers=bearer, timeout=10)
        written = httpx.post(
            f"{base}/v1/events", json=source_body("after-a-restart"), headers=bearer, timeout=10
        )
        stranger = httpx.get(
            f"{base}/v1/admin/keys", headers={"Authorization": f"Bearer {tokens[0]}x"}, timeout=10
        )
    printed_again = second_log.read_text()

    # then nothing was loaded twice, no second key was made, and the first key is honoured
    assert "loaded the seed report" not in printed_again
    assert second_events == first_events
    assert TOKEN.findall(printed_again) == [], printed_again
    assert "First admin key" not in printed_again
    assert keys.status_code == 200, keys.text
    [key] = keys.json()
    assert key["name"].startswith("bootstrap-admin")
    assert written.status_code == 201, written.text
    assert stranger.status_code == 401, stranger.text


def test_sigterm_with_a_stream_open_ends_the_service_promptly_and_quietly(
    tmp_path: Path,
) -> None:
    database = tmp_path / "ledger.db"
    log = tmp_path / "serve.log"
    with serving_process(tmp_path, database, log) as (base, process):
        # given a follower reading the live stream
        opened = threading.Event()

        def follow() -> None:
            try:
                with (
                    httpx.Client(timeout=httpx.Timeout(5.0, read=30.0)) as client,
                    client.stream("GET", f"{base}/v1/events/stream?after=0") as response,
                ):
                    for line in response.iter_lines():
                        if line.startswith("id: "):
                            opened.set()
            except httpx.RemoteProtocolError:
                pass  # the server cut the stream as it stopped: a reader reconnects

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        assert opened.wait(20), "the stream sent nothing"
        # when the service is told to stop
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        took = time.monotonic() - stopped_at
    # then it ended within its graceful limit (1 s) and its teardown, cutting the stream
    # (the follower reconnects with Last-Event-ID), and said nothing alarming
    assert took < 3, f"took {took:.1f} s"
    printed = log.read_text()
    assert "Traceback" not in printed, printed[-3000:]
    follower.join(timeout=5)
