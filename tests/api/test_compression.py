"""Every compressible answer goes out gzipped to a client that asks for gzip: the
OpenAPI document, pages of the log, Swagger's bundle, the views; each exactly once
(the views the pipeline gzips itself are not compressed again). Through a real
uvicorn, reading the bytes as they travel."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.routing import Mount

from service.api import compression
from service.api.compression import PrecompressedFiles
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


@pytest.fixture
def gzipped_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file a static mount gzips, as it gzips it."""
    gzipped: list[str] = []
    gzip_file = compression.gzip_file

    def counted(path: str) -> bytes:
        gzipped.append(path)
        return gzip_file(path)

    monkeypatch.setattr(compression, "gzip_file", counted)
    return gzipped


@pytest.mark.parametrize(
    "path", ["/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css"]
)
def test_a_static_file_is_gzipped_once_and_every_reader_gets_that_copy(
    server: str, path: str, gzipped_files: list[str]
) -> None:
    # when two readers ask for it gzipped
    first = fetch(server + path, "gzip")
    second = fetch(server + path, "gzip")

    # then both get the same bytes, compressed once (one layer, the file inside)
    assert first.raw == second.raw
    assert [Path(p).name for p in gzipped_files] == [path.rsplit("/", 1)[1]]
    assert gzip.decompress(first.raw) == fetch(server + path, "identity").raw
    for answer in (first, second):
        assert answer.headers["content-encoding"] == "gzip"
        assert answer.headers["etag"] == first.headers["etag"]
        assert "Accept-Encoding" in answer.vary()


def test_a_static_file_changed_on_disk_is_gzipped_again_and_a_range_is_read_plain(
    tmp_path: Path, gzipped_files: list[str]
) -> None:
    files = Starlette(routes=[Mount("/files", PrecompressedFiles(directory=tmp_path))])
    script = tmp_path / "app.js"
    gzipped = {"Accept-Encoding": "gzip"}
    with TestClient(files) as client:
        script.write_text("let a = 1;\n" * 500)
        before = client.get("/files/app.js", headers=gzipped)
        script.write_text("let b = 2;\n" * 600)
        after = client.get("/files/app.js", headers=gzipped)
        part = client.get("/files/app.js", headers={**gzipped, "Range": "bytes=0-9"})

    assert before.headers["content-encoding"] == after.headers["content-encoding"] == "gzip"
    assert (before.text, after.text) == ("let a = 1;\n" * 500, "let b = 2;\n" * 600)
    assert before.headers["etag"] != after.headers["etag"]
    assert len(gzipped_files) == 2
    assert (part.status_code, part.text) == (206, "let b = 2;")
    assert "content-encoding" not in part.headers
