"""Places: found by any of their names in four languages and common misspellings,
and resolved (or refused, naming the candidates) when an event names them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.factories import dispatch_body, source_body

PROBLEM = "application/problem+json"
Headers = dict[str, str]


def hits(client: TestClient, q: str, **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/places", params={"q": q, **params})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


@pytest.mark.parametrize(
    ("q", "place_id"),
    [
        ("Vladivostok", "ru-vladivostok"),
        ("Владивосток", "ru-vladivostok"),
        ("블라디보스토크", "ru-vladivostok"),
        ("符拉迪沃斯托克", "ru-vladivostok"),
        ("海参崴", "ru-vladivostok"),
        ("Saint Petersburg", "ru-saint-petersburg"),
        ("St. Petersburg", "ru-saint-petersburg"),
        ("Санкт-Петербург", "ru-saint-petersburg"),
        ("상트페테르부르크", "ru-saint-petersburg"),
        ("圣彼得堡", "ru-saint-petersburg"),
        ("Moscow", "ru-moscow"),
        ("Москва", "ru-moscow"),
        ("모스크바", "ru-moscow"),
        ("莫斯科", "ru-moscow"),
        ("Dandong", "cn-dandong"),
        ("丹东", "cn-dandong"),
        ("단둥", "cn-dandong"),
        ("Даньдун", "cn-dandong"),
    ],
)
def test_a_place_is_found_by_its_name_in_any_of_four_languages(
    client: TestClient, q: str, place_id: str
) -> None:
    first = hits(client, q)[0]
    assert (first["place"]["id"], first["score"]) == (place_id, 1.0)


@pytest.mark.parametrize(
    ("q", "place_id"),
    [
        ("Vladivostock", "ru-vladivostok"),  # a common spelling
        ("vladivostak", "ru-vladivostok"),  # a typo
        ("Khabarovks", "ru-khabarovsk"),  # transposed letters
        ("SANKT-PETERBURG", "ru-saint-petersburg"),  # case and hyphen
        ("St Petersburg", "ru-saint-petersburg"),  # no full stop
        ("Moskva", "ru-moscow"),  # transliteration
        ("Nahodka", "ru-nakhodka"),
        ("Ussuriisk", "ru-ussuriysk"),
        ("Yuzhno Sakhalinsk", "ru-yuzhno-sakhalinsk"),
        ("Antung", "cn-dandong"),  # an old romanisation
        ("Донецьк", "ua-donetsk"),  # Ukrainian spelling
        ("ДОНЕЦК", "ua-donetsk"),
    ],
)
def test_common_spellings_and_misspellings_find_the_place_first(
    client: TestClient, q: str, place_id: str
) -> None:
    assert hits(client, q)[0]["place"]["id"] == place_id


def test_an_ambiguous_name_returns_every_candidate(client: TestClient) -> None:
    found = hits(client, "Jilin")
    exact = {h["place"]["id"]: h["place"]["kind"] for h in found if h["score"] == 1.0}
    assert exact == {"cn-jilin": "city", "cn-jilin-province": "region"}


def test_a_country_and_kind_narrow_the_search(client: TestClient) -> None:
    assert hits(client, "Jilin", kind="city")[0]["place"]["id"] == "cn-jilin"
    assert hits(client, "Vladivostok", country="CN") == []


def test_an_occupied_place_keeps_its_recognised_country_and_says_who_controls_it(
    client: TestClient,
) -> None:
    place = hits(client, "Donetsk")[0]["place"]
    assert (place["country"], place["controlled_by"]) == ("UA", "RU")
    assert place["controlled_since"].startswith("2014")


def test_a_place_is_read_by_its_id(client: TestClient) -> None:
    place = client.get("/v1/places/ru-vladivostok").json()
    assert place["names"]["ko"] == "블라디보스토크"
    assert place["parent"] == "ru-primorsky-krai"


def test_an_unknown_place_id_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/v1/places/ru-atlantis")
    assert response.status_code == 404
    assert response.headers["content-type"].split(";")[0] == PROBLEM


# --- places inside events ------------------------------------------------------------------


@pytest.fixture
def recorded_source(client: TestClient, writer: Headers) -> None:
    assert client.post("/v1/events", json=source_body(), headers=writer).status_code == 201


@pytest.mark.usefixtures("recorded_source")
def test_an_ambiguous_name_in_an_event_is_a_422_listing_the_candidates(
    client: TestClient, writer: Headers
) -> None:
    response = client.post(
        "/v1/events", json=dispatch_body(destinations=["Moscow", "Jilin"]), headers=writer
    )
    assert response.status_code == 422
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    body = response.json()
    assert body["type"] == "/problems/ambiguous-place"
    assert body["errors"][0]["pointer"] == "/data/destinations/1/name"
    assert [s.split()[0] for s in body["suggestions"]] == ["cn-jilin", "cn-jilin-province"]
    assert "place_id" in body["detail"]


@pytest.mark.usefixtures("recorded_source")
def test_a_place_given_by_its_id_is_recorded_with_the_gazetteers_country_and_kind(
    client: TestClient, writer: Headers
) -> None:
    body = dispatch_body()
    body["data"]["destinations"] = [{"place_id": "cn-jilin"}, {"place_id": "ru-vladivostok"}]
    response = client.post("/v1/events", json=body, headers=writer)
    assert response.status_code == 201, response.text
    assert response.json()["events"][0]["data"]["destinations"] == [
        {"name": "Jilin", "place_id": "cn-jilin", "country": "CN", "kind": "city"},
        {"name": "Vladivostok", "place_id": "ru-vladivostok", "country": "RU", "kind": "city"},
    ]


@pytest.mark.usefixtures("recorded_source")
def test_a_name_is_kept_as_written_beside_the_resolved_place(
    client: TestClient, writer: Headers
) -> None:
    response = client.post(
        "/v1/events", json=dispatch_body(destinations=["Санкт-Петербург"]), headers=writer
    )
    assert response.status_code == 201, response.text
    assert response.json()["events"][0]["data"]["destinations"] == [
        {
            "name": "Санкт-Петербург",
            "place_id": "ru-saint-petersburg",
            "country": "RU",
            "kind": "city",
        }
    ]


@pytest.mark.usefixtures("recorded_source")
def test_a_country_given_with_a_name_must_agree_with_the_gazetteer(
    client: TestClient, writer: Headers
) -> None:
    body = dispatch_body()
    body["data"]["destinations"] = [{"name": "Vladivostok", "country": "CN"}]
    response = client.post("/v1/events", json=body, headers=writer)
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/unknown-place"
    assert response.json()["errors"][0]["pointer"] == "/data/destinations/0/name"


@pytest.mark.usefixtures("recorded_source")
def test_an_unknown_place_id_in_an_event_names_the_field(
    client: TestClient, writer: Headers
) -> None:
    body = dispatch_body()
    body["data"]["destinations"] = [{"place_id": "ru-vladivostock"}]
    response = client.post("/v1/events", json=body, headers=writer)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/unknown-place"
    assert problem["errors"][0]["pointer"] == "/data/destinations/0/place_id"
    assert "ru-vladivostok" in problem["suggestions"]


@pytest.mark.usefixtures("recorded_source")
def test_a_place_resolved_before_answers_again_by_what_was_written_with_it(
    client: TestClient, writer: Headers
) -> None:
    """Resolutions are remembered, keyed by name, id and country as sent: a name resolved
    before says the same again, and a different country or a refusal is decided afresh."""

    def destinations(*places: dict[str, str]) -> Response:
        body = dispatch_body()
        body["data"]["destinations"] = list(places)
        return client.post("/v1/events", json=body, headers=writer)

    for _ in range(2):
        accepted = destinations({"name": "Vladivostok"}, {"name": "Vladivostok", "country": "RU"})
        assert accepted.status_code == 201, accepted.text
        assert [d["place_id"] for d in accepted.json()["events"][0]["data"]["destinations"]] == [
            "ru-vladivostok",
            "ru-vladivostok",
        ]
        refused = destinations({"name": "Vladivostok"}, {"name": "Vladivostok", "country": "CN"})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["pointer"] == "/data/destinations/1/name"
        ambiguous = destinations({"name": "Jilin"})
        assert ambiguous.json()["type"] == "/problems/ambiguous-place"
