"""`country` takes a name as a journalist types it, in four languages, or an ISO code;
an unknown name is a 422 naming `country`, with the countries it is most like."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.ingest.importing import SEED_PRINCIPAL, import_events, read_seed
from service.ledger import Ledger

RUSSIA = ["Russia", "Россия", "러시아", "俄罗斯", "RU", "ru", "  russia "]
# Every view that takes `country`, with a question to ask it.
VIEWS = [
    ("/v1/deployments", {"group_by": "country"}),
    ("/v1/deployments/timeline", {"interval": "year"}),
    ("/v1/deployments/events", {}),
    ("/v1/estimates", {}),
    ("/v1/statements", {}),
    ("/v1/places", {}),
]


@pytest.fixture
def seeded(client: TestClient, ledger: Ledger) -> TestClient:
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    return client


def body(client: TestClient, path: str, **params: str) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("name", RUSSIA)
def test_russia_by_any_of_its_names_is_the_same_question_as_ru(
    seeded: TestClient, name: str
) -> None:
    by_code = body(seeded, "/v1/deployments", group_by="country", country="RU")
    by_name = body(seeded, "/v1/deployments", group_by="country", country=name)

    assert by_name == by_code
    assert [row["country"] for row in by_name["rows"]] == ["RU"]


def test_the_speakers_country_of_a_statement_can_be_named(seeded: TestClient) -> None:
    by_code = body(seeded, "/v1/statements", country="KP")["statements"]
    by_name = body(seeded, "/v1/statements", country="North Korea")["statements"]
    in_korean = body(seeded, "/v1/statements", country="북한")["statements"]

    assert by_code and by_name == by_code == in_korean


def test_places_filtered_by_a_country_name(client: TestClient) -> None:
    places = body(client, "/v1/places", country="Китай", limit="500")

    assert places
    assert {hit["place"]["country"] for hit in places} == {"CN"}


def test_the_row_events_of_a_country_can_be_asked_by_name(seeded: TestClient) -> None:
    by_code = body(seeded, "/v1/deployments/events", country="RU")
    by_name = body(seeded, "/v1/deployments/events", country="俄罗斯")

    assert by_code["events"] and by_name == by_code


@pytest.mark.parametrize(("path", "params"), VIEWS)
def test_every_view_refuses_an_unknown_country_naming_the_field(
    client: TestClient, path: str, params: dict[str, str]
) -> None:
    response = client.get(path, params={**params, "country": "Rusia"})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/unknown-country"
    assert problem["errors"][0]["field"] == "query.country"
    assert problem["suggestions"][0] == "RU"
    assert "RU (Russia)" in problem["detail"]


def test_a_city_given_as_a_country_points_to_place_and_its_country(client: TestClient) -> None:
    response = client.get("/v1/deployments", params={"country": "Vladivostok"})

    assert response.status_code == 422
    problem = response.json()
    assert problem["suggestions"] == ["RU"]
    assert "place=Vladivostok" in problem["detail"]


def test_a_name_like_no_country_says_to_send_a_code(client: TestClient) -> None:
    response = client.get("/v1/estimates", params={"country": "Zzyzx"})

    assert response.status_code == 422
    problem = response.json()
    assert problem["suggestions"] == []
    assert "two-letter ISO code" in problem["detail"]


def test_an_iso_code_the_gazetteer_lacks_is_still_a_question_with_no_rows(
    client: TestClient,
) -> None:
    # Codes were always accepted: a country the ledger holds no place of has no rows.
    view = body(client, "/v1/deployments", country="FR")

    assert view["rows"] == []


def test_an_empty_country_is_refused(client: TestClient) -> None:
    response = client.get("/v1/deployments", params={"country": ""})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.country"
