"""A browser app on another site uses the API: it reads the public views, records
events with a key (a bearer token, never a cookie), and reads the headers it needs
(ETag, Link, Location, Idempotent-Replayed). Through a real uvicorn, as a browser
meets it: the preflight `OPTIONS` is answered, not a 405."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import source_body
from tests.follow.servers import ThreadedServer

NEWSROOM = "https://newsroom.example"


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    running = ThreadedServer(app).start()
    yield running.url
    running.stop()


def exposed(response: httpx.Response) -> set[str]:
    names = response.headers.get("access-control-expose-headers", "")
    return {n.strip().lower() for n in names.split(",") if n.strip()}


def test_a_preflight_for_a_keyed_post_is_answered_for_any_origin(server: str) -> None:
    # when a browser asks whether a script on another origin may POST an event with a key
    preflight = httpx.options(
        f"{server}/v1/events",
        headers={
            "Origin": NEWSROOM,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )

    # then it may: any origin, those headers, no credentials (keys are bearer tokens)
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "idempotency-key"):
        assert header in allowed
    assert "access-control-allow-credentials" not in preflight.headers
    assert int(preflight.headers["access-control-max-age"]) > 0


def test_a_cross_origin_read_shows_the_script_its_etag_and_link(server: str) -> None:
    # when a script on another origin reads a view and a page of the log
    view = httpx.get(f"{server}/v1/deployments", headers={"Origin": NEWSROOM})
    page = httpx.get(f"{server}/v1/events?limit=1", headers={"Origin": NEWSROOM})

    # then the browser lets it read the answer and the headers it needs to go on
    for response in (view, page):
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == "*"
        assert {"etag", "link", "location", "x-request-id"} <= exposed(response)
    assert "etag" in view.headers


def test_a_keyed_post_from_another_origin_shows_location_and_replayed(
    server: str, writer: dict[str, str]
) -> None:
    # given a script on another origin that records a source with a key and retries it
    headers = {"Origin": NEWSROOM, "Idempotency-Key": "browser-1", **writer}
    first = httpx.post(f"{server}/v1/events", json=source_body(), headers=headers)
    again = httpx.post(f"{server}/v1/events", json=source_body(), headers=headers)

    # then both answers are readable, with the headers it needs exposed
    assert first.status_code == again.status_code == 201, first.text
    assert first.headers["access-control-allow-origin"] == "*"
    assert first.headers["location"].startswith("/v1/events/")
    assert again.headers["idempotent-replayed"] == "true"
    assert {"location", "idempotent-replayed", "retry-after"} <= exposed(again)


@pytest.mark.settings(cors_allow_origins=["https://desk.example.org"])
def test_only_the_configured_origins_are_allowed_when_set(server: str) -> None:
    # given a service that allows one origin
    # when that origin and another read a view, and the other asks to POST
    mine = httpx.get(f"{server}/v1/deployments", headers={"Origin": "https://desk.example.org"})
    theirs = httpx.get(f"{server}/v1/deployments", headers={"Origin": NEWSROOM})
    preflight = httpx.options(
        f"{server}/v1/events",
        headers={"Origin": NEWSROOM, "Access-Control-Request-Method": "POST"},
    )

    # then only the allowed origin is named; the browser keeps the answer from the other
    assert mine.headers["access-control-allow-origin"] == "https://desk.example.org"
    assert "access-control-allow-origin" not in theirs.headers
    assert preflight.status_code == 400
