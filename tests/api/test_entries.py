"""Entry statistics (DESIGN §1b): official counts of arrivals into a country, by purpose
where given, shown in their own view and timeline and never counted as workers."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import SOURCE_ID, dispatch_body, meta_body, source_body

Headers = dict[str, str]


def exact(n: int) -> dict[str, Any]:
    return {"text": f"{n:,}", "qualifier": "exact", "number": n}


def entries_body(
    total: dict[str, Any] | None = None,
    by_purpose: dict[str, dict[str, Any]] | None = None,
    period: dict[str, Any] | None = None,
    **data: Any,
) -> dict[str, Any]:
    """Russian border statistics for 2023, with the figures given."""
    figures: dict[str, Any] = {}
    if total is not None:
        figures["total"] = total
    if by_purpose:
        figures["by_purpose"] = [{"purpose": p, "count": c} for p, c in by_purpose.items()]
    return {
        "type": "entries.recorded",
        "provenance": {
            "source_id": SOURCE_ID,
            "locator": "13,221 North Koreans entered Russia in 2023, 5,000 of them to study.",
            "reporting_basis": "government_data",
        },
        "data": {
            "publisher": "FSB border service",
            "destination_country": "RU",
            "period": period
            or {"start": "2023-01-01", "end": "2023-12-31", "precision": "year", "text": "2023"},
            **figures,
            **data,
        },
    }


def post(client: TestClient, headers: Headers, body: dict[str, Any]) -> str:
    response = client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    event_id: str = response.json()["events"][0]["id"]
    return event_id


def entries(client: TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/entries", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["entries"]
    return found


def timeline(client: TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/entries/timeline", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


def bounds(row: dict[str, Any]) -> tuple[int | None, int | None, int | None]:
    arrivals = row["arrivals"]
    return (arrivals["min"], arrivals["best"], arrivals["max"])


@pytest.fixture
def sourced(client: TestClient, writer: Headers) -> Headers:
    post(client, writer, source_body())
    return writer


def test_a_statistic_is_shown_with_its_total_and_purposes_as_reported(
    client: TestClient, sourced: Headers
) -> None:
    # given "13,221 North Koreans entered in 2023, 5,000 of them to study"
    event_id = post(
        client, sourced, entries_body(total=exact(13221), by_purpose={"study": exact(5000)})
    )
    # then the entries view shows the statistic with both figures and its provenance
    [entry] = entries(client)
    assert entry["event_id"] == event_id
    assert entry["publisher"] == "FSB border service"
    assert (entry["origin_country"], entry["destination_country"]) == ("KP", "RU")
    assert entry["period"]["start"] == "2023-01-01"
    assert entry["total"]["text"] == "13,221"
    assert (entry["total"]["min"], entry["total"]["max"]) == (13221, 13221)
    assert [(f["purpose"], f["best"]) for f in entry["by_purpose"]] == [("study", 5000)]
    assert entry["sources"] == [SOURCE_ID]
    assert entry["locator"].startswith("13,221 North Koreans")


def test_a_report_giving_only_one_purpose_is_recorded_without_a_total(
    client: TestClient, sourced: Headers
) -> None:
    post(client, sourced, entries_body(by_purpose={"study": exact(5000)}))
    [entry] = entries(client)
    assert entry["total"] is None
    assert [f["purpose"] for f in entry["by_purpose"]] == ["study"]


def test_arrivals_are_never_counted_as_workers(client: TestClient, sourced: Headers) -> None:
    # given a dispatch of 350 and 13,221 arrivals, 3,000 of them to work
    post(client, sourced, dispatch_body(destinations=["Moscow"]))
    post(client, sourced, entries_body(total=exact(13221), by_purpose={"work": exact(3000)}))
    # then the deployments and estimates hold the dispatch only
    rows = client.get("/v1/deployments", params={"group_by": "country"}).json()["rows"]
    assert [(r["country"], r["dispatched"]["best"], r["events"]) for r in rows] == [("RU", 350, 1)]
    assert rows[0]["estimated_present"] is None
    estimates = client.get("/v1/estimates").json()
    assert estimates["estimates"] == [] and estimates["latest"] == []
    timeline_rows = client.get("/v1/deployments/timeline").json()["rows"]
    assert sum(r["dispatched"]["best"] for r in timeline_rows) == 350


def test_entries_are_filtered_by_country_purpose_and_period(
    client: TestClient, sourced: Headers
) -> None:
    russia_2023 = post(
        client, sourced, entries_body(total=exact(13221), by_purpose={"study": exact(5000)})
    )
    china_2019 = post(
        client,
        sourced,
        entries_body(
            total=exact(1000),
            destination_country="CN",
            publisher="China's National Immigration Administration",
            period={"start": "2019-01-01", "end": "2019-12-31", "precision": "year"},
        ),
    )

    def ids(**params: str) -> list[str]:
        return [e["event_id"] for e in entries(client, **params)]

    assert ids() == [china_2019, russia_2023]  # oldest period first
    assert ids(country="RU") == [russia_2023]
    assert ids(country="Russia") == [russia_2023]
    assert ids(purpose="study") == [russia_2023]
    assert ids(purpose="total") == [china_2019, russia_2023]
    assert ids(purpose="work") == []
    assert ids(period_from="2020-01-01") == [russia_2023]
    assert ids(period_to="2020-01-01") == [china_2019]
    assert ids(as_of="2022-06-30") == [china_2019]


def test_entries_come_as_csv_one_line_per_figure(client: TestClient, sourced: Headers) -> None:
    post(client, sourced, entries_body(total=exact(13221), by_purpose={"study": exact(5000)}))
    response = client.get("/v1/entries", headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.text)))
    assert [(line["purpose"], line["best"], line["publisher"]) for line in lines] == [
        ("total", "13221", "FSB border service"),
        ("study", "5000", "FSB border service"),
    ]


def test_the_timeline_gives_arrivals_per_month_by_purpose(
    client: TestClient, sourced: Headers
) -> None:
    # given monthly statistics for January and February, and a yearly one
    for month, n in (("01", 800), ("02", 1200)):
        post(
            client,
            sourced,
            entries_body(
                total={"text": f"about {n}", "qualifier": "approximately", "number": n},
                period={"start": f"2023-{month}-01", "end": f"2023-{month}-28"},
            ),
        )
    post(client, sourced, entries_body(by_purpose={"study": exact(5000)}))
    # then each month is a row, and the year-long statistic a row of its own span
    rows = timeline(client)
    assert [(r["period"], r["purpose"], bounds(r)) for r in rows] == [
        ("2023-01", "total", (720, 800, 880)),
        ("2023-01/2023-12", "study", (5000, 5000, 5000)),
        ("2023-02", "total", (1080, 1200, 1320)),
    ]
    # and per year the months add up, the study figure beside them
    yearly = timeline(client, interval="year")
    assert [(r["period"], r["purpose"], bounds(r), r["overlapping"]) for r in yearly] == [
        ("2023", "study", (5000, 5000, 5000), False),
        ("2023", "total", (1800, 2000, 2200), False),
    ]
    assert [r["purpose"] for r in timeline(client, interval="year", purpose="study")] == ["study"]


def test_statistics_that_may_count_the_same_arrivals_are_not_simply_added(
    client: TestClient, sourced: Headers
) -> None:
    # given two publishers' totals for the same year
    post(client, sourced, entries_body(total=exact(13221)))
    post(client, sourced, entries_body(total=exact(12000), publisher="Rosstat"))
    # then the year's row is at least the larger and at most their sum, best unknown
    [row] = timeline(client, interval="year")
    assert row["overlapping"] is True
    assert bounds(row) == (13221, None, 25221)
    assert row["statistics"] == 2


def test_the_timeline_comes_as_csv(client: TestClient, sourced: Headers) -> None:
    post(client, sourced, entries_body(total=exact(13221)))
    response = client.get(
        "/v1/entries/timeline", params={"interval": "year"}, headers={"Accept": "text/csv"}
    )
    [line] = list(csv.DictReader(io.StringIO(response.text)))
    assert (line["period"], line["purpose"], line["arrivals_best"]) == ("2023", "total", "13221")


def test_a_correction_replaces_a_statistic_and_the_past_stays_readable(
    client: TestClient, sourced: Headers, corrector: Headers
) -> None:
    # given 13,221 recorded, then corrected to 13,000 with a study figure
    event_id = post(client, sourced, entries_body(total=exact(13221)))
    before = client.get("/v1/entries").json()["position"]
    corrected = entries_body(total=exact(13000), by_purpose={"study": exact(5000)})
    post(
        client,
        corrector,
        meta_body("fact.corrected", event_id, reason="misread", replacement=corrected["data"]),
    )
    # then the view shows the corrected figures under the statistic's own id
    [entry] = entries(client)
    assert entry["event_id"] == event_id
    assert entry["total"]["best"] == 13000
    assert [f["purpose"] for f in entry["by_purpose"]] == ["study"]
    assert entry["version_position"] > before
    # and what the ledger knew before the correction is one call
    [then] = entries(client, at_position=str(before))
    assert then["total"]["best"] == 13221 and then["by_purpose"] == []
    [row] = timeline(client, interval="year", purpose="total")
    assert bounds(row) == (13000, 13000, 13000)


def test_a_retraction_removes_a_statistic(
    client: TestClient, sourced: Headers, corrector: Headers
) -> None:
    event_id = post(client, sourced, entries_body(total=exact(13221)))
    post(client, corrector, meta_body("fact.retracted", event_id, reason="not confirmed"))
    assert entries(client) == []
    assert timeline(client) == []


def test_a_corroboration_adds_a_source_not_arrivals(client: TestClient, sourced: Headers) -> None:
    event_id = post(client, sourced, entries_body(total=exact(13221)))
    post(client, sourced, source_body("second-desk"))
    post(client, sourced, meta_body("fact.corroborated", event_id, source_id="second-desk"))
    [entry] = entries(client)
    assert entry["sources"] == [SOURCE_ID, "second-desk"]
    [row] = timeline(client, interval="year")
    assert bounds(row) == (13221, 13221, 13221)


# --- refused input: a 422 naming the field ---------------------------------------------


def refused_at(response: Any) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    pointer: str = response.json()["errors"][0]["pointer"]
    return pointer


def test_an_unknown_purpose_is_a_422_naming_the_field(client: TestClient, sourced: Headers) -> None:
    body = entries_body(by_purpose={"spying": exact(10)})
    response = client.post("/v1/events", json=body, headers=sourced)
    assert refused_at(response) == "/data/by_purpose/0/purpose"


def test_a_statistic_without_a_period_is_a_422_naming_the_field(
    client: TestClient, sourced: Headers
) -> None:
    body = entries_body(total=exact(10))
    del body["data"]["period"]
    assert refused_at(client.post("/v1/events", json=body, headers=sourced)) == "/data/period"
    body["data"]["period"] = {"text": "some time"}  # no date at all
    assert refused_at(client.post("/v1/events", json=body, headers=sourced)) == "/data/period"


def test_a_statistic_without_a_figure_is_a_422_naming_the_total(
    client: TestClient, sourced: Headers
) -> None:
    response = client.post("/v1/events", json=entries_body(), headers=sourced)
    assert refused_at(response) == "/data/total"


@pytest.mark.parametrize(
    ("by_purpose", "why"),
    [
        ([("study", 10), ("study", 20)], "each purpose once"),
        ([("study", 9000), ("work", 9000)], "more than the total"),
    ],
)
def test_purposes_repeated_or_adding_up_past_the_total_are_a_422(
    client: TestClient, sourced: Headers, by_purpose: list[tuple[str, int]], why: str
) -> None:
    body = entries_body(total=exact(13221))
    body["data"]["by_purpose"] = [{"purpose": p, "count": exact(n)} for p, n in by_purpose]
    response = client.post("/v1/events", json=body, headers=sourced)
    assert refused_at(response) == "/data/by_purpose"
    assert why in response.text


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/entries", {"purpose": "spying"}, "purpose"),
        ("/v1/entries", {"period_from": "2023"}, "period_from"),
        ("/v1/entries/timeline", {"interval": "week"}, "interval"),
        ("/v1/entries", {"country": "Atlantis"}, "country"),
    ],
)
def test_a_bad_query_is_a_422_naming_the_parameter(
    client: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.text


@pytest.mark.parametrize(
    ("period", "start", "end", "precision", "month_row"),
    [
        ({"start": "2023", "end": "2023"}, "2023-01-01", "2023-12-31", "year", "2023-01/2023-12"),
        (
            {"start": "2023-Q2", "end": "2023-Q2"},
            "2023-04-01",
            "2023-06-30",
            "quarter",
            "2023-04/2023-06",
        ),
        ({"end": "2023-05"}, None, "2023-05-31", "month", "../2023-05"),
    ],
)
def test_a_statistic_takes_its_period_as_precise_as_published(
    client: TestClient,
    sourced: Headers,
    period: dict[str, str],
    start: str | None,
    end: str,
    precision: str,
    month_row: str,
) -> None:
    post(client, sourced, entries_body(total=exact(100), period=period))
    [entry] = entries(client)
    assert (entry["period"]["start"], entry["period"]["end"]) == (start, end)
    assert entry["period"]["precision"] == precision
    # and the monthly timeline gives it one row of its own span, never split
    assert [row["period"] for row in timeline(client)] == [month_row]


def test_a_correction_whose_replacement_is_no_statistic_is_a_422_and_changes_nothing(
    client: TestClient, sourced: Headers, corrector: Headers
) -> None:
    event_id = post(client, sourced, entries_body(total=exact(13221)))
    replacement = entries_body(by_purpose={"spying": exact(1)})["data"]
    response = client.post(
        "/v1/events",
        json=meta_body("fact.corrected", event_id, reason="x", replacement=replacement),
        headers=corrector,
    )
    assert response.status_code == 422, response.text
    assert "/data/replacement/by_purpose/0/purpose" in response.text
    [entry] = entries(client)
    assert entry["total"]["best"] == 13221
