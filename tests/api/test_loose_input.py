"""Input a lax parser would take and turn into something the report never said: a count
given as `true`, `"350"` or `3.5`; a date in year 1 or 9999. Each is a 422 naming the
field; the edges of what is allowed are recorded as sent."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from service.domain.clock import utc_now
from service.domain.events import EventType as T
from service.domain.examples import event_examples
from service.domain.moments import EARLIEST_REPORTED, latest_reported
from tests.factories import dispatch_body, meta_body, source_body

Headers = dict[str, str]

NOT_WHOLE_NUMBERS = [True, False, "350", 3.5, 350.0]


def example(kind: T) -> dict[str, Any]:
    return copy.deepcopy(event_examples()[kind].body)


def refused_at(response: Response) -> str:
    """The field a 422 validation problem names first."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "/problems/validation-error"
    pointer: str = body["errors"][0]["pointer"]
    return pointer


def recorded(client: TestClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = client.get("/v1/events", params={"limit": 1000}).json()["events"]
    return events


# --- counts take whole numbers ----------------------------------------------------------


def counts_with(field: str, value: Any) -> dict[str, Any]:
    """A count valid but for `value` in `field`."""
    if field == "number":
        return {"text": "about 350", "qualifier": "approximately", "number": value}
    bounds: dict[str, Any] = {"min": 100, "best": 200, "max": 300, field: value}
    return {"text": "100 to 300", "qualifier": "range", **bounds}


@pytest.mark.parametrize("value", NOT_WHOLE_NUMBERS)
@pytest.mark.parametrize("field", ["number", "min", "best", "max"])
def test_a_count_that_is_not_a_whole_number_is_a_422_naming_the_field(
    client: TestClient, writer: Headers, field: str, value: Any
) -> None:
    # given a dispatch whose count says `true`, "350" or 3.5 where a number goes
    client.post("/v1/events", json=source_body(), headers=writer)
    body = dispatch_body(count=counts_with(field, value))
    # when it is posted, then it is refused naming that field, and nothing is recorded
    response = client.post("/v1/events", json=body, headers=writer)
    assert refused_at(response) == f"/data/count/{field}"
    assert [e["type"] for e in recorded(client)] == ["source.recorded"]


@pytest.mark.parametrize("kind", [T.workforce_estimated, T.workers_repatriated])
def test_every_count_takes_whole_numbers_only(
    client: TestClient, corrector: Headers, kind: T
) -> None:
    body = example(kind)
    body["data"]["count"] = counts_with("number", True)
    response = client.post("/v1/events", json=body, headers=corrector)
    assert refused_at(response) == "/data/count/number"


def test_a_whole_number_count_is_recorded_as_sent(client: TestClient, writer: Headers) -> None:
    client.post("/v1/events", json=source_body(), headers=writer)
    response = client.post(
        "/v1/events", json=dispatch_body(count=counts_with("best", 250)), headers=writer
    )
    assert response.status_code == 201, response.text
    count = response.json()["events"][0]["data"]["count"]
    assert (count["min"], count["best"], count["max"], count["bounds_rule"]) == (
        100,
        250,
        300,
        "given",
    )


def test_a_corrections_count_takes_whole_numbers_only(
    client: TestClient, corrector: Headers
) -> None:
    # given a dispatch on record
    client.post("/v1/events", json=source_body(), headers=corrector)
    fact = client.post("/v1/events", json=dispatch_body(), headers=corrector).json()["events"][0]
    # when a correction replaces its count with `"number": true`
    replacement = dispatch_body(count=counts_with("number", True))["data"]
    correction = meta_body("fact.corrected", fact["id"], reason="typo", replacement=replacement)
    response = client.post("/v1/events", json=correction, headers=corrector)
    # then it is refused naming the field inside the replacement
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/data/replacement/count/number"


# --- dates lie between 1945 and ten years from today ------------------------------------


def today() -> date:
    return utc_now().date()


def too_late() -> str:
    return (latest_reported(today()) + timedelta(days=1)).isoformat()


DATE_FIELDS = [
    (T.workers_dispatched, ("period", "start")),
    (T.workers_dispatched, ("period", "end")),
    (T.workers_repatriated, ("period", "end")),
    (T.remittance_quota_reported, ("period", "start")),
    (T.source_recorded, ("published_on",)),
    (T.source_recorded, ("original", "published_on")),
    (T.workforce_estimated, ("as_of",)),
    (T.fx_rate_reported, ("as_of",)),
    (T.statement_issued, ("issued_on",)),
]


def with_date(kind: T, path: tuple[str, ...], value: str) -> dict[str, Any]:
    body = example(kind)
    parent = body["data"]
    for key in path[:-1]:
        parent = parent.setdefault(key, {"language": "ko"} if key == "original" else {})
    parent[path[-1]] = value
    if path == ("period", "start"):
        parent.pop("end", None)  # a start after the end would be refused for that instead
    if path == ("period", "end"):
        parent.pop("start", None)
    return body


@pytest.mark.parametrize("value", ["0001-01-01", "1944-12-31", "9999-12-31", "too late"])
@pytest.mark.parametrize(
    ("kind", "path"), DATE_FIELDS, ids=[f"{k.value}:{'.'.join(p)}" for k, p in DATE_FIELDS]
)
def test_a_date_outside_1945_to_ten_years_ahead_is_a_422_naming_the_field(
    client: TestClient, corrector: Headers, kind: T, path: tuple[str, ...], value: str
) -> None:
    body = with_date(kind, path, too_late() if value == "too late" else value)
    response = client.post("/v1/events", json=body, headers=corrector)
    assert refused_at(response) == "/data/" + "/".join(path)
    assert "1945-01-01" in response.json()["errors"][0]["message"]
    assert recorded(client) == []


@pytest.mark.parametrize(
    "value", ["1900-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z"]
)
def test_a_retrieval_time_outside_the_years_is_a_422_naming_the_field(
    client: TestClient, writer: Headers, value: str
) -> None:
    response = client.post("/v1/events", json=source_body(retrieved_at=value), headers=writer)
    assert refused_at(response) == "/data/retrieved_at"


def test_the_first_and_last_days_allowed_are_recorded_as_sent(
    client: TestClient, writer: Headers
) -> None:
    # given a report published on the first day allowed, retrieved today
    first, last = EARLIEST_REPORTED.isoformat(), latest_reported(today()).isoformat()
    source = source_body(published_on=first, retrieved_at=f"{today().isoformat()}T08:00:00Z")
    assert client.post("/v1/events", json=source, headers=writer).status_code == 201
    # and a plan dated to the last day allowed
    dispatch = dispatch_body(period={"start": first, "end": last, "text": "from 1945 on"})
    response = client.post("/v1/events", json=dispatch, headers=writer)
    # then both are recorded with the dates as sent
    assert response.status_code == 201, response.text
    events = recorded(client)
    assert events[0]["data"]["published_on"] == first
    assert (events[1]["data"]["period"]["start"], events[1]["data"]["period"]["end"]) == (
        first,
        last,
    )
