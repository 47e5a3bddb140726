"""Open event streams are capped per client address and in all: a client over its
share gets a 429, a full service a 503, and a closed stream frees its slot. A stream
whose reader does not keep up waits for it: it reads the log a page ahead at most."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import service.follow.stream as follow_stream
from service.follow.stream import PAGE_SIZE, read_page
from service.ingest.importing import import_events, parse_lines
from service.ledger import Ledger
from tests.factories import source_body
from tests.follow.servers import ThreadedServer


@contextmanager
def open_stream(client: httpx.Client, url: str) -> Iterator[httpx.Response]:
    with client.stream("GET", f"{url}/v1/events/stream") as response:
        if response.status_code != 200:
            response.read()
            yield response
            return
        # The stream has begun: its slot is taken. The reader is kept, not dropped: a
        # dropped reader closes the connection.
        reader = response.iter_raw()
        next(reader)
        yield response
        reader.close()


@pytest.mark.settings(streams_per_address=2, streams_total=10)
def test_a_client_over_its_share_of_streams_gets_a_429(served: ThreadedServer) -> None:
    with httpx.Client(timeout=10) as client, ExitStack() as held:
        first = held.enter_context(open_stream(client, served.url))
        second = held.enter_context(open_stream(client, served.url))
        third = held.enter_context(open_stream(client, served.url))

        assert (first.status_code, second.status_code) == (200, 200)
        assert third.status_code == 429
        assert third.headers["content-type"] == "application/problem+json"
        assert third.json()["type"] == "/problems/too-many-streams"
        assert int(third.headers["retry-after"]) > 0


@pytest.mark.settings(streams_per_address=5, streams_total=2)
def test_a_service_holding_all_the_streams_it_may_answers_503(served: ThreadedServer) -> None:
    with httpx.Client(timeout=10) as client, ExitStack() as held:
        for _ in range(2):
            assert held.enter_context(open_stream(client, served.url)).status_code == 200

        full = held.enter_context(open_stream(client, served.url))

        assert full.status_code == 503
        assert full.json()["type"] == "/problems/streams-full"
        assert "retry-after" in full.headers


@pytest.mark.settings(streams_per_address=1, streams_total=10)
def test_a_closed_stream_frees_its_slot(served: ThreadedServer) -> None:
    with httpx.Client(timeout=10) as client:
        with open_stream(client, served.url) as first:
            assert first.status_code == 200
        # The server notices the hang-up at once (it listens for it); allow it a moment.
        deadline = time.monotonic() + 5
        while True:
            with open_stream(client, served.url) as again:
                if again.status_code == 200 or time.monotonic() > deadline:
                    break
            time.sleep(0.05)

        assert again.status_code == 200


def test_a_stream_to_a_reader_that_does_not_read_stops_reading_the_log(
    app: FastAPI, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a log of ten pages of 1 MB, and a count of the pages the stream reads
    title = "t" * 2000
    lines = [json.dumps(source_body(f"slow-{n}", title=title)) for n in range(10 * PAGE_SIZE)]
    import_events(ledger.store, ledger.gazetteer, parse_lines(lines), principal="desk")
    pages: list[int] = []

    def counted(*args: Any) -> Any:
        pages.append(1)
        return read_page(*args)

    monkeypatch.setattr(follow_stream, "read_page", counted)
    server = ThreadedServer(app).start()
    try:
        # when a client asks for it from the start and then reads nothing
        with socket.socket() as reader:
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            reader.connect(("127.0.0.1", server.port))
            reader.sendall(b"GET /v1/events/stream?after=0 HTTP/1.1\r\nHost: x\r\n\r\n")
            reader.recv(16)
            time.sleep(1.0)  # ample for a stream that did not wait to read them all

            # then it has read what the sockets' buffers hold (about 1.5 MB on Linux's
            # loopback) and a page ahead, not the whole log
            assert 1 <= len(pages) <= 6
    finally:
        server.stop()
