"""Reading the ledger as an app does: paging the log with `next`, one source's stream,
what changed since a time, and every table as CSV (by `Accept` or by `?format=csv`)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.domain.examples import seed_bodies
from tests.factories import SOURCE_ID, dispatch_body, source_body

Headers = dict[str, str]
OTHER_SOURCE = "rfa-2023-04-nk-workers"


def post(client: TestClient, headers: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()["events"][0]
    return event


def exact(n: int) -> dict[str, Any]:
    return {"text": str(n), "qualifier": "exact", "number": n}


def follow(client: TestClient, url: str) -> tuple[list[dict[str, Any]], int]:
    """Every event of a list, following `next` to the end; and how many pages it took."""
    seen: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += page["events"]
        pages += 1
        next_url = page["next"]
        assert pages <= 50, "next never ends"
    return seen, pages


# --- the log, page by page --------------------------------------------------------


@pytest.mark.parametrize(("recorded", "pages"), [(7, 3), (6, 3)])
def test_following_next_reads_every_event_once_in_order(
    client: TestClient, writer: Headers, recorded: int, pages: int
) -> None:
    # given a log of `recorded` events (a full last page still links to an empty one)
    post(client, writer, source_body())
    for n in range(1, recorded):
        post(client, writer, dispatch_body(destinations=["Kazan"], count=exact(n)))

    # when an app follows `next` three events at a time
    seen, taken = follow(client, "/v1/events?limit=3")

    # then it sees every position once, in order, and stops at the end
    assert [e["position"] for e in seen] == list(range(1, recorded + 1))
    assert taken == pages
    assert [e["data"]["count"]["min"] for e in seen[1:]] == list(range(1, recorded))


def test_next_keeps_the_filters_of_the_first_page(client: TestClient, writer: Headers) -> None:
    # given dispatches from two sources, interleaved
    post(client, writer, source_body())
    post(client, writer, source_body(OTHER_SOURCE, outlet="RFA"))
    for n in range(1, 6):
        for source in (SOURCE_ID, OTHER_SOURCE):
            post(client, writer, dispatch_body(source, destinations=["Kazan"], count=exact(n)))

    # when an app pages through one source's dispatches, two at a time
    seen, pages = follow(
        client, f"/v1/events?type=workers.dispatched&source_id={SOURCE_ID}&limit=2"
    )

    # then it gets exactly that source's five dispatches, in order
    assert [e["data"]["count"]["min"] for e in seen] == [1, 2, 3, 4, 5]
    assert {(e["type"], e["provenance"]["source_id"]) for e in seen} == {
        ("workers.dispatched", SOURCE_ID)
    }
    assert [e["position"] for e in seen] == sorted(e["position"] for e in seen)
    assert pages == 3


def test_after_last_position_returns_only_what_came_later(
    client: TestClient, writer: Headers
) -> None:
    post(client, writer, source_body())
    first = client.get("/v1/events").json()
    assert (first["last_position"], first["next"]) == (1, None)

    later = post(client, writer, dispatch_body())

    page = client.get("/v1/events", params={"after": first["last_position"]}).json()
    assert [e["id"] for e in page["events"]] == [later["id"]]
    assert page["last_position"] == 2


# --- one source's stream ------------------------------------------------------------


def test_a_stream_holds_only_its_source_events_and_its_version(
    client: TestClient, writer: Headers
) -> None:
    # given two sources with facts of their own
    post(client, writer, source_body())
    post(client, writer, source_body(OTHER_SOURCE, outlet="RFA"))
    mine = [post(client, writer, dispatch_body(count=exact(n))) for n in (10, 20, 30)]
    post(client, writer, dispatch_body(OTHER_SOURCE, count=exact(99)))

    # when one source's stream is read
    response = client.get(f"/v1/streams/source:{SOURCE_ID}")

    # then it holds the source and its three facts, numbered 1..4, and no other source's
    assert response.status_code == 200, response.text
    stream = response.json()
    assert (stream["stream"], stream["version"], stream["next"]) == (
        f"source:{SOURCE_ID}",
        4,
        None,
    )
    assert [e["stream_version"] for e in stream["events"]] == [1, 2, 3, 4]
    assert [e["id"] for e in stream["events"][1:]] == [e["id"] for e in mine]
    assert {e["stream"] for e in stream["events"]} == {f"source:{SOURCE_ID}"}
    assert stream["events"][0]["type"] == "source.recorded"


def test_a_stream_pages_with_next_and_its_version_is_the_expected_version(
    client: TestClient, writer: Headers
) -> None:
    post(client, writer, source_body())
    for n in range(1, 5):
        post(client, writer, dispatch_body(count=exact(n)))

    seen, pages = follow(client, f"/v1/streams/source:{SOURCE_ID}?limit=2")
    assert [e["stream_version"] for e in seen] == [1, 2, 3, 4, 5]
    assert pages == 3

    # the version read is what an editor sends to add to the stream
    version = client.get(f"/v1/streams/source:{SOURCE_ID}").json()["version"]
    added = client.post(
        "/v1/events", json={**dispatch_body(), "expected_version": version}, headers=writer
    )
    assert added.status_code == 201, added.text
    assert added.json()["events"][0]["stream_version"] == version + 1
    stale = client.post(
        "/v1/events", json={**dispatch_body(), "expected_version": version}, headers=writer
    )
    assert stale.status_code == 409, stale.text


# --- what changed since a time --------------------------------------------------------


def test_changes_since_a_time_show_only_what_was_recorded_after_it(
    client: TestClient, writer: Headers
) -> None:
    # given a dispatch to Moscow, published, and later one to Vladivostok
    post(client, writer, source_body())
    published = post(client, writer, dispatch_body(destinations=["Moscow"], count=exact(100)))
    later = post(client, writer, dispatch_body(destinations=["Vladivostok"], count=exact(50)))
    assert later["recorded_at"] > published["recorded_at"]

    # when asked what changed since the moment the Moscow dispatch was recorded
    response = client.get("/v1/changes", params={"since": published["recorded_at"]})

    # then only Vladivostok changed, by the later event
    assert response.status_code == 200, response.text
    changes = response.json()
    assert (changes["from_position"], changes["to_position"]) == (
        published["position"],
        later["position"],
    )
    [change] = changes["changes"]
    assert change["key"] == {"place": "ru-vladivostok", "affiliation": "civilian"}
    assert change["before"] is None
    assert change["after"]["dispatched"]["min"] == 50
    assert [e["id"] for e in change["events"]] == [later["id"]]


def test_changes_since_before_the_first_event_show_every_row(
    client: TestClient, writer: Headers
) -> None:
    post(client, writer, source_body())
    post(client, writer, dispatch_body(destinations=["Moscow"], count=exact(100)))
    post(client, writer, dispatch_body(destinations=["Vladivostok"], count=exact(50)))

    changes = client.get(
        "/v1/changes", params={"since": "2001-01-01T00:00:00Z", "group_by": "country"}
    ).json()

    assert changes["from_position"] == 0
    [change] = changes["changes"]
    assert change["key"] == {"country": "RU"}
    assert change["before"] is None
    assert (change["after"]["dispatched"]["min"], change["after"]["dispatched"]["max"]) == (
        150,
        150,
    )


def test_changes_since_now_are_none(client: TestClient, writer: Headers) -> None:
    post(client, writer, source_body())
    last = post(client, writer, dispatch_body())

    changes = client.get("/v1/changes", params={"since": last["recorded_at"]}).json()

    assert changes["from_position"] == changes["to_position"] == last["position"]
    assert changes["changes"] == []


# --- every table as CSV --------------------------------------------------------------


@pytest.fixture
def seeded(client: TestClient, writer: Headers) -> None:
    """The founding report, plus a stock estimate (the report has none)."""
    for body in seed_bodies():
        post(client, writer, body)
    post(
        client,
        writer,
        {
            "type": "workforce.estimated",
            "provenance": {"source_id": SOURCE_ID, "locator": "About 20,000 are in Russia."},
            "data": {
                "place": {"name": "Russia"},
                "count": {"text": "about 20,000", "qualifier": "approximately", "number": 20000},
                "affiliation": "unknown",
                "as_of": "2023-04-28",
            },
        },
    )


# (path, the list in the JSON view that the CSV flattens, the CSV's file name)
CSV_VIEWS = [
    ("/v1/deployments", "rows", "deployments"),
    ("/v1/deployments?group_by=country", "rows", "deployments"),
    ("/v1/deployments/timeline", "rows", "timeline"),
    ("/v1/estimates", "estimates", "estimates"),
    ("/v1/remittances", "quotas", "remittances"),
    ("/v1/sources", "sources", "sources"),
    ("/v1/statements", "statements", "statements"),
]


def csv_cell(value: Any) -> str:
    return "" if value is None else str(value)


def compared_cells(item: dict[str, Any], row: dict[str, str]) -> int:
    """Check each CSV cell against the JSON item's field of that name, or its nested
    field (`dispatched_min` is `dispatched.min`, `outlet` a source's `data.outlet`);
    return how many cells were compared."""
    if isinstance(item.get("data"), dict):
        item = {**item["data"], **item}
    compared = 0
    for column, cell in row.items():
        if column in item and not isinstance(item[column], (dict, list)):
            expected = item[column]
        elif "_" in column and isinstance(item.get(column.rsplit("_", 1)[0]), dict):
            outer, inner = column.rsplit("_", 1)
            if inner not in item[outer] or isinstance(item[outer][inner], (dict, list)):
                continue
            expected = item[outer][inner]
        else:
            continue
        assert cell == csv_cell(expected), (column, cell, expected)
        compared += 1
    return compared


@pytest.mark.parametrize(("path", "items", "filename"), CSV_VIEWS)
def test_each_table_comes_as_csv_by_accept_and_by_format(
    client: TestClient, seeded: None, path: str, items: str, filename: str
) -> None:
    # given the JSON view, with something in it
    as_json = client.get(path)
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["content-type"].startswith("application/json")
    listed = as_json.json()[items]
    assert listed, f"{path} lists nothing to compare"

    # when the same view is asked as CSV, by header and by query parameter
    by_accept = client.get(path, headers={"Accept": "text/csv"})
    joiner = "&" if "?" in path else "?"
    by_format = client.get(f"{path}{joiner}format=csv")

    # then both are the same CSV file, one line per item of the JSON view, in order
    for response in (by_accept, by_format):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert f'filename="{filename}.csv"' in response.headers["content-disposition"]
    assert by_format.text == by_accept.text
    rows = list(csv.DictReader(io.StringIO(by_accept.text)))
    assert len(rows) == len(listed)
    for item, row in zip(listed, rows, strict=True):
        assert compared_cells(item, row) >= 3, (item, row)
