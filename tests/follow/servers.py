"""Real processes for the follow tests: the service under uvicorn, a webhook
receiver, an appender, and a server-sent-events reader."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[2]
TEST_SECRET = "test-secret"  # the conftest's: keys made in the test work in the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def service_env(database_url: str, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        LEDGER_DATABASE_URL=database_url,
        LEDGER_MIGRATE_ON_START="false",
        LEDGER_LOAD_SEED="false",
        LEDGER_BOOTSTRAP_ADMIN="false",
        LEDGER_SECRET_KEY=TEST_SECRET,
        LEDGER_DB_POOL_SIZE="5",
        LEDGER_STREAM_HEARTBEAT_SECONDS="1",
        LEDGER_STREAM_POLL_SECONDS="0.05",
        LEDGER_DELIVER_WEBHOOKS="false",
        LEDGER_WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",  # the receivers are on 127.0.0.1
        LEDGER_RATE_LIMITS_ENABLED="false",  # as in tests/conftest.py: one busy client
    )
    env.update({f"LEDGER_{k.upper()}": v for k, v in settings.items()})
    return env


@dataclass
class LiveServer:
    """The service in its own uvicorn process, on the test's database."""

    database_url: str
    settings: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        return self.launch().wait_ready()

    def launch(self) -> LiveServer:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "service.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--timeout-graceful-shutdown",
                "1",
            ],
            cwd=ROOT,
            env=service_env(self.database_url, **self.settings),
        )
        return self

    def wait_ready(self) -> LiveServer:
        assert self.process is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the service did not start in 30 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as in a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


class ThreadedServer:
    """A real uvicorn on a free port, serving the test's own app from a thread of the
    test process: quick to start, for tests about one process."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                ws="none",
                timeout_graceful_shutdown=1,
            )
        )
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def run_appender(*args: str, database_url: str) -> subprocess.Popen[bytes]:
    """`tests/follow/appender.py` in its own process."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.follow.appender", *args],
        cwd=ROOT,
        env=service_env(database_url),
    )


# -- server-sent events ------------------------------------------------------


@dataclass(frozen=True)
class Message:
    id: int | None
    event: str | None
    data: dict[str, Any] | None
    comment: str | None = None


def read_stream(
    url: str,
    *,
    until: Callable[[list[Message]], bool],
    headers: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> list[Message]:
    """Read an event stream until `until(messages)` holds (comments included), then hang up."""
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    with (
        httpx.Client(timeout=httpx.Timeout(5.0, read=5.0)) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for message in _parse(response.iter_lines()):
            messages.append(message)
            if until(messages):
                return messages
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(events_of(messages))} events in {timeout} s")
    raise AssertionError("the stream ended")


def events_of(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.comment is None]


def _parse(lines: Iterator[str]) -> Iterator[Message]:
    fields: dict[str, str] = {}
    for line in lines:
        if line.startswith(":"):
            yield Message(None, None, None, comment=line[1:].strip())
        elif line == "":
            if "data" in fields:
                yield Message(
                    int(fields["id"]) if "id" in fields else None,
                    fields.get("event"),
                    json.loads(fields["data"]),
                )
            fields = {}
        else:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


# -- a webhook receiver -------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    event_id: str
    position: int
    signature: str
    body: bytes
    received_at: float = field(default_factory=time.monotonic)
    """When the receiver had read it (`time.monotonic()`)."""


class Receiver:
    """Records every POST; answers 200 after `delay` seconds."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.deliveries.append(
                        Delivery(
                            self.headers["Ledger-Event-Id"],
                            int(self.headers["Ledger-Position"]),
                            self.headers["Ledger-Signature"],
                            body,
                        )
                    )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)

    def wait_for(self, distinct: int, timeout: float) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received()
            if len({d.event_id for d in got}) >= distinct:
                return got
            time.sleep(0.05)
        got = self.received()
        raise AssertionError(f"{len({d.event_id for d in got})} of {distinct} delivered")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
