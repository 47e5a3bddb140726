"""The other views of the log: remittances, statements, sources, estimates, timeline, changes."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from service.ledger import Ledger
from tests.factories import SOURCE_ID, dispatch_body, meta_body, source_body


def test_seed_quotas_convert_to_usd_at_the_rate_of_3_may(
    client: TestClient, seeded: Ledger
) -> None:
    quotas = {q["affiliation"]: q for q in client.get("/v1/remittances").json()["quotas"]}
    assert quotas["military"]["amount"] == "45000"
    assert quotas["military"]["usd"] == "562.50"
    assert quotas["civilian"]["usd"] == "875.00"
    rate = quotas["civilian"]["usd_rate"]
    assert rate["as_of"] == "2023-05-03"
    assert rate["source_id"] == SOURCE_ID
    assert rate["text"] == "As of May 3, RUB 100 equalled USD 1.25."


def test_a_quota_with_no_earlier_rate_has_no_usd_and_says_why(
    client: TestClient, seeded: Ledger
) -> None:
    view = client.get("/v1/remittances", params={"as_of": "2023-05-01"}).json()
    assert {q["affiliation"] for q in view["quotas"]} == {"military", "civilian"}
    for quota in view["quotas"]:
        assert quota["usd"] is None
        assert "no RUB/USD rate" in quota["usd_unavailable_reason"]


def test_statements_filter_by_speaker_and_words(client: TestClient, seeded: Ledger) -> None:
    found = client.get("/v1/statements", params={"speaker": "im chon", "q": "solidarity"}).json()
    [statement] = found["statements"]
    assert statement["issued_on"] == "2023-04-25"
    assert statement["quote"].startswith("Today, following the long tradition")
    assert client.get("/v1/statements", params={"q": "baseball"}).json()["statements"] == []
    early = client.get("/v1/statements", params={"as_of": "2023-04-24"}).json()
    assert early["statements"] == []


def test_a_source_lists_every_fact_taken_from_it(client: TestClient, seeded: Ledger) -> None:
    sources = client.get("/v1/sources").json()["sources"]
    assert [s["source_id"] for s in sources] == [SOURCE_ID]
    detail = client.get(f"/v1/sources/{SOURCE_ID}").json()
    assert detail["source"]["outlet"] == "Daily NK"
    assert len(detail["facts"]) == 8
    assert {f["status"] for f in detail["facts"]} == {"active"}
    assert client.get("/v1/sources/no-such-source").status_code == 404


def test_a_source_shows_corrections_retractions_and_corroborations(
    client: TestClient, writer: dict[str, str], corrector: dict[str, str]
) -> None:
    client.post("/v1/events", json=source_body(), headers=writer)
    client.post("/v1/events", json=source_body("rfa-2023"), headers=writer)
    fact = client.post("/v1/events", json=dispatch_body(), headers=writer).json()["events"][0]
    other = client.post(
        "/v1/events", json=dispatch_body(destinations=["Vladivostok"]), headers=writer
    ).json()["events"][0]
    client.post(
        "/v1/events", json=meta_body("fact.corroborated", fact["id"], "rfa-2023"), headers=writer
    )
    replacement = {**dispatch_body()["data"], "transport": "air"}
    corrected = client.post(
        "/v1/events",
        json=meta_body("fact.corrected", fact["id"], reason="transport", replacement=replacement),
        headers=corrector,
    )
    assert corrected.status_code == 201, corrected.text
    client.post(
        "/v1/events",
        json=meta_body("fact.retracted", other["id"], reason="wrong city"),
        headers=corrector,
    )
    facts = {f["event"]["id"]: f for f in client.get(f"/v1/sources/{SOURCE_ID}").json()["facts"]}
    assert facts[fact["id"]]["status"] == "corrected"
    assert facts[fact["id"]]["current"]["transport"] == "air"
    assert [c["provenance"]["source_id"] for c in facts[fact["id"]]["corroborations"]] == [
        "rfa-2023"
    ]
    assert facts[other["id"]]["status"] == "retracted"
    assert facts[other["id"]]["current"] is None
    rfa = client.get("/v1/sources/rfa-2023").json()
    assert [e["data"]["target_event_id"] for e in rfa["corroborates"]] == [fact["id"]]


def test_a_stock_estimate_plus_later_flows_gives_the_estimated_present(
    client: TestClient, writer: dict[str, str]
) -> None:
    client.post("/v1/events", json=source_body(), headers=writer)
    estimate = {
        "type": "workforce.estimated",
        "provenance": {"source_id": SOURCE_ID, "locator": "about 1,000 workers in Vladivostok"},
        "data": {
            "place": {"name": "Vladivostok"},
            "count": {"text": "about 1,000", "qualifier": "approximately", "number": 1000},
            "affiliation": "military",
            "as_of": "2023-01-01",
        },
    }
    assert client.post("/v1/events", json=estimate, headers=writer).status_code == 201
    sent = dispatch_body(
        destinations=["Vladivostok"],
        count={"text": "100", "qualifier": "exact", "number": 100},
        affiliation="military",
    )
    assert client.post("/v1/events", json=sent, headers=writer).status_code == 201
    view = client.get("/v1/estimates", params={"as_of": "2023-06-01"}).json()
    [row] = view["latest"]
    assert row["latest"]["as_of"] == "2023-01-01"
    assert row["estimated_present"] == {
        "min": 1000,
        "best": 1100,
        "max": 1200,
        "best_complete": True,
    }
    before = client.get("/v1/estimates", params={"as_of": "2022-12-31"}).json()
    assert before["latest"] == []


def test_timeline_counts_per_month_of_the_period_start(client: TestClient, seeded: Ledger) -> None:
    rows = client.get("/v1/deployments/timeline", params={"group_by": "country"}).json()["rows"]
    march = [r for r in rows if r["period"] == "2023-03"]
    assert march and march[0]["dispatched"]["max"] == 484
    yearly = client.get("/v1/deployments/timeline", params={"interval": "year"}).json()["rows"]
    assert {r["period"] for r in yearly} == {"2023"}


def test_changes_since_a_position_name_rows_and_the_events_that_changed_them(
    client: TestClient, seeded: Ledger, corrector: dict[str, str]
) -> None:
    published = client.get("/v1/deployments").json()["position"]
    vladivostok = client.get("/v1/events", params={"type": "workers.dispatched"}).json()["events"][
        1
    ]
    replacement = {
        **vladivostok["data"],
        "count": {"text": "about 90", "qualifier": "approximately", "number": 90},
    }
    fix = client.post(
        "/v1/events",
        json=meta_body(
            "fact.corrected", vladivostok["id"], reason="recount", replacement=replacement
        ),
        headers=corrector,
    )
    assert fix.status_code == 201, fix.text
    changed = client.get("/v1/changes", params={"from_position": published}).json()
    [change] = changed["changes"]
    assert change["key"] == {"place": "ru-vladivostok", "affiliation": "military"}
    assert change["before"]["dispatched"]["max"] == 99
    assert change["after"]["dispatched"] == {
        "min": 81,
        "best": 90,
        "max": 99,
        "best_complete": True,
    }
    assert [e["id"] for e in change["events"]] == [fix.json()["events"][0]["id"]]
    assert (
        client.get(
            "/v1/changes", params={"from_position": fix.json()["events"][0]["position"]}
        ).json()["changes"]
        == []
    )


def test_views_carry_an_etag_and_answer_304(client: TestClient, seeded: Ledger) -> None:
    first = client.get("/v1/deployments")
    etag = first.headers["etag"]
    again = client.get("/v1/deployments", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert (
        client.get("/v1/deployments?group_by=country", headers={"If-None-Match": etag}).status_code
        == 200
    )
    for path in (
        "/v1/remittances",
        "/v1/statements",
        "/v1/sources",
        "/v1/estimates",
        "/v1/deployments/timeline",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert (
            client.get(path, headers={"If-None-Match": response.headers["etag"]}).status_code == 304
        )


def test_an_append_changes_the_etag(
    client: TestClient, seeded: Ledger, writer: dict[str, str]
) -> None:
    etag = client.get("/v1/deployments").headers["etag"]
    client.post("/v1/events", json=source_body("another-source"), headers=writer)
    assert client.get("/v1/deployments", headers={"If-None-Match": etag}).status_code == 200


def test_deployments_as_csv(client: TestClient, seeded: Ledger) -> None:
    response = client.get(
        "/v1/deployments", params={"group_by": "country"}, headers={"Accept": "text/csv"}
    )
    assert response.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert row["country"] == "RU"
    assert (row["dispatched_min"], row["dispatched_best"], row["dispatched_max"]) == (
        "316",
        "",
        "484",
    )


def test_deployments_by_place_as_geojson_points(client: TestClient, seeded: Ledger) -> None:
    response = client.get(
        "/v1/deployments", params={"group_by": "place"}, headers={"Accept": "application/geo+json"}
    )
    assert response.headers["content-type"] == "application/geo+json"
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    moscow = next(f for f in collection["features"] if f["properties"]["place_id"] == "ru-moscow")
    lon, lat = moscow["geometry"]["coordinates"]
    assert 37 < lon < 38 and 55 < lat < 56
    assert moscow["properties"]["dispatched"]["max"] == 385


def test_a_row_links_to_the_events_behind_it(client: TestClient, seeded: Ledger) -> None:
    rows = client.get("/v1/deployments", params={"group_by": "place"}).json()["rows"]
    moscow = next(r for r in rows if r["place"]["place_id"] == "ru-moscow")
    events = client.get(moscow["events_url"]).json()["events"]
    assert [e["type"] for e in events] == ["workers.dispatched"]
    assert events[0]["data"]["count"]["text"] == "about 350"


def test_a_place_filter_includes_a_regions_cities(client: TestClient, seeded: Ledger) -> None:
    rows = client.get(
        "/v1/deployments", params={"place": "Primorsky Krai", "group_by": "place"}
    ).json()["rows"]
    assert [r["place"]["place_id"] for r in rows] == ["ru-vladivostok"]


def test_an_unknown_place_filter_is_a_problem_naming_the_field(client: TestClient) -> None:
    response = client.get("/v1/deployments", params={"place": "Atlantis"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "place"


def test_a_bad_group_by_is_a_problem(client: TestClient) -> None:
    response = client.get("/v1/deployments", params={"group_by": "planet"})
    assert response.status_code == 422
    assert "group_by" in response.json()["detail"]
