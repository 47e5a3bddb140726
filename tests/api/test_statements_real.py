"""Statements as real reports give them (DESIGN §1b): a speaker named only by a role or an
organisation, a date as precise as the report (or none), and the figures an official
stated (`claims`), listed with the statement and beside the deployments of their places,
never counted. And a source with no headline."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.domain.events import EventType
from service.domain.readers import read_payload
from service.ledger import Ledger
from service.log.append import NewEvent
from tests.factories import SOURCE_ID, dispatch_body, meta_body, source_body

Headers = dict[str, str]

ABOUT_5000 = {"text": "about 5,000", "qualifier": "approximately", "number": 5000}
A_FEW_THOUSAND = {"text": "a few thousand", "qualifier": "thousands"}

EXACT_1000 = {"text": "1,000", "qualifier": "exact", "number": 1000}


def stock_body() -> dict[str, Any]:
    return {
        "type": "workforce.estimated",
        "provenance": {"source_id": SOURCE_ID, "locator": "About 99 are in Vladivostok."},
        "data": {
            "place": {"name": "Vladivostok"},
            "count": {"text": "99", "qualifier": "exact", "number": 99},
            "as_of": "2023-01-01",
        },
    }


def statement_body(
    speaker: dict[str, Any] | None = None,
    issued_on: str | None = "2023-04-25",
    claims: list[dict[str, Any]] | None = None,
    quote: str = "Cooperation in labour will grow.",
    **data: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "statement.issued",
        "provenance": {
            "source_id": SOURCE_ID,
            "locator": f"Officials said: {quote}",
            "reporting_basis": "official_statement",
        },
        "data": {
            "speaker": speaker if speaker is not None else {"role": "city officials"},
            "quote": quote,
            "language": "en",
            **data,
        },
    }
    if issued_on is not None:
        body["data"]["issued_on"] = issued_on
    if claims is not None:
        body["data"]["claims"] = claims
    return body


def claim(
    about: str = "present",
    places: tuple[str, ...] = ("Primorsky Krai",),
    count: dict[str, Any] = ABOUT_5000,
    **data: Any,
) -> dict[str, Any]:
    return {
        "about": about,
        "count": count,
        "places": [{"name": name} for name in places],
        "quote": f"{count['text']} {about} in {', '.join(places)}",
        **data,
    }


def post(client: TestClient, headers: Headers, body: dict[str, Any]) -> str:
    response = client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    event_id: str = response.json()["events"][0]["id"]
    return event_id


def statements(client: TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/statements", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["statements"]
    return found


def quotes(client: TestClient, **params: str) -> list[str]:
    return [s["quote"] for s in statements(client, **params)]


def claims_beside(client: TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/deployments", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["claims"]
    return found


@pytest.fixture
def sourced(client: TestClient, writer: Headers) -> Headers:
    post(client, writer, source_body(published_on="2023-06-01"))
    return writer


# --- who spoke ------------------------------------------------------------------------------


def test_a_speaker_named_only_by_a_role_is_recorded_and_listed(
    client: TestClient, sourced: Headers
) -> None:
    post(client, sourced, statement_body(speaker={"role": "city officials", "country": "RU"}))
    [statement] = statements(client)
    assert statement["speaker"] == {
        "name": None,
        "role": "city officials",
        "country": "RU",
        "organisation": None,
    }
    # and the speaker filter finds them by their role
    assert len(statements(client, speaker="city officials")) == 1


def test_an_organisation_alone_is_a_speaker(client: TestClient, sourced: Headers) -> None:
    organisation = {"organisation": "Primorsky Krai labour ministry"}
    post(client, sourced, statement_body(speaker=organisation))
    [statement] = statements(client, speaker="labour ministry")
    assert statement["speaker"]["organisation"] == "Primorsky Krai labour ministry"
    assert statement["speaker"]["name"] is None


@pytest.mark.parametrize(
    "speaker", [{}, {"country": "RU"}, {"name": None, "role": None, "organisation": None}]
)
def test_a_speaker_with_no_name_role_or_organisation_is_a_422_naming_speaker(
    client: TestClient, sourced: Headers, speaker: dict[str, Any]
) -> None:
    response = client.post("/v1/events", json=statement_body(speaker=speaker), headers=sourced)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["pointer"] == "/data/speaker"
    assert "role" in error["message"] and "organisation" in error["message"]


# --- when -----------------------------------------------------------------------------------


@pytest.fixture
def four_statements(client: TestClient, sourced: Headers) -> None:
    """Dated 25 April, May (only the month), 10 May, and not at all; the source was
    published on 1 June."""
    post(client, sourced, statement_body(issued_on="2023-04-25", quote="April"))
    post(client, sourced, statement_body(issued_on="2023-05", quote="May"))
    post(client, sourced, statement_body(issued_on="2023-05-10", quote="10 May"))
    post(client, sourced, statement_body(issued_on=None, quote="undated"))


def test_statements_are_newest_first_by_the_first_day_of_their_date_and_undated_last(
    client: TestClient, four_statements: None
) -> None:
    assert quotes(client) == ["10 May", "May", "April", "undated"]
    issued = [s["issued_on"] for s in statements(client)]
    assert issued == ["2023-05-10", "2023-05", "2023-04-25", None]


def test_the_dates_filter_keeps_a_statement_whose_date_may_fall_in_the_range(
    client: TestClient, four_statements: None
) -> None:
    # "May 2023" may have been any day of May: it is kept from 10 May on
    assert quotes(client, issued_from="2023-05-10") == ["10 May", "May"]
    assert quotes(client, issued_to="2023-04-30") == ["April"]
    assert quotes(client, issued_from="2023-05-02", issued_to="2023-05-09") == ["May"]
    # an undated statement is in no range
    assert "undated" not in quotes(client, issued_from="1990-01-01")


def test_as_of_keeps_statements_made_by_then_and_an_undated_one_from_its_reports_date(
    client: TestClient, four_statements: None
) -> None:
    assert quotes(client, as_of="2023-04-30") == ["April"]
    # a statement of May may have been made on 1 May
    assert quotes(client, as_of="2023-05-05") == ["May", "April"]
    # the undated one was made by the day its report was published, 1 June, at the latest
    assert quotes(client, as_of="2023-05-31") == ["10 May", "May", "April"]
    assert quotes(client, as_of="2023-06-01") == ["10 May", "May", "April", "undated"]


def test_an_undated_statement_of_a_source_dated_to_the_month_counts_from_its_last_day(
    client: TestClient, writer: Headers
) -> None:
    post(client, writer, source_body(published_on="2023-06"))
    post(client, writer, statement_body(issued_on=None, quote="undated"))
    assert quotes(client, as_of="2023-06-29") == []
    assert quotes(client, as_of="2023-06-30") == ["undated"]


def test_an_undated_statement_follows_its_sources_corrected_date(
    client: TestClient, writer: Headers, corrector: Headers
) -> None:
    source_id = post(client, writer, source_body(published_on="2023-06"))
    post(client, writer, statement_body(issued_on=None, quote="undated"))
    replacement = source_body(published_on="2023-05-15")["data"]
    fix = meta_body("fact.corrected", source_id, reason="wrong month", replacement=replacement)
    post(client, corrector, fix)
    assert quotes(client, as_of="2023-05-15") == ["undated"]


def test_a_statement_corroborated_by_another_source_lists_both_sources(
    client: TestClient, sourced: Headers
) -> None:
    statement_id = post(client, sourced, statement_body(claims=[claim()]))
    post(client, sourced, source_body("another-report"))
    post(client, sourced, meta_body("fact.corroborated", statement_id, "another-report"))
    [statement] = statements(client)
    assert statement["sources"] == [SOURCE_ID, "another-report"]
    assert claims_beside(client)[0]["sources"] == [SOURCE_ID, "another-report"]


def test_an_undated_statement_of_an_undated_source_counts_from_the_day_it_was_recorded(
    client: TestClient, writer: Headers
) -> None:
    post(client, writer, source_body())  # no published_on
    post(client, writer, statement_body(issued_on=None, quote="undated"))
    assert quotes(client, as_of="2023-06-01") == []
    assert quotes(client, as_of="2099-01-01") == ["undated"]


def test_the_statements_csv_gives_the_date_as_reported_the_speaker_and_the_claims(
    client: TestClient, four_statements: None, sourced: Headers
) -> None:
    post(
        client,
        sourced,
        statement_body(
            speaker={"role": "city officials", "organisation": "Vladivostok city hall"},
            issued_on="2023-Q3",
            quote="claims",
            claims=[claim(), claim("expected", ("Vladivostok",), A_FEW_THOUSAND)],
        ),
    )
    response = client.get("/v1/statements", headers={"Accept": "text/csv"})
    assert response.status_code == 200
    rows = {row["quote"]: row for row in csv.DictReader(io.StringIO(response.text))}
    assert [rows[q]["issued_on"] for q in ("claims", "May", "undated")] == [
        "2023-Q3",
        "2023-05",
        "",
    ]
    with_claims = rows["claims"]
    assert (with_claims["speaker"], with_claims["role"]) == ("", "city officials")
    assert with_claims["organisation"] == "Vladivostok city hall"
    assert with_claims["claims"] == (
        "present: about 5,000 (Primorsky Krai); expected: a few thousand (Vladivostok)"
    )


@pytest.mark.parametrize("issued_on", ["25 April", "2023-13", "2023-Q5", "1900"])
def test_a_date_that_is_none_of_the_four_forms_or_out_of_the_years_is_a_422(
    client: TestClient, sourced: Headers, issued_on: str
) -> None:
    response = client.post("/v1/events", json=statement_body(issued_on=issued_on), headers=sourced)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/data/issued_on"


# --- claims ---------------------------------------------------------------------------------


def test_claims_are_recorded_resolved_and_listed_with_their_statement(
    client: TestClient, sourced: Headers
) -> None:
    period = {"start": "2023-01-01", "end": "2023-12-31", "precision": "year", "text": "this year"}
    post(
        client,
        sourced,
        statement_body(
            claims=[
                claim(),
                claim("expected", ("Vladivostok",), A_FEW_THOUSAND, period=period),
            ]
        ),
    )
    [statement] = statements(client)
    present, expected = statement["claims"]
    assert present["about"] == "present"
    assert present["places"] == [
        {
            "name": "Primorsky Krai",
            "place_id": "ru-primorsky-krai",
            "country": "RU",
            "kind": "region",
        }
    ]
    assert (present["count"]["min"], present["count"]["best"], present["count"]["max"]) == (
        4500,
        5000,
        5500,
    )
    assert present["affiliation"] == "unknown"
    assert present["quote"] == "about 5,000 present in Primorsky Krai"
    assert expected["about"] == "expected"
    assert (expected["count"]["min"], expected["count"]["max"]) == (2000, 9999)
    assert expected["period"]["text"] == "this year"


def test_a_statement_is_recorded_in_schema_version_2(client: TestClient, sourced: Headers) -> None:
    event_id = post(client, sourced, statement_body())
    event = client.get(f"/v1/events/{event_id}").json()
    assert event["schema_version"] == 2
    assert event["data"]["claims"] == []


def test_a_version_1_body_is_recorded_as_version_2_and_one_with_claims_is_a_422(
    client: TestClient, sourced: Headers
) -> None:
    event_id = post(client, sourced, {**statement_body(), "schema_version": 1})
    assert client.get(f"/v1/events/{event_id}").json()["schema_version"] == 2
    body = {**statement_body(claims=[claim()]), "schema_version": 1}
    response = client.post("/v1/events", json=body, headers=sourced)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["pointer"] == "/schema_version"
    assert "claims" in error["message"]


def test_an_unknown_place_in_a_claim_is_a_422_naming_it(
    client: TestClient, sourced: Headers
) -> None:
    body = statement_body(claims=[claim(), claim(places=("Vladivostok", "Atlantis"))])
    response = client.post("/v1/events", json=body, headers=sourced)
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/unknown-place"
    assert response.json()["errors"][0]["pointer"] == "/data/claims/1/places/1/name"


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"places": []}, "/data/claims/0/places"),
        ({"about": "rumoured"}, "/data/claims/0/about"),
        ({"quote": ""}, "/data/claims/0/quote"),
        ({"count": {"text": "5,000", "qualifier": "exact", "number": "5000"}}, None),
    ],
)
def test_a_claim_without_places_a_known_subject_words_or_a_whole_count_is_a_422(
    client: TestClient, sourced: Headers, change: dict[str, Any], pointer: str | None
) -> None:
    response = client.post(
        "/v1/events", json=statement_body(claims=[{**claim(), **change}]), headers=sourced
    )
    assert response.status_code == 422
    found = response.json()["errors"][0]["pointer"]
    assert found == pointer if pointer else found.startswith("/data/claims/0/count")


def _figures(view: Any) -> Any:
    """A view's numbers, without what moves with every append (positions, links) and
    without the claims listed beside them."""
    if isinstance(view, dict):
        return {
            k: _figures(v)
            for k, v in view.items()
            if k not in {"position", "head", "events_url", "claims"}
        }
    if isinstance(view, list):
        return [_figures(v) for v in view]
    return view


COUNTED_VIEWS = [
    ("/v1/deployments", {}),
    ("/v1/deployments", {"group_by": "country"}),
    ("/v1/deployments", {"group_by": "country,affiliation", "as_of": "2023-12-31"}),
    ("/v1/deployments/timeline", {}),
    ("/v1/estimates", {}),
]


def test_claims_are_listed_beside_the_deployments_but_never_counted(
    client: TestClient, sourced: Headers
) -> None:
    # given 1,000 sent to Vladivostok after a stock of 99 there
    post(client, sourced, dispatch_body(destinations=["Vladivostok"], count=EXACT_1000))
    post(client, sourced, stock_body())
    before = [_figures(client.get(path, params=params).json()) for path, params in COUNTED_VIEWS]
    # when officials state figures about Vladivostok and its region: present, dispatched,
    # expected and sent home
    statement_id = post(
        client,
        sourced,
        statement_body(
            issued_on="2023-05",
            claims=[
                claim("present", ("Vladivostok",), ABOUT_5000),
                claim("dispatched", ("Vladivostok",), EXACT_1000, affiliation="military"),
                claim("expected", ("Primorsky Krai",), A_FEW_THOUSAND),
                claim("repatriated", ("Vladivostok",), EXACT_1000),
            ],
        ),
    )
    # then no number moves: not a flow, not `planned`, not a stock, not estimated_present
    after = [_figures(client.get(path, params=params).json()) for path, params in COUNTED_VIEWS]
    assert after == before
    csv_rows = client.get("/v1/deployments", headers={"Accept": "text/csv"}).text
    assert "5000" not in csv_rows and "5500" not in csv_rows
    # and the claims are listed beside the rows, with who said them and when
    beside = claims_beside(client)
    assert [c["about"] for c in beside] == ["present", "dispatched", "expected", "repatriated"]
    first = beside[0]
    assert first["statement_event_id"] == statement_id
    assert first["speaker"]["role"] == "city officials"
    assert first["issued_on"] == "2023-05"
    assert first["sources"] == [SOURCE_ID]
    assert first["count"]["best"] == 5000


def test_claims_beside_the_deployments_follow_the_place_country_and_affiliation_asked(
    client: TestClient, sourced: Headers
) -> None:
    post(client, sourced, dispatch_body(destinations=["Vladivostok"], count=EXACT_1000))
    post(
        client,
        sourced,
        statement_body(
            claims=[
                claim("present", ("Vladivostok",), ABOUT_5000),
                claim("present", ("Primorsky Krai",), ABOUT_5000, affiliation="military"),
                claim("present", ("Dandong",), ABOUT_5000),
            ]
        ),
    )

    def places(**params: str) -> list[str]:
        return [c["places"][0]["place_id"] for c in claims_beside(client, **params)]

    everything = ["ru-vladivostok", "ru-primorsky-krai", "cn-dandong"]
    assert places() == everything
    assert places(group_by="country") == everything
    assert places(country="RU") == ["ru-vladivostok", "ru-primorsky-krai"]
    assert places(country="CN") == ["cn-dandong"]
    # a region asked for includes its cities; a city does not include its region
    assert places(place="Primorsky Krai") == ["ru-vladivostok", "ru-primorsky-krai"]
    assert places(place="Vladivostok") == ["ru-vladivostok"]
    assert places(affiliation="military") == ["ru-primorsky-krai"]


def test_claims_beside_the_deployments_follow_the_time_axes(
    client: TestClient, sourced: Headers
) -> None:
    statement = statement_body(issued_on="2023-05", claims=[claim()])
    position = client.get("/v1/deployments").json()["position"]
    post(client, sourced, statement)
    assert len(claims_beside(client)) == 1
    # what the ledger knew before the statement was recorded
    assert claims_beside(client, at_position=str(position)) == []
    # the world as reported on a date before the statement was made
    assert claims_beside(client, as_of="2023-04-30") == []
    assert len(claims_beside(client, as_of="2023-05-01")) == 1


def test_a_correction_replaces_a_statements_claims_and_a_retraction_removes_them(
    client: TestClient, sourced: Headers, corrector: Headers
) -> None:
    original = statement_body(claims=[claim("present", ("Vladivostok",))])
    statement_id = post(client, sourced, original)
    replacement = statement_body(claims=[claim("expected", ("Primorsky Krai",), A_FEW_THOUSAND)])[
        "data"
    ]
    post(
        client,
        corrector,
        meta_body("fact.corrected", statement_id, reason="misheard", replacement=replacement),
    )
    [statement] = statements(client)
    assert [c["about"] for c in statement["claims"]] == ["expected"]
    assert [(c["about"], c["statement_event_id"]) for c in claims_beside(client)] == [
        ("expected", statement_id)
    ]
    # a replacement's claim places are resolved, and an unknown one refused
    unknown = statement_body(claims=[claim(places=("Atlantis",))])["data"]
    refused = client.post(
        "/v1/events",
        json=meta_body("fact.corrected", statement_id, reason="typo", replacement=unknown),
        headers=corrector,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/data/replacement/claims/0/places/0/name"
    post(client, corrector, meta_body("fact.retracted", statement_id, reason="not said"))
    assert statements(client) == []
    assert claims_beside(client) == []


def test_a_statement_stored_in_version_1_still_reads(
    client: TestClient, sourced: Headers, ledger: Ledger
) -> None:
    # given a statement an earlier ledger recorded in schema version 1: a named speaker,
    # a day, and no claims field at all
    v1 = {
        "speaker": {"name": "Im Chon-il", "role": "Vice Foreign Minister", "country": "KP"},
        "issued_on": "2023-04-25",
        "quote": "Solidarity.",
        "topics": [],
        "language": "en",
    }
    provenance = {"source_id": SOURCE_ID, "locator": "Solidarity.", "reporting_basis": "unknown"}
    stored = NewEvent(
        type=EventType.statement_issued.value,
        schema_version=1,
        payload=read_payload(EventType.statement_issued.value, 1, v1),
        data=v1,
        provenance=provenance,
    )
    outcome = ledger.store.append([stored], principal="an-earlier-ledger")
    event_id = str(outcome.result.events[0].id)
    # then it is kept as recorded, and read as version 2 with no claims
    as_recorded = client.get(f"/v1/events/{event_id}").json()
    assert (as_recorded["schema_version"], as_recorded["data"]) == (1, v1)
    current = client.get(f"/v1/events/{event_id}", params={"schema": "current"}).json()
    assert (current["schema_version"], current["data"]["claims"]) == (2, [])
    [statement] = statements(client)
    assert (statement["speaker"]["name"], statement["claims"]) == ("Im Chon-il", [])
    assert claims_beside(client) == []


# --- a source with no headline --------------------------------------------------------------


def test_a_source_without_a_title_is_recorded_listed_and_its_facts_counted(
    client: TestClient, writer: Headers
) -> None:
    body = source_body(published_on="2023-05")
    del body["data"]["title"]
    post(client, writer, body)
    post(client, writer, dispatch_body(destinations=["Vladivostok"], count=EXACT_1000))
    [source] = client.get("/v1/sources").json()["sources"]
    assert source["data"]["title"] is None
    detail = client.get(f"/v1/sources/{SOURCE_ID}")
    assert detail.status_code == 200 and detail.json()["source"]["title"] is None
    table = client.get("/v1/sources", headers={"Accept": "text/csv"})
    [row] = csv.DictReader(io.StringIO(table.text))
    assert (row["source_id"], row["title"]) == (SOURCE_ID, "")
    # its fact counts as any other, dated by the source
    [vladivostok] = client.get("/v1/deployments").json()["rows"]
    assert vladivostok["dispatched"]["best"] == 1000
    assert vladivostok["first_reported"] is not None
