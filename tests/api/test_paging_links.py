"""Every list that pages says where its next page is twice: an absolute `next` in the
body and a `Link: <…>; rel="next"` header (RFC 8288), the same URL; the last page has
neither. Following either reads every item once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import SOURCE_ID, dispatch_body, source_body
from tests.follow.servers import ThreadedServer

Headers = dict[str, str]
NEXT = re.compile(r'^<([^>]+)>; rel="next"$')


def exact(n: int) -> dict[str, Any]:
    return {"text": str(n), "qualifier": "exact", "number": n}


@pytest.fixture
def kazan_facts(client: TestClient, writer: Headers) -> None:
    """A source and five dispatches to Kazan: six events, five behind one row."""
    bodies = [source_body()] + [
        dispatch_body(destinations=["Kazan"], count=exact(n)) for n in range(1, 6)
    ]
    for body in bodies:
        assert client.post("/v1/events", json=body, headers=writer).status_code == 201


def linked_next(response: httpx.Response) -> str | None:
    """The Link header's next page, checked to be the body's `next` when the body has one."""
    header = response.headers.get("link")
    url = None
    if header is not None:
        match = NEXT.match(header)
        assert match, header
        url = match.group(1)
    body = response.json()
    if isinstance(body, dict):
        assert body["next"] == url
    return url


def pages(client: TestClient | httpx.Client, url: str) -> Iterator[httpx.Response]:
    """Every page, following the Link header from `url` to the last."""
    next_url: str | None = url
    for _ in range(100):
        if next_url is None:
            return
        response = client.get(next_url)
        assert response.status_code == 200, response.text
        yield response
        next_url = linked_next(response)
    raise AssertionError("the pages never end")


def test_the_log_pages_by_link_header_and_absolute_next(
    client: TestClient, kazan_facts: None
) -> None:
    # when an app follows the Link header two events at a time
    read = list(pages(client, "/v1/events?limit=2"))

    # then it reads all six, once, in order; the links are absolute and keep the filters
    positions = [e["position"] for page in read for e in page.json()["events"]]
    assert positions == [1, 2, 3, 4, 5, 6]
    assert read[0].json()["next"] == "http://testserver/v1/events?limit=2&after=2"
    assert "link" not in read[-1].headers and read[-1].json()["next"] is None


def test_a_stream_pages_by_link_header(client: TestClient, kazan_facts: None) -> None:
    read = list(pages(client, f"/v1/streams/source:{SOURCE_ID}?limit=4"))
    versions = [e["stream_version"] for page in read for e in page.json()["events"]]
    assert versions == [1, 2, 3, 4, 5, 6]
    assert len(read) == 2


def test_the_events_behind_a_row_page_with_next(client: TestClient, kazan_facts: None) -> None:
    # given a row counting five facts, asked for two at a time
    read = list(pages(client, "/v1/deployments/events?place=ru-kazan&limit=2"))

    # then every fact behind it comes once, in position order, over three pages
    positions = [e["position"] for page in read for e in page.json()["events"]]
    assert positions == [2, 3, 4, 5, 6]
    assert len(read) == 3
    assert read[0].json()["next"].startswith("http://testserver/v1/deployments/events?")


def test_places_page_through_the_whole_gazetteer(client: TestClient) -> None:
    # given every place at once (the gazetteer holds fewer than 500)
    everything = client.get("/v1/places?limit=500")
    assert "link" not in everything.headers
    every_id = [hit["place"]["id"] for hit in everything.json()]
    assert len(every_id) > 100

    # when a client lists them 40 at a time, by the Link header
    read = list(pages(client, "/v1/places?limit=40"))

    # then it gets every place once, in the same order, no page over the limit
    assert [hit["place"]["id"] for page in read for hit in page.json()] == every_id
    assert all(len(page.json()) <= 40 for page in read)
    assert len(read) == -(-len(every_id) // 40)


def test_a_places_search_pages_too_and_keeps_its_filters(client: TestClient) -> None:
    first = client.get("/v1/places", params={"country": "RU", "limit": 5})
    link = linked_next(first)
    assert link is not None and "country=RU" in link and "offset=5" in link
    second = client.get(link)
    assert {hit["place"]["country"] for hit in first.json() + second.json()} == {"RU"}
    assert not {h["place"]["id"] for h in first.json()} & {h["place"]["id"] for h in second.json()}


@pytest.mark.settings(public_url="https://ledger.example.org/")
def test_links_name_the_public_url_when_one_is_set(client: TestClient, kazan_facts: None) -> None:
    page = client.get("/v1/events?limit=2")
    assert page.json()["next"] == "https://ledger.example.org/v1/events?limit=2&after=2"
    assert (
        page.headers["link"] == '<https://ledger.example.org/v1/events?limit=2&after=2>; rel="next"'
    )


def test_a_real_server_links_its_own_address(app: FastAPI, kazan_facts: None) -> None:
    server = ThreadedServer(app).start()
    try:
        with httpx.Client(base_url=server.url) as http:
            read = list(pages(http, "/v1/events?limit=4"))
        assert linked_next(read[0]) == f"{server.url}/v1/events?limit=4&after=4"
        assert sum(len(page.json()["events"]) for page in read) == 6
    finally:
        server.stop()
