"""Open event streams are capped per client address and in all: a client over its
share gets a 429, a full service a 503, and a closed stream frees its slot."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

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
