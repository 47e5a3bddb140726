"""The event stream against real service processes: catch up, then live, nothing missed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
from fastapi.testclient import TestClient

from service.ingest.importing import import_events, parse_lines
from service.ledger import Ledger
from tests.factories import SOURCE_ID, dispatch_body, source_body
from tests.follow.conftest import ServersFactory
from tests.follow.servers import (
    Message,
    ThreadedServer,
    events_of,
    read_stream,
    run_appender,
)

PER_APPENDER = 25


def _has(count: int) -> Callable[[list[Message]], bool]:
    return lambda messages: len(events_of(messages)) >= count


def _source_lines(prefix: str, count: int) -> list[str]:
    return [json.dumps(source_body(f"{prefix}-{n}")) for n in range(count)]


@contextmanager
def appending_in_a_thread(ledger: Ledger, prefix: str, count: int) -> Iterator[None]:
    """Appends `count` events, one transaction each, while the body runs."""

    def append() -> None:
        for line in parse_lines(_source_lines(prefix, count)):
            import_events(ledger.store, ledger.gazetteer, [line], principal="desk")
            time.sleep(0.005)

    thread = threading.Thread(target=append)
    thread.start()
    try:
        yield
    finally:
        thread.join(30)


def test_a_follower_sees_every_event_once_in_order_while_two_processes_append(
    live_servers: ServersFactory, writer: dict[str, str], database_url: str
) -> None:
    # given a follower on one service process, and another service process
    follower_side, writer_side = live_servers(2)

    # when that other process records events sent over HTTP while a third process
    # appends straight to the database
    direct = run_appender("store", "direct", str(PER_APPENDER), database_url=database_url)

    def post_over_http() -> None:
        with httpx.Client(base_url=writer_side.url, headers=writer, timeout=30) as http:
            for body in [source_body(f"web-{n}") for n in range(PER_APPENDER)]:
                assert http.post("/v1/events", json=body).status_code == 201

    poster = threading.Thread(target=post_over_http)
    poster.start()
    messages = read_stream(
        follower_side.url + "/v1/events/stream?after=0", until=_has(2 * PER_APPENDER)
    )
    poster.join(30)
    assert direct.wait(30) == 0

    # then the follower got every event once, in position order, as recorded
    events = events_of(messages)
    assert [m.id for m in events] == list(range(1, 2 * PER_APPENDER + 1))
    assert len({m.data["id"] for m in events if m.data}) == 2 * PER_APPENDER
    assert {m.event for m in events} == {"source.recorded"}
    assert all(m.data is not None and m.data["position"] == m.id for m in events)
    sources = {m.data["provenance"]["source_id"] for m in events if m.data}
    assert {s.split("-")[0] for s in sources} == {"web", "direct"}


def test_reconnecting_with_last_event_id_loses_nothing(
    served: ThreadedServer, ledger: Ledger
) -> None:
    # given events being recorded while a follower comes and goes
    server = served
    total = 60
    with appending_in_a_thread(ledger, "steady", total):
        # when the follower hangs up after 15 events and reconnects with Last-Event-ID
        first = events_of(read_stream(server.url + "/v1/events/stream", until=_has(15)))
        second = events_of(
            read_stream(
                server.url + "/v1/events/stream?after=0",
                headers={"Last-Event-ID": str(first[-1].id)},
                until=_has(total - len(first)),
            )
        )

    # then the two connections together saw each event exactly once, in order
    assert [m.id for m in first + second] == list(range(1, total + 1))


def test_the_stream_sends_only_the_types_and_source_asked_for_then_waits_quietly(
    client: TestClient, writer: dict[str, str], served: ThreadedServer
) -> None:
    # given two sources, each with a dispatch
    for source in (SOURCE_ID, "rfa-2023-04"):
        assert (
            client.post("/v1/events", json=source_body(source), headers=writer).status_code == 201
        )
        created = client.post("/v1/events", json=dispatch_body(source), headers=writer)
        assert created.status_code == 201, created.text
    server = served
    appended: list[int] = []

    def append_a_matching_dispatch_after_two_heartbeats(messages: list[Message]) -> bool:
        beats = [m for m in messages if m.comment == "heartbeat"]
        if len(beats) == 2 and not appended:
            response = client.post("/v1/events", json=dispatch_body(), headers=writer)
            appended.append(response.json()["events"][0]["position"])
        return len(events_of(messages)) == 2

    # when following one source's dispatches
    messages = read_stream(
        server.url + f"/v1/events/stream?type=workers.dispatched&source_id={SOURCE_ID}",
        until=append_a_matching_dispatch_after_two_heartbeats,
    )

    # then its dispatch came, heartbeats while nothing matched, then the new dispatch
    events = events_of(messages)
    assert [(m.id, m.event) for m in events] == [
        (2, "workers.dispatched"),
        (appended[0], "workers.dispatched"),
    ]
    assert all(m.data and m.data["provenance"]["source_id"] == SOURCE_ID for m in events)
    first_heartbeat = next(i for i, m in enumerate(messages) if m.comment == "heartbeat")
    assert messages.index(events[0]) < first_heartbeat < messages.index(events[1])


def test_a_stream_starting_past_the_head_begins_after_that_position(
    client: TestClient, writer: dict[str, str], served: ThreadedServer
) -> None:
    assert client.post("/v1/events", json=source_body(), headers=writer).status_code == 201
    server = served

    def append_three_once_connected(messages: list[Message]) -> bool:
        if len(messages) == 1:  # the opening comment: the stream is up
            for _ in range(3):
                client.post("/v1/events", json=dispatch_body(), headers=writer)
        return len(events_of(messages)) >= 1

    messages = read_stream(
        server.url + "/v1/events/stream?after=3", until=append_three_once_connected
    )

    assert [m.id for m in events_of(messages)] == [4]


def test_an_unknown_type_is_a_problem_naming_the_parameter(client: TestClient) -> None:
    response = client.get("/v1/events/stream?type=workers.kidnapped")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "query.type.0"


def test_a_last_event_id_that_is_not_a_position_is_a_problem(client: TestClient) -> None:
    response = client.get("/v1/events/stream", headers={"Last-Event-ID": "yesterday"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "header.Last-Event-ID"
