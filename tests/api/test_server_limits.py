"""What `labor-ledger serve`'s server refuses: a request head over 16 KiB, and a client
that trickles its request head; an ordinary request and a long stream are untouched.
Through a real uvicorn with the options `serve` uses."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI

from service.api.server_limits import uvicorn_limits
from service.settings import Settings
from tests.follow.servers import free_port


@pytest.fixture
def server_port(app: FastAPI, settings: Settings) -> Iterator[int]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", **uvicorn_limits(settings)
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(10)


def _exchange(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and b"connection: close" not in answer.lower():
                break
        return answer


def test_an_ordinary_request_is_answered(server_port: int) -> None:
    answer = _exchange(server_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("size", [20 * 1024, 64 * 1024, 8 * 1024 * 1024])
def test_a_request_head_over_16_kib_is_refused(server_port: int, size: int) -> None:
    huge = b"X-Padding: " + b"a" * size + b"\r\n"

    try:
        answer = _exchange(server_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + huge + b"\r\n")
    except ConnectionResetError:  # refused while the client was still sending
        return

    # 431 when the head arrived whole; 400 from the server when it stopped buffering it.
    assert answer.startswith((b"HTTP/1.1 431", b"HTTP/1.1 400")), answer[:200]


@pytest.mark.settings(request_head_timeout_seconds=0.5)
def test_a_client_trickling_its_request_head_is_cut_off(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\n")
        closed_after = None
        started = time.monotonic()
        for _ in range(40):  # a byte every 0.1 s: never a whole head
            try:
                conn.sendall(b"X")
                if conn.recv(1, socket.MSG_DONTWAIT) == b"":
                    closed_after = time.monotonic() - started
                    break
            except BlockingIOError:
                pass
            except OSError:
                closed_after = time.monotonic() - started
                break
            time.sleep(0.1)

    assert closed_after is not None, "the server kept a trickling client for 4 s"
