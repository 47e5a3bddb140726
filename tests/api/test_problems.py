"""Every error path of the API answers an RFC 9457 problem that names what is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from uuid6 import uuid7

from service.access.keys import Scope
from service.ledger import Ledger
from tests.conftest import TokenFactory
from tests.factories import SOURCE_ID, dispatch_body, meta_body, source_body

PROBLEM = "application/problem+json"
MIB = 1024 * 1024


def problem(response: Response, status: int, type_: str) -> dict[str, Any]:
    """Assert the response is the problem `type_` with `status`; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == type_
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


def named_field(body: dict[str, Any]) -> str:
    field: str = body["errors"][0]["field"]
    assert body["errors"][0]["pointer"] == "/" + field.replace(".", "/")
    return field


@pytest.fixture
def recorded_source(client: TestClient, writer: dict[str, str]) -> None:
    assert client.post("/v1/events", json=source_body(), headers=writer).status_code == 201


# --- who is calling ---------------------------------------------------------------


def test_a_write_without_a_key_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.post("/v1/events", json=source_body())
    problem(response, 401, "/problems/unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_write_with_a_key_that_is_not_a_bearer_token_is_401(client: TestClient) -> None:
    response = client.post("/v1/events", json=source_body(), headers={"Authorization": "ll_x"})
    problem(response, 401, "/problems/unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_write_with_an_unknown_key_is_401(client: TestClient) -> None:
    headers = {"Authorization": "Bearer ll_not-a-key-anyone-holds"}
    response = client.post("/v1/events", json=source_body(), headers=headers)
    problem(response, 401, "/problems/unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_write_with_a_revoked_key_is_401(client: TestClient, ledger: Ledger) -> None:
    key, token = ledger.keys.create("revoked-desk", {Scope.events_write})
    ledger.keys.revoke(key.id)
    response = client.post(
        "/v1/events", json=source_body(), headers={"Authorization": f"Bearer {token}"}
    )
    problem(response, 401, "/problems/unauthorized")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_write_with_an_expired_key_is_401(client: TestClient, ledger: Ledger) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    _, token = ledger.keys.create("expired-desk", {Scope.events_write}, yesterday)
    response = client.post(
        "/v1/events", json=source_body(), headers={"Authorization": f"Bearer {token}"}
    )
    problem(response, 401, "/problems/unauthorized")


@pytest.mark.parametrize("kind", ["fact.retracted", "fact.corrected"])
def test_a_writer_cannot_correct_or_retract(
    client: TestClient, writer: dict[str, str], recorded_source: None, kind: str
) -> None:
    extra: dict[str, Any] = {"reason": "misread the report"}
    if kind == "fact.corrected":
        extra["replacement"] = dispatch_body()["data"]
    body = meta_body(kind, str(uuid7()), **extra)
    response = client.post("/v1/events", json=body, headers=writer)
    problem(response, 403, "/problems/forbidden")
    assert client.get("/v1/events").json()["events"][-1]["type"] == "source.recorded"


def test_a_writer_cannot_slip_a_retraction_into_a_batch(
    client: TestClient, writer: dict[str, str], recorded_source: None
) -> None:
    batch = {"events": [dispatch_body(), meta_body("fact.retracted", str(uuid7()), reason="x")]}
    problem(client.post("/v1/events", json=batch, headers=writer), 403, "/problems/forbidden")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/admin/keys"),
        ("GET", "/v1/admin/keys"),
        ("DELETE", "/v1/admin/keys/018f0000-0000-7000-8000-000000000000"),
    ],
)
def test_a_writer_cannot_call_admin_endpoints(
    client: TestClient, writer: dict[str, str], method: str, path: str
) -> None:
    body = {"name": "sneaky", "scopes": ["admin"]} if method == "POST" else None
    response = client.request(method, path, json=body, headers=writer)
    problem(response, 403, "/problems/forbidden")


def test_admin_endpoints_without_a_key_are_401(client: TestClient) -> None:
    response = client.get("/v1/admin/keys")
    problem(response, 401, "/problems/unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


# --- how much is sent -------------------------------------------------------------


def test_a_body_over_one_mebibyte_is_413(client: TestClient, writer: dict[str, str]) -> None:
    body = source_body(title="x" * (MIB + 1))
    response = client.post("/v1/events", json=body, headers=writer)
    assert problem(response, 413, "/problems/payload-too-large")["title"] == "Content Too Large"
    assert client.get("/v1/events").json()["events"] == []


def test_a_streamed_body_over_one_mebibyte_is_413(
    client: TestClient, writer: dict[str, str]
) -> None:
    # No Content-Length: the limit counts the bytes as they arrive.
    def chunks() -> Iterator[bytes]:
        yield b'{"type": "source.recorded", "data": {"title": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}}'

    headers = {**writer, "Content-Type": "application/json"}
    response = client.post("/v1/events", content=chunks(), headers=headers)
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert problem(response, 413, "/problems/payload-too-large")["title"] == "Content Too Large"


def test_a_body_just_under_the_limit_is_not_refused_for_its_size(
    client: TestClient, writer: dict[str, str]
) -> None:
    body = json.dumps(source_body(title="x" * 1000)).encode()
    padded = body[:-1] + b" " * (MIB - len(body)) + b"}"
    assert len(padded) == MIB
    response = client.post(
        "/v1/events", content=padded, headers={**writer, "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    [event] = client.get("/v1/events").json()["events"]
    assert event["data"]["title"] == "x" * 1000


def test_a_batch_of_1001_events_is_413(
    client: TestClient, writer: dict[str, str], recorded_source: None
) -> None:
    small = dispatch_body(count={"text": "3", "qualifier": "exact", "number": 3})
    small["provenance"]["locator"] = "three"
    batch = {"events": [small] * 1001}
    response = client.post("/v1/events", json=batch, headers=writer)
    body = problem(response, 413, "/problems/payload-too-large")
    assert "1000" in body["detail"] or "1,000" in body["detail"]
    assert len(client.get("/v1/events").json()["events"]) == 1


# --- what is sent -----------------------------------------------------------------


def test_an_unknown_top_level_field_is_422_naming_it(
    client: TestClient, writer: dict[str, str]
) -> None:
    body = {**source_body(), "colour": "red"}
    response = client.post("/v1/events", json=body, headers=writer)
    assert named_field(problem(response, 422, "/problems/validation-error")) == "colour"


def test_an_unknown_field_in_the_payload_is_422_naming_it(
    client: TestClient, writer: dict[str, str], recorded_source: None
) -> None:
    body = dispatch_body(workers_nickname="brigade")
    response = client.post("/v1/events", json=body, headers=writer)
    field = named_field(problem(response, 422, "/problems/validation-error"))
    assert field == "data.workers_nickname"


def test_an_unknown_field_in_a_batched_event_names_its_index(
    client: TestClient, writer: dict[str, str], recorded_source: None
) -> None:
    second = {**dispatch_body(), "colour": "red"}
    response = client.post("/v1/events", json={"events": [dispatch_body(), second]}, headers=writer)
    assert named_field(problem(response, 422, "/problems/validation-error")) == "events.1.colour"


@pytest.mark.parametrize(
    "raw",
    [b'{"type": "source.recorded",', b"not json at all", b""],
    ids=["truncated", "words", "empty"],  # binary: tests/api/test_hostile_input.py
)
def test_malformed_json_is_a_problem_never_a_500(
    client: TestClient, writer: dict[str, str], raw: bytes
) -> None:
    headers = {**writer, "Content-Type": "application/json"}
    response = client.post("/v1/events", content=raw, headers=headers)
    problem(response, 422, "/problems/validation-error")
    assert client.get("/v1/events").json()["events"] == []


def test_malformed_json_says_where_it_broke_without_inventing_a_field(
    client: TestClient, writer: dict[str, str]
) -> None:
    headers = {**writer, "Content-Type": "application/json"}
    response = client.post("/v1/events", content=b'{"type": "source.recorded",', headers=headers)
    error = problem(response, 422, "/problems/validation-error")["errors"][0]
    assert error["type"] == "json_invalid"
    assert error["pointer"] == ""  # RFC 6901: the whole document
    assert "at character 27" in error["message"]


def test_a_missing_type_is_422_naming_type(client: TestClient, writer: dict[str, str]) -> None:
    body = source_body()
    del body["type"]
    response = client.post("/v1/events", json=body, headers=writer)
    assert named_field(problem(response, 422, "/problems/validation-error")) == "type"


def test_an_unknown_type_in_a_batch_names_its_index(
    client: TestClient, writer: dict[str, str]
) -> None:
    batch = {"events": [source_body(), {**dispatch_body(), "type": "workers.teleported"}]}
    response = client.post("/v1/events", json=batch, headers=writer)
    assert named_field(problem(response, 422, "/problems/validation-error")) == "events.1.type"


def test_a_json_body_that_is_not_an_event_is_422(
    client: TestClient, writer: dict[str, str]
) -> None:
    for body in ([1, 2, 3], "source.recorded", 42, None):
        response = client.post("/v1/events", json=body, headers=writer)
        problem(response, 422, "/problems/validation-error")


def test_an_unknown_event_type_is_422_naming_type(
    client: TestClient, writer: dict[str, str]
) -> None:
    body = {**source_body(), "type": "workers.teleported"}
    response = client.post("/v1/events", json=body, headers=writer)
    assert named_field(problem(response, 422, "/problems/validation-error")) == "type"


def test_a_field_of_the_wrong_type_is_422_naming_it(
    client: TestClient, writer: dict[str, str], recorded_source: None
) -> None:
    body = dispatch_body(count={"text": "many", "qualifier": "exact", "number": "many"})
    response = client.post("/v1/events", json=body, headers=writer)
    body = problem(response, 422, "/problems/validation-error")
    assert named_field(body) == "data.count.number"
    assert body["errors"][0]["type"] == "int_type"  # counts are whole numbers, never text


def test_a_missing_locator_is_422_naming_provenance_locator(
    client: TestClient, writer: dict[str, str], recorded_source: None
) -> None:
    body = dispatch_body()
    del body["provenance"]["locator"]
    response = client.post("/v1/events", json=body, headers=writer)
    body = problem(response, 422, "/problems/validation-error")
    assert named_field(body) == "provenance.locator"
    assert body["errors"][0]["type"] == "missing"


def test_min_above_max_in_a_count_is_422_naming_data_count_min(
    client: TestClient, writer: dict[str, str], recorded_source: None
) -> None:
    count = {"text": "300 to 400", "qualifier": "range", "min": 400, "max": 300}
    response = client.post("/v1/events", json=dispatch_body(count=count), headers=writer)
    body = problem(response, 422, "/problems/validation-error")
    assert named_field(body) == "data.count.min"
    assert "greater than max" in body["errors"][0]["message"]


def test_an_unknown_place_is_422_with_the_closest_matches(
    client: TestClient, writer: dict[str, str], recorded_source: None
) -> None:
    destinations = ["Moscow", "Khabarovskk"]
    response = client.post(
        "/v1/events", json=dispatch_body(destinations=destinations), headers=writer
    )
    body = problem(response, 422, "/problems/unknown-place")
    assert named_field(body) == "data.destinations.1.name"
    assert "Khabarovskk" in body["detail"]
    assert any("Khabarovsk" in s for s in body["suggestions"])
    assert len(client.get("/v1/events").json()["events"]) == 1


def test_an_unknown_source_is_422_naming_provenance_source_id(
    client: TestClient, writer: dict[str, str]
) -> None:
    response = client.post("/v1/events", json=dispatch_body(), headers=writer)
    body = problem(response, 422, "/problems/unknown-source")
    assert named_field(body) == "provenance.source_id"


def test_a_source_recorded_twice_is_409(
    client: TestClient, writer: dict[str, str], recorded_source: None
) -> None:
    response = client.post("/v1/events", json=source_body(), headers=writer)
    body = problem(response, 409, "/problems/source-already-recorded")
    assert named_field(body) == "data.source_id"


def test_a_source_recorded_twice_in_one_batch_is_409_naming_the_second(
    client: TestClient, writer: dict[str, str]
) -> None:
    response = client.post("/v1/events", json={"events": [source_body()] * 2}, headers=writer)
    body = problem(response, 409, "/problems/source-already-recorded")
    assert named_field(body) == "events.1.data.source_id"
    assert client.get("/v1/events").json()["events"] == []


def test_a_stale_expected_version_is_409_with_the_current_version(
    client: TestClient, writer: dict[str, str], recorded_source: None
) -> None:
    response = client.post(
        "/v1/events", json={**dispatch_body(), "expected_version": 0}, headers=writer
    )
    body = problem(response, 409, "/problems/wrong-expected-version")
    assert body["current_version"] == 1
    assert named_field(body) == "expected_version"
    assert len(client.get("/v1/events").json()["events"]) == 1


def test_the_right_expected_version_is_accepted(
    client: TestClient, writer: dict[str, str], recorded_source: None
) -> None:
    response = client.post(
        "/v1/events", json={**dispatch_body(), "expected_version": 1}, headers=writer
    )
    assert response.status_code == 201, response.text
    assert response.json()["events"][0]["stream_version"] == 2


def test_a_stream_given_that_is_not_the_sources_is_422_naming_stream(
    client: TestClient, writer: dict[str, str]
) -> None:
    response = client.post(
        "/v1/events", json={**source_body(), "stream": "source:elsewhere"}, headers=writer
    )
    assert named_field(problem(response, 422, "/problems/validation-error")) == "stream"


# --- what is asked for ------------------------------------------------------------


def test_an_unknown_event_id_is_404(client: TestClient) -> None:
    response = client.get(f"/v1/events/{uuid7()}")
    problem(response, 404, "/problems/not-found")


def test_a_malformed_event_id_is_422_naming_it(client: TestClient) -> None:
    response = client.get("/v1/events/not-a-uuid")
    assert named_field(problem(response, 422, "/problems/validation-error")) == "path.event_id"


@pytest.mark.parametrize("after", [2**63, 10**30, -1, "x"])
def test_an_after_cursor_out_of_range_is_422_naming_it(client: TestClient, after: object) -> None:
    response = client.get("/v1/events", params={"after": str(after)})
    assert named_field(problem(response, 422, "/problems/validation-error")) == "query.after"


def test_the_largest_after_cursor_is_accepted(client: TestClient) -> None:
    assert client.get("/v1/events", params={"after": 2**63 - 1}).status_code == 200


@pytest.mark.parametrize("limit", [0, 1001])
def test_a_limit_out_of_range_is_422_naming_it(client: TestClient, limit: int) -> None:
    response = client.get("/v1/events", params={"limit": limit})
    assert named_field(problem(response, 422, "/problems/validation-error")) == "query.limit"


def test_an_unknown_type_filter_is_422(client: TestClient) -> None:
    response = client.get("/v1/events", params={"type": "workers.teleported"})
    assert named_field(problem(response, 422, "/problems/validation-error")) == "query.type.0"


def test_an_unknown_stream_is_404(client: TestClient) -> None:
    problem(client.get("/v1/streams/source:nowhere"), 404, "/problems/not-found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/events", "GET, POST"),
        ("DELETE", "/v1/events", "GET, POST"),
        ("POST", "/v1/events/018f0000-0000-7000-8000-000000000000", "GET"),
        ("PATCH", "/v1/admin/keys", "GET, POST"),
        ("GET", "/v1/admin/keys/018f0000-0000-7000-8000-000000000000", "DELETE"),
    ],
)
def test_a_wrong_method_is_405_allowing_every_method_of_the_path(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path)
    problem(response, 405, "/problems/method-not-allowed")
    assert response.headers["Allow"] == allowed


def test_an_unknown_path_is_a_404_problem(client: TestClient) -> None:
    problem(client.get("/v1/nothing-here"), 404, "/problems/not-found")


def test_a_batch_is_all_or_nothing_when_one_event_is_refused(
    client: TestClient, writer: dict[str, str], make_key: TokenFactory
) -> None:
    batch = {"events": [source_body(), dispatch_body(), dispatch_body(source_id="unknown-src")]}
    response = client.post("/v1/events", json=batch, headers=writer)
    body = problem(response, 422, "/problems/unknown-source")
    assert named_field(body) == "events.2.provenance.source_id"
    assert client.get("/v1/events").json()["events"] == []
    assert client.get(f"/v1/streams/source:{SOURCE_ID}").status_code == 404


def test_a_count_beyond_64_bits_is_never_rounded(
    client: TestClient, writer: dict[str, str], recorded_source: None
) -> None:
    """A fast JSON parser reads such a number as a float; the ledger must not."""
    count = {"text": "a huge number", "qualifier": "exact", "number": 2**70 + 1}
    response = client.post(
        "/v1/events",
        content=json.dumps(dispatch_body(count=count)),
        headers={**writer, "Content-Type": "application/json"},
    )
    body = problem(response, 422, "/problems/validation-error")
    assert named_field(body) == "data.count.number"
    assert body["errors"][0]["type"] == "less_than_equal"
