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


# --- areas and districts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "place_id"),
    [
        ("Russian Far East", "ru-far-east"),
        ("Дальний Восток", "ru-far-east"),
        ("극동", "ru-far-east"),
        ("远东", "ru-far-east"),
        ("Siberia", "ru-siberia"),
        ("Сибирь", "ru-siberia"),
        ("시베리아", "ru-siberia"),
        ("西伯利亚", "ru-siberia"),
        ("Donbas", "ua-donbas"),
        ("Донбасс", "ua-donbas"),
        ("돈바스", "ua-donbas"),
        ("顿巴斯", "ua-donbas"),
        ("occupied Donbas", "ua-donbas"),
        ("Northeast China", "cn-northeast"),
        ("Маньчжурия", "cn-northeast"),
        ("동북3성", "cn-northeast"),
        ("东北三省", "cn-northeast"),
    ],
)
def test_an_area_spanning_several_regions_is_found_by_its_common_name_in_four_languages(
    client: TestClient, q: str, place_id: str
) -> None:
    first = hits(client, q)[0]
    assert (first["place"]["id"], first["place"]["kind"], first["score"]) == (
        place_id,
        "area",
        1.0,
    )
    assert first["match"] in {"exact", "alias"}
    assert first["suggestion"] is False


def test_an_area_lists_the_regions_it_contains(client: TestClient) -> None:
    far_east = client.get("/v1/places/ru-far-east").json()
    assert {"ru-primorsky-krai", "ru-khabarovsk-krai", "ru-amur-oblast"} <= set(far_east["members"])
    assert far_east["parent"] == "ru"
    donbas = client.get("/v1/places/ua-donbas").json()
    assert (donbas["country"], donbas["controlled_by"]) == ("UA", "RU")
    assert sorted(donbas["members"]) == ["ua-donetsk-oblast", "ua-luhansk-oblast"]
    assert client.get("/v1/places/ru-vladivostok").json()["members"] == []


@pytest.mark.parametrize(
    ("q", "place_id", "parent"),
    [
        ("Pervorechensky District", "ru-vladivostok-pervorechensky", "ru-vladivostok"),
        ("Ленинский район Владивостока", "ru-vladivostok-leninsky", "ru-vladivostok"),
        ("振兴区", "cn-dandong-zhenxing", "cn-dandong"),
        ("Yuanbao District", "cn-dandong-yuanbao", "cn-dandong"),
    ],
)
def test_a_district_is_found_inside_its_city(
    client: TestClient, q: str, place_id: str, parent: str
) -> None:
    place = hits(client, q)[0]["place"]
    assert (place["id"], place["kind"], place["parent"]) == (place_id, "district", parent)


def test_a_district_named_alike_in_many_cities_is_not_a_name_without_its_city(
    client: TestClient,
) -> None:
    # "Leninsky District" exists in dozens of Russian cities: only a fuzzy (prefix) hit
    assert all(h["match"] == "fuzzy" for h in hits(client, "Ленинский район"))


# --- how a search matched: exact, alias, fuzzy; weak likenesses are only suggestions -------


@pytest.mark.parametrize(
    ("q", "match"),
    [("Vladivostok", "exact"), ("블라디보스토크", "exact"), ("Vladivostock", "alias")],
)
def test_a_name_or_alias_is_an_exact_or_alias_match(client: TestClient, q: str, match: str) -> None:
    first = hits(client, q)[0]
    assert (first["place"]["id"], first["match"], first["score"]) == ("ru-vladivostok", match, 1.0)


@pytest.mark.parametrize(
    ("q", "place_id"),
    [
        ("Wladiwostock", "ru-vladivostok"),
        ("Vladivostokk", "ru-vladivostok"),
        ("Khabarovks", "ru-khabarovsk"),
        ("Moskow", "ru-moscow"),
        ("Владивасток", "ru-vladivostok"),
    ],
)
def test_a_misspelt_name_is_a_strong_fuzzy_result(
    client: TestClient, q: str, place_id: str
) -> None:
    first = hits(client, q)[0]
    assert (first["place"]["id"], first["match"], first["suggestion"]) == (
        place_id,
        "fuzzy",
        False,
    )
    assert 0.8 <= first["score"] < 1


@pytest.mark.parametrize(
    "q",
    [
        "Hunchun Jingxin",  # a town in Hunchun the gazetteer lacks
        "Mudanjiang",  # a Chinese city that sounds like Da Nang
        "Sanhe",  # a Chinese town that sounds like Quanhe
        "Dongning",  # a Chinese county that sounds like Donggang
        "Nakhodka port",
    ],
)
def test_a_place_the_gazetteer_lacks_gets_suggestions_never_a_result(
    client: TestClient, q: str
) -> None:
    found = hits(client, q)
    assert found, "the closest places are offered"
    assert all(h["suggestion"] and h["match"] == "fuzzy" and h["score"] < 0.8 for h in found)


def test_a_chinese_village_is_never_answered_with_a_russian_city(client: TestClient) -> None:
    assert hits(client, "小西沟") == []
    jingxin = hits(client, "Hunchun Jingxin")
    assert jingxin[0]["place"]["id"] == "cn-hunchun"
    assert not any(h["place"]["country"] == "RU" for h in jingxin)


def test_suggestions_are_left_out_when_something_matches(client: TestClient) -> None:
    assert not any(h["suggestion"] for h in hits(client, "Vladi"))


@pytest.mark.usefixtures("recorded_source")
@pytest.mark.parametrize("name", ["Hunchun Jingxin", "小西沟", "Wladiwostock"])
def test_a_name_in_an_event_is_never_resolved_by_likeness(
    client: TestClient, writer: Headers, name: str
) -> None:
    response = client.post("/v1/events", json=dispatch_body(destinations=[name]), headers=writer)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/unknown-place"
    assert problem["errors"][0]["pointer"] == "/data/destinations/0/name"
    if name == "Hunchun Jingxin":
        assert problem["suggestions"][0].startswith("cn-hunchun ")


@pytest.mark.usefixtures("recorded_source")
def test_a_dispatch_to_an_area_is_recorded_as_the_area(client: TestClient, writer: Headers) -> None:
    response = client.post("/v1/events", json=dispatch_body(destinations=["극동"]), headers=writer)
    assert response.status_code == 201, response.text
    assert response.json()["events"][0]["data"]["destinations"] == [
        {"name": "극동", "place_id": "ru-far-east", "country": "RU", "kind": "area"}
    ]


@pytest.mark.usefixtures("recorded_source")
def test_the_place_filter_of_an_area_takes_in_its_members_cities(
    client: TestClient, writer: Headers
) -> None:
    # given a dispatch to Vladivostok and one to Donetsk
    for city in ("Vladivostok", "Donetsk"):
        body = dispatch_body(destinations=[city])
        assert client.post("/v1/events", json=body, headers=writer).status_code == 201

    # when the deployments are asked for the Russian Far East, then for Siberia
    def places(area: str) -> list[str]:
        response = client.get("/v1/deployments", params={"place": area})
        assert response.status_code == 200, response.text
        return [row["place"]["place_id"] for row in response.json()["rows"]]

    # then Vladivostok is inside both (Siberia holds the Far East), Donetsk in neither
    assert places("Russian Far East") == ["ru-vladivostok"]
    assert places("ru-siberia") == ["ru-vladivostok"]
    assert places("Donbas") == ["ua-donetsk"]


def test_a_flow_to_an_area_and_one_to_a_city_inside_it_may_be_the_same_workers(
    client: TestClient, writer: Headers
) -> None:
    # given a dispatch of "about 350" to the Russian Far East
    for source_id in ("source-a", "source-b"):
        source = source_body(source_id=source_id)
        assert client.post("/v1/events", json=source, headers=writer).status_code == 201
    area = dispatch_body(source_id="source-a", destinations=["Russian Far East"])
    first = client.post("/v1/events", json=area, headers=writer).json()["events"][0]["id"]
    # when another source reports about 350 to Vladivostok over the same weeks
    city = dispatch_body(source_id="source-b", destinations=["Vladivostok"])
    response = client.post("/v1/events", json=city, headers=writer)
    # then it is recorded with a warning naming the area's fact
    assert response.status_code == 201, response.text
    assert [w["possible_duplicate_of"] for w in response.json()["warnings"]] == [first]
