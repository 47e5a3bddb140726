"""Every answer carries an `X-Request-ID` (the client's, when it sent a sane one), and the
service's logs are JSON lines that carry it too, with method, path, status and duration;
no API key or webhook secret is ever written to them."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.api.logs import formatter
from tests.api.log_lines import logged_lines
from tests.api.serve_process import serving
from tests.factories import source_body

Headers = dict[str, str]
HOOK = "https://newsroom.example.org/ledger-hook"


def test_every_answer_has_a_request_id(client: TestClient, writer: Headers) -> None:
    answers = [
        client.get("/v1/deployments"),
        client.get("/v1/events/not-an-id"),  # 422
        client.get("/v1/no-such-thing"),  # 404
        client.post("/v1/events", json=source_body(), headers=writer),  # 201
        client.post("/v1/events", json=source_body()),  # 401
        client.options(
            "/v1/events",
            headers={"Origin": "https://a.example", "Access-Control-Request-Method": "POST"},
        ),
    ]
    ids = [answer.headers.get("x-request-id") for answer in answers]
    assert all(ids), [(a.status_code, a.headers) for a in answers]
    assert len(set(ids)) == len(ids)  # one each


def test_a_sane_request_id_is_kept(client: TestClient) -> None:
    for given in ("3f2a9c1e-1b7d-4e0b-9a51-0c2f3e4d5a6b", "edge-7.trace:42"):
        answer = client.get("/v1/deployments", headers={"X-Request-ID": given})
        assert answer.headers["x-request-id"] == given


@pytest.mark.parametrize("given", ["", "has space", "x" * 129, "tab\there", "ünïcode", "a,b"])
def test_a_request_id_that_is_not_sane_is_replaced(client: TestClient, given: str) -> None:
    answer = client.get("/v1/deployments", headers={"X-Request-ID": given.encode()})
    made = answer.headers["x-request-id"]
    assert made != given and len(made) == 32


# --- the logs of a real run -------------------------------------------------------


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`labor-ledger serve` on the test's database, its output written to a file."""
    log = tmp_path / "serve.log"
    settings = {"webhooks_allow_private_targets": "true", "warm_views_on_start": "false"}
    with serving(database_url, log, log_format="json", **settings) as base:
        yield base, log


def lines_of(log: Path) -> list[dict[str, Any]]:
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    return parsed


def test_a_full_run_logs_json_lines_with_request_ids_and_no_secret(
    served: tuple[str, Path], writer: Headers, admin: Headers
) -> None:
    base, log = served
    # given a keyed POST, a webhook registration, a wrong key and a read
    recorded = httpx.post(
        f"{base}/v1/events",
        json=source_body(),
        headers={**writer, "X-Request-ID": "desk-post-1"},
    )
    assert recorded.status_code == 201, recorded.text
    registered = httpx.post(f"{base}/v1/admin/webhooks", json={"url": HOOK}, headers=admin)
    assert registered.status_code == 201, registered.text
    secret = registered.json()["secret"]
    wrong = "ll_" + "w" * 43
    refused = httpx.post(
        f"{base}/v1/events", json=source_body(), headers={"Authorization": f"Bearer {wrong}"}
    )
    assert refused.status_code == 401
    assert httpx.get(f"{base}/v1/deployments").status_code == 200
    time.sleep(0.3)  # the last access line is written after the answer

    # then every line of the log is JSON, each request has its line with its id
    lines = lines_of(log)
    access = [line for line in lines if line.get("logger") == "service.access"]
    post = next(line for line in access if line["request_id"] == "desk-post-1")
    assert (post["method"], post["path"], post["status"]) == ("POST", "/v1/events", 201)
    assert isinstance(post["duration_ms"], float | int) and post["duration_ms"] >= 0
    assert post["level"] == "info" and post["time"]
    statuses = {(line["method"], line["path"], line["status"]) for line in access}
    assert ("POST", "/v1/admin/webhooks", 201) in statuses
    assert ("POST", "/v1/events", 401) in statuses
    assert ("GET", "/v1/deployments", 200) in statuses
    assert all(line["request_id"] for line in access)
    assert recorded.headers["x-request-id"] == "desk-post-1"

    # and no key, secret or refused token is anywhere in it
    text = log.read_text()
    for secret_text in (writer["Authorization"], admin["Authorization"], secret, wrong):
        token = secret_text.removeprefix("Bearer ")
        assert token not in text


def test_a_key_or_secret_in_any_library_line_is_scrubbed() -> None:
    # given a line some library writes with a bearer key and a webhook secret in it
    key, secret = "ll_" + "k" * 43, "whsec_" + "s" * 43
    record = logging.LogRecord(
        "somelib", logging.WARNING, __file__, 1, "retrying %s with %s", (key, secret), None
    )

    # then the JSON line says what happened, without either
    line = json.loads(formatter("json").format(record))
    assert line["event"] == "retrying ll_[redacted] with whsec_[redacted]"
    assert (line["level"], line["logger"]) == ("warning", "somelib")


def test_an_unexpected_error_is_answered_and_logged_with_the_request_id(app: FastAPI) -> None:
    # given an endpoint that fails in a way nobody foresaw, and the log's formatter
    def fails() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/fails", fails)

    # when it is asked, with a request id
    with (
        logged_lines("service.api.problems") as lines,
        TestClient(app, raise_server_exceptions=False) as client,
    ):
        answer = client.get("/fails", headers={"X-Request-ID": "fails-1"})

    # then the 500 problem carries the id, and so does the error's log line
    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "fails-1"
    assert answer.headers["content-type"] == "application/problem+json"
    [logged] = [line for line in lines if line["event"] == "unhandled error"]
    assert logged["request_id"] == "fails-1"
    assert "RuntimeError: boom" in logged["exception"]
