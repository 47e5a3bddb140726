"""Rate limits: reads, writes and failed authentications each have a budget per client
address and per key; beyond it a 429 problem says when to come back.

Off in the rest of the suite (tests/conftest.py); each test here turns them on with
small budgets."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import source_body

PROBLEM = "application/problem+json"
BAD_KEY = {"Authorization": "Bearer ll_not_a_key_at_all"}


def client_at(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


def assert_too_many(response, limit: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "/problems/too-many-requests"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["ratelimit-limit"] == str(limit)
    assert response.headers["ratelimit-remaining"] == "0"
    assert 0 <= int(response.headers["ratelimit-reset"]) <= 60


@pytest.mark.settings(rate_limits_enabled=True, rate_limit_reads="3/minute")
def test_reads_beyond_the_budget_are_429_with_retry_after_and_ratelimit_headers(
    app: FastAPI,
) -> None:
    client = client_at(app, "203.0.113.1")

    answers = [client.get("/v1/events") for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert [a.headers["ratelimit-remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert answers[0].headers["ratelimit-limit"] == "3"
    assert_too_many(answers[3], 3)
    assert "reads" in answers[3].json()["detail"]


@pytest.mark.settings(rate_limits_enabled=True, rate_limit_writes="2/minute")
def test_writes_have_a_budget_of_their_own(app: FastAPI, writer: dict[str, str]) -> None:
    client = client_at(app, "203.0.113.2")

    writes = [
        client.post("/v1/events", json=source_body(f"s{i}"), headers=writer) for i in range(3)
    ]

    assert [w.status_code for w in writes[:2]] == [201, 201]
    assert_too_many(writes[2], 2)
    assert client.get("/v1/events").status_code == 200
    assert len(client.get("/v1/events").json()["events"]) == 2


@pytest.mark.settings(rate_limits_enabled=True, rate_limit_failed_authentication="3/minute")
def test_an_address_that_keeps_failing_authentication_is_stopped(
    app: FastAPI, writer: dict[str, str]
) -> None:
    guesser = client_at(app, "203.0.113.3")
    elsewhere = client_at(app, "203.0.113.4")

    guesses = [guesser.post("/v1/events", json=source_body(), headers=BAD_KEY) for _ in range(4)]

    assert [g.status_code for g in guesses[:3]] == [401, 401, 401]
    assert_too_many(guesses[3], 3)
    assert "failed authentications" in guesses[3].json()["detail"]
    # Even a good key is refused from there for now; reads without a key go on.
    assert guesser.post("/v1/events", json=source_body(), headers=writer).status_code == 429
    assert guesser.get("/v1/events").status_code == 200
    # Another address is not held to it.
    assert elsewhere.post("/v1/events", json=source_body(), headers=writer).status_code == 201


@pytest.mark.settings(rate_limits_enabled=True, rate_limit_reads="3/minute")
def test_a_keys_budget_follows_it_to_another_address(app: FastAPI, writer: dict[str, str]) -> None:
    first, second = client_at(app, "198.51.100.1"), client_at(app, "198.51.100.2")

    for _ in range(3):
        assert first.get("/v1/events", headers=writer).status_code == 200

    assert_too_many(second.get("/v1/events", headers=writer), 3)
    assert "key" in second.get("/v1/events", headers=writer).json()["detail"]


@pytest.mark.settings(rate_limits_enabled=True, rate_limit_reads="3/minute")
def test_each_address_has_its_own_budget(app: FastAPI) -> None:
    busy, quiet = client_at(app, "198.51.100.3"), client_at(app, "198.51.100.4")

    for _ in range(3):
        assert busy.get("/v1/events").status_code == 200

    assert_too_many(busy.get("/v1/events"), 3)
    assert quiet.get("/v1/events").status_code == 200


@pytest.mark.settings(rate_limits_enabled=True, rate_limit_reads="1/minute")
def test_health_checks_are_never_counted(app: FastAPI) -> None:
    client = client_at(app, "198.51.100.5")

    answers = [client.get("/healthz").status_code for _ in range(5)]

    assert answers == [200] * 5
    assert client.get("/v1/events").status_code == 200


def test_the_too_many_requests_problem_has_a_page(client: TestClient) -> None:
    page = client.get("/problems/too-many-requests", headers={"Accept": "application/json"})

    assert page.status_code == 200
    assert page.json()["status"] == 429
