"""Every compressible answer goes out gzipped to a client that asks for gzip: the
OpenAPI document, pages of the log, Swagger's bundle, the views; each exactly once
(the views the pipeline gzips itself are not compressed again). Through a real
uvicorn, reading the bytes as they travel."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import dispatch_body, source_body
from tests.follow.servers import ThreadedServer

CITIES = ["Moscow", "Saint Petersburg", "Vladivostok", "Kazan", "Khabarovsk", "Novosibirsk"]
AFFILIATIONS = ["civilian", "military"]


@dataclass(frozen=True)
class Travelled:
    headers: httpx.Headers
    raw: bytes

    def vary(self) -> list[str]:
        return [n.strip() for n in self.headers.get("vary", "").split(",") if n.strip()]


def fetch(url: str, accept_encoding: str) -> Travelled:
    """The answer's headers and its body as sent, not decoded."""
    with httpx.stream("GET", url, headers={"Accept-Encoding": accept_encoding}) as response:
        assert response.status_code == 200, response.read()
        return Travelled(response.headers, b"".join(response.iter_raw()))


@pytest.fixture
def server(app: FastAPI, client: TestClient, writer: dict[str, str]) -> Iterator[str]:
    dispatches = [
        dispatch_body(destinations=[city], affiliation=affiliation)
        for city in CITIES
        for affiliation in AFFILIATIONS
    ]
    for body in [source_body(), *dispatches]:
        assert client.post("/v1/events", json=body, headers=writer).status_code == 201
    running = ThreadedServer(app).start()
    yield running.url
    running.stop()


@pytest.mark.parametrize(
    "path",
    [
        "/openapi.json",
        "/v1/events?limit=100",
        "/static/swagger-ui/swagger-ui-bundle.js",
        "/static/swagger-ui/swagger-ui.css",
        "/desk/assets/desk.css",
        "/",  # the desk's first page
        "/v1/deployments?format=csv",
    ],
)
def test_a_compressible_answer_is_gzipped_for_a_client_that_asks(server: str, path: str) -> None:
    # when the same thing is asked with and without gzip
    plain = fetch(server + path, "identity")
    packed = fetch(server + path, "gzip, deflate")

    # then the gzipped answer is the same bytes, smaller, and says so
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed.raw) == plain.raw
    assert len(packed.raw) < len(plain.raw) * 0.6
    assert "Accept-Encoding" in packed.vary()


def test_a_view_the_pipeline_gzips_is_compressed_once(server: str) -> None:
    # given the view of every city, which the pipeline keeps a gzip copy of
    for _ in range(2):  # computed, then repeated from the cache
        packed = fetch(server + "/v1/deployments", "gzip")

        # then it is gzipped once: one coding named, one layer to take off, JSON inside
        assert packed.headers["content-encoding"] == "gzip"
        rows = json.loads(gzip.decompress(packed.raw))["rows"]
        assert len(rows) == len(CITIES) * len(AFFILIATIONS)
        # and its Vary names each field once
        assert sorted(packed.vary()) == sorted(set(packed.vary()))
        assert {"Accept", "Accept-Encoding"} <= set(packed.vary())


@pytest.mark.parametrize("accept_encoding", ["identity", "gzip;q=0, identity", "br"])
def test_a_client_that_refuses_gzip_gets_plain_bytes(server: str, accept_encoding: str) -> None:
    for path in ("/openapi.json", "/v1/deployments"):
        answer = fetch(server + path, accept_encoding)
        assert "content-encoding" not in answer.headers
        json.loads(answer.raw)


def test_small_answers_are_sent_as_they_are(server: str) -> None:
    answer = fetch(server + "/healthz", "gzip")
    assert "content-encoding" not in answer.headers
