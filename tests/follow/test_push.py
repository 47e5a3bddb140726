"""`labor-ledger push` against a real server: over a bad link, nothing lost or doubled.

pytest-httpx takes over only the requests of the batch a test interferes with;
every other request reaches the real service.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pytest_httpx import HTTPXMock
from typer.testing import CliRunner

from service.cli.commands import app
from service.cli.pusher import BodyLine, Pusher, PushStopped, idempotency_key, read_bodies
from service.ingest.importing import LineWarning
from tests.factories import dispatch_body, source_body
from tests.follow.servers import ThreadedServer


class Interference:
    """Which requests pytest-httpx answers: one batch's, while `active`."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.active = False

    def target(self, batch: list[BodyLine]) -> None:
        self.key, self.active = idempotency_key([line.body for line in batch]), True

    def should_mock(self, request: httpx.Request) -> bool:
        return self.active and request.headers.get("Idempotency-Key") == self.key


INTERFERENCE = Interference()


@pytest.fixture(autouse=True)
def no_interference() -> Iterator[None]:
    INTERFERENCE.active = False
    yield
    INTERFERENCE.active = False


def write_file(path: Path, bodies: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(b) + "\n" for b in bodies), encoding="utf-8")
    return path


def recorded_sources(client: TestClient) -> list[str]:
    events = client.get("/v1/events?limit=1000").json()["events"]
    return [e["provenance"]["source_id"] for e in events]


def token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def pusher(server: ThreadedServer, headers: dict[str, str], **options: Any) -> Pusher:
    return Pusher(server.url, token(headers), batch_size=10, backoff_seconds=0.01, **options)


@pytest.mark.httpx_mock(should_mock=INTERFERENCE.should_mock)
def test_a_push_whose_answer_is_lost_mid_file_resumes_without_duplicates(
    tmp_path: Path,
    served: ThreadedServer,
    client: TestClient,
    writer: dict[str, str],
    httpx_mock: HTTPXMock,
) -> None:
    # given 25 reports, and a link that drops the answer to the second batch of 10
    # after the ledger has recorded it
    sources = [f"report-{n}" for n in range(25)]
    lines = read_bodies(write_file(tmp_path / "reports.jsonl", [source_body(s) for s in sources]))
    INTERFERENCE.target(lines[10:20])

    def record_then_drop(request: httpx.Request) -> httpx.Response:
        forwarded = urllib.request.Request(
            str(request.url),
            data=request.content,
            headers={k: request.headers[k] for k in ("Authorization", "Idempotency-Key")}
            | {"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(forwarded, timeout=30) as answer:
            assert answer.status == 201
        INTERFERENCE.active = False
        raise httpx.ReadError("the connection dropped before the answer came", request=request)

    httpx_mock.add_callback(record_then_drop)

    # when the file is pushed: the lost answer is retried
    result = pusher(served, writer).push(lines)

    # then every report is in the ledger once, in file order
    assert (result.appended, result.already_recorded) == (15, 10)
    assert recorded_sources(client) == sources

    # and pushing the whole file again appends nothing
    again = pusher(served, writer).push(lines)
    assert (again.appended, again.already_recorded) == (0, 25)
    assert recorded_sources(client) == sources


@pytest.mark.httpx_mock(should_mock=INTERFERENCE.should_mock)
def test_a_push_that_gives_up_mid_file_is_run_again_and_appends_nothing_twice(
    tmp_path: Path,
    served: ThreadedServer,
    client: TestClient,
    writer: dict[str, str],
    httpx_mock: HTTPXMock,
) -> None:
    # given a server failing the second batch for longer than the push retries
    sources = [f"report-{n}" for n in range(25)]
    lines = read_bodies(write_file(tmp_path / "reports.jsonl", [source_body(s) for s in sources]))
    INTERFERENCE.target(lines[10:20])
    httpx_mock.add_response(status_code=503)
    httpx_mock.add_exception(httpx.ConnectTimeout("no answer"))
    httpx_mock.add_response(status_code=502)

    # when the push gives up there
    with pytest.raises(PushStopped) as stopped:
        pusher(served, writer, attempts=3).push(lines)
    assert stopped.value.line == 11
    assert recorded_sources(client) == sources[:10]

    # then running it again, on a good link, sends the rest and nothing twice
    INTERFERENCE.active = False
    result = pusher(served, writer).push(lines)
    assert (result.appended, result.already_recorded) == (15, 10)
    assert recorded_sources(client) == sources


def test_a_refused_line_stops_the_push_there_and_names_the_problem(
    tmp_path: Path,
    served: ThreadedServer,
    client: TestClient,
    writer: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a file whose fourth line cites a source nobody recorded
    bodies = [source_body("report-0"), dispatch_body("report-0"), source_body("report-1")]
    bodies.insert(3, dispatch_body("nobody-recorded-this"))
    path = write_file(tmp_path / "reports.jsonl", bodies)
    monkeypatch.setenv("COLUMNS", "200")

    # when it is pushed from the command line
    result = CliRunner().invoke(
        app, ["push", str(path), "--url", served.url, "--key", token(writer), "--batch", "2"]
    )

    # then the first batch is recorded, and the push stops at line 4, naming the problem
    assert result.exit_code == 1
    assert f"push stopped at {path}:4" in result.output
    assert "unknown-source" in result.output
    assert "provenance.source_id" in result.output
    assert "lines before 3 are in the ledger" in result.output
    assert recorded_sources(client) == ["report-0", "report-0"]


def test_a_line_that_is_not_json_stops_the_push_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    path = tmp_path / "reports.jsonl"
    path.write_text(json.dumps(source_body()) + "\n{not json\n", encoding="utf-8")

    with pytest.raises(PushStopped) as stopped:
        read_bodies(path)

    assert stopped.value.line == 2


# --- what the desk is told about its file --------------------------------------------------

VLADIVOSTOK = {"text": "less than 100", "qualifier": "fewer_than", "number": 100}


def vladivostok_dispatch(locator: str) -> dict[str, Any]:
    body = dispatch_body("report-0", destinations=["Vladivostok"], count=VLADIVOSTOK)
    body["provenance"]["locator"] = locator
    return body


def push_file(path: Path, served: ThreadedServer, writer: dict[str, str]) -> Any:
    return CliRunner().invoke(
        app, ["push", str(path), "--url", served.url, "--key", token(writer), "--batch", "2"]
    )


def test_a_push_prints_each_warning_with_its_line_and_sends_an_identical_line_once(
    tmp_path: Path,
    served: ThreadedServer,
    client: TestClient,
    writer: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    # given a report's Vladivostok dispatch entered twice, in other words (line 3), and
    # pasted twice (line 4 is line 2 again)
    first = vladivostok_dispatch("less than 100 went to Vladivostok")
    again = vladivostok_dispatch("fewer than 100 workers arrived in Vladivostok")
    path = write_file(tmp_path / "reports.jsonl", [source_body("report-0"), first, again, first])

    # when the file is pushed, in batches of two
    result = push_file(path, served, writer)

    # then line 4 is sent once (as line 2), and line 3 is recorded with the ledger's
    # warning, printed with its line and the fact it may repeat
    assert result.exit_code == 0, result.output
    events = client.get("/v1/events?limit=1000").json()["events"]
    assert [e["provenance"]["locator"] for e in events[1:]] == [
        first["provenance"]["locator"],
        again["provenance"]["locator"],
    ]
    assert "line 4 is identical to line 2: sent once" in result.output
    assert (
        f"line 3: possible duplicate of {events[1]['id']} (a fact of the same source)"
        in result.output
    )
    assert "pushed 3 events; 0 were in the ledger already; identical lines sent once: 1" in (
        result.output
    )

    # and pushed again, the batches are replays and the warning is printed again
    again_result = push_file(path, served, writer)
    assert again_result.exit_code == 0, again_result.output
    assert f"line 3: possible duplicate of {events[1]['id']}" in again_result.output
    assert "pushed 0 events; 3 were in the ledger already" in again_result.output
    assert len(client.get("/v1/events?limit=1000").json()["events"]) == 3


def test_a_pusher_hands_on_each_warning_with_its_line(
    tmp_path: Path, served: ThreadedServer, client: TestClient, writer: dict[str, str]
) -> None:
    bodies = [
        source_body("report-0"),
        source_body("report-1"),
        vladivostok_dispatch("less than 100 went to Vladivostok"),
        dispatch_body("report-1", destinations=["Primorsky Krai"], count=VLADIVOSTOK),
    ]
    lines = read_bodies(write_file(tmp_path / "reports.jsonl", bodies))
    warned: list[LineWarning] = []

    pusher(served, writer).push(lines, warned=warned.append)

    first = client.get("/v1/events?limit=1000").json()["events"][2]["id"]
    assert [(w.line, str(w.possible_duplicate_of), w.reason) for w in warned] == [
        (4, first, "another_source")
    ]
