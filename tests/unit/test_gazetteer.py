"""Unit tests for the shipped gazetteer data and its resolver."""

from __future__ import annotations

import pytest

from service.gazetteer import Gazetteer, GazetteerPlace, default_gazetteer, normalise


def _ids(places: list[GazetteerPlace]) -> list[str]:
    return [p.id for p in places]


def _place(pid: str, kind: str, parent: str | None, **extra: object) -> GazetteerPlace:
    data: dict[str, object] = {
        "id": pid,
        "kind": kind,
        "country": pid[:2].upper(),
        "parent": parent,
        "lat": 43.0,
        "lon": 131.0,
        "names": {"en": pid},
        "aliases": [],
    }
    data.update(extra)
    return GazetteerPlace.model_validate(data)


# --- shipped data ------------------------------------------------------------


def test_shipped_data_has_at_least_100_places() -> None:
    assert len(default_gazetteer().all()) >= 100


def test_shipped_data_is_sorted_by_id_and_every_place_has_an_english_name() -> None:
    places = default_gazetteer().all()
    assert _ids(places) == sorted(_ids(places))
    assert all(p.name for p in places)


def test_every_country_used_has_a_country_entry() -> None:
    gaz = default_gazetteer()
    places = gaz.all()
    assert len(places) > 100  # the loop checks the whole gazetteer, not nothing
    for place in places:
        country = gaz.get(place.country.lower())
        assert country is not None and country.kind == "country", place.id


def test_default_gazetteer_is_cached() -> None:
    assert default_gazetteer() is default_gazetteer()


# --- resolution ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Saint Petersburg", "St. Petersburg", "St Petersburg", "Санкт-Петербург", "상트페테르부르크",
     "圣彼得堡", "Петербург", "페테르부르크", "Petersburg"],
)  # fmt: skip
def test_saint_petersburg_resolves_in_four_languages(name: str) -> None:
    assert _ids(default_gazetteer().resolve(name)) == ["ru-saint-petersburg"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Vladivostok", "ru-vladivostok"),
        ("Владивосток", "ru-vladivostok"),
        ("블라디보스토크", "ru-vladivostok"),
        ("海参崴", "ru-vladivostok"),
        ("Rostov", "ru-rostov-on-don"),
        ("Komsomolsk", "ru-komsomolsk-on-amur"),
        ("Yuzhno", "ru-yuzhno-sakhalinsk"),
        ("Petropavlovsk", "ru-petropavlovsk-kamchatsky"),
        ("Alabuga SEZ", "ru-alabuga"),
        ("Tatarstan", "ru-tatarstan"),
        ("UAE", "ae"),
        ("DRC", "cd"),
        ("DPRK", "kp"),
        ("Маріуполь", "ua-mariupol"),
        ("Улаанбаатар", "mn-ulaanbaatar"),
        ("ru-vladivostok", "ru-vladivostok"),
    ],
)
def test_names_aliases_and_ids_resolve(name: str, expected: str) -> None:
    assert _ids(default_gazetteer().resolve(name)) == [expected]


def test_resolution_ignores_case_spacing_and_punctuation() -> None:
    gaz = default_gazetteer()
    assert _ids(gaz.resolve("  rostov NA donu ")) == ["ru-rostov-on-don"]
    assert _ids(gaz.resolve("ST.PETERSBURG")) == ["ru-saint-petersburg"]
    assert _ids(gaz.resolve("상트 페테르부르크")) == ["ru-saint-petersburg"]


def test_resolution_is_accent_insensitive() -> None:
    gaz = default_gazetteer()
    assert _ids(gaz.resolve("Da Nang")) == _ids(gaz.resolve("Đà Nẵng")) == ["vn-da-nang"]
    assert _ids(gaz.resolve("Gdansk")) == ["pl-gdansk"]
    assert _ids(gaz.resolve("Ho Chi Minh")) == _ids(gaz.resolve("Hồ Chí Minh"))
    assert _ids(gaz.resolve("Ёлабуга")) == _ids(gaz.resolve("Елабуга")) == ["ru-yelabuga"]


def test_jilin_is_ambiguous_between_city_and_province() -> None:
    gaz = default_gazetteer()
    matches = gaz.resolve("Jilin")
    assert {p.id for p in matches} == {"cn-jilin", "cn-jilin-province"}
    assert {p.kind for p in matches} == {"city", "region"}
    assert {p.id for p in gaz.resolve("吉林")} == {"cn-jilin", "cn-jilin-province"}


def test_country_filter_disambiguates_and_is_case_insensitive() -> None:
    gaz = default_gazetteer()
    assert _ids(gaz.resolve("Jilin", country="cn")) == ["cn-jilin", "cn-jilin-province"]
    assert gaz.resolve("Jilin", country="RU") == []
    # "Tumen" is the Chinese city; the North Korean crossing only answers to Tumangang.
    assert _ids(gaz.resolve("Tumangang", country="KP")) == ["kp-tumangang"]
    assert gaz.resolve("Tumangang", country="ru") == []


def test_unknown_name_resolves_to_nothing_but_gets_suggestions() -> None:
    gaz = default_gazetteer()
    assert gaz.resolve("Vladivstok") == []
    suggestions = gaz.closest("Vladivstok")
    assert suggestions[0].place.id == "ru-vladivostok"
    assert 0 < suggestions[0].score < 1
    scores = [m.score for m in suggestions]
    assert scores == sorted(scores, reverse=True)
    assert len(suggestions) <= 5


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("Novosibrisk", "ru-novosibirsk"),
        ("Yekaterinberg", "ru-yekaterinburg"),
        ("Khabarovks", "ru-khabarovsk"),
        ("Ulanbator", "mn-ulaanbaatar"),
        ("Pyongang", "kp-pyongyang"),
        ("Sant Peterburg", "ru-saint-petersburg"),
        ("Владивасток", "ru-vladivostok"),
        ("블라디보스톡크", "ru-vladivostok"),
    ],
)
def test_common_misspellings_are_suggested_by_closest(typo: str, expected: str) -> None:
    assert default_gazetteer().closest(typo, limit=3)[0].place.id == expected


def test_closest_scores_an_exact_match_as_one() -> None:
    best = default_gazetteer().closest("Nakhodka")[0]
    assert (best.place.id, best.score) == ("ru-nakhodka", 1.0)


def test_closest_respects_country_and_limit() -> None:
    matches = default_gazetteer().closest("Khabarovsk", country="cn", limit=2)
    assert len(matches) <= 2
    assert all(m.place.country == "CN" for m in matches)


# --- search ------------------------------------------------------------------------


def test_search_puts_exact_then_prefix_then_fuzzy() -> None:
    gaz = default_gazetteer()
    exact = gaz.search("Vladivostok")
    assert (exact[0].place.id, exact[0].score) == ("ru-vladivostok", 1.0)
    prefix = gaz.search("vladi")
    assert prefix[0].place.id == "ru-vladivostok"
    assert all(0.85 <= m.score < 1 for m in prefix)
    fuzzy = gaz.search("Mariupl")
    assert fuzzy[0].place.id == "ua-mariupol"
    assert fuzzy[0].score < 0.85


def test_search_filters_by_kind_and_country() -> None:
    gaz = default_gazetteer()
    assert _ids([m.place for m in gaz.search("Jilin", kind="region")]) == ["cn-jilin-province"]
    assert all(m.place.country == "RU" for m in gaz.search("kha", country="ru"))
    assert gaz.search("   ") == []


def test_search_matches_a_later_word_by_prefix() -> None:
    assert default_gazetteer().search("peters")[0].place.id == "ru-saint-petersburg"


# --- occupied territory -------------------------------------------------------------


@pytest.mark.parametrize(
    ("place_id", "since"),
    [
        ("ua-crimea", "2014-03-18"),
        ("ua-sevastopol", "2014-03-18"),
        ("ua-donetsk", "2014-04-07"),
        ("ua-luhansk", "2014-04-27"),
        ("ua-mariupol", "2022-05-20"),
        ("ua-melitopol", "2022-03-01"),
    ],
)
def test_occupied_places_stay_ukrainian_but_record_russian_control(
    place_id: str, since: str
) -> None:
    place = default_gazetteer().get(place_id)
    assert place is not None
    assert (place.country, place.controlled_by, place.controlled_since) == ("UA", "RU", since)


def test_occupied_oblasts_document_their_control_date() -> None:
    gaz = default_gazetteer()
    for oblast in ("ua-donetsk-oblast", "ua-luhansk-oblast", "ua-zaporizhzhia-oblast"):
        place = gaz.get(oblast)
        assert place is not None and place.controlled_by == "RU"
        assert place.controlled_since and place.note


def test_occupied_places_are_not_found_under_russia() -> None:
    assert default_gazetteer().resolve("Donetsk", country="RU") == []


# --- hierarchy -----------------------------------------------------------------------


def test_descendants_of_primorsky_krai_include_vladivostok_and_nakhodka() -> None:
    below = default_gazetteer().descendants("ru-primorsky-krai")
    assert {"ru-vladivostok", "ru-nakhodka", "ru-khasan"} <= below
    assert "ru-primorsky-krai" not in below


def test_descendants_of_russia_include_cities_at_any_depth() -> None:
    below = default_gazetteer().descendants("ru")
    assert {"ru-vladivostok", "ru-nakhodka", "ru-primorsky-krai", "ru-moscow"} <= below
    assert "ua-crimea" not in below


def test_ancestors_run_from_nearest_up_to_the_country() -> None:
    gaz = default_gazetteer()
    assert gaz.ancestors("ru-vladivostok") == [
        "ru-primorsky-krai",
        "ru-far-east",
        "ru-siberia",
        "ru",
    ]
    assert gaz.ancestors("cn-yanji") == [
        "cn-yanbian",
        "cn-jilin-province",
        "cn-northeast",
        "cn",
    ]
    assert gaz.ancestors("ru-moscow") == ["ru"]
    assert gaz.ancestors("ru") == []


def test_an_area_contains_its_members_and_what_they_hold() -> None:
    gaz = default_gazetteer()
    far_east = gaz.descendants("ru-far-east")
    assert {"ru-primorsky-krai", "ru-vladivostok", "ru-vladivostok-leninsky"} <= far_east
    assert "ru-moscow" not in far_east
    assert far_east < gaz.descendants("ru-siberia")
    assert {"ua-donetsk", "ua-luhansk", "ua-mariupol"} <= gaz.descendants("ua-donbas")
    assert "ua-melitopol" not in gaz.descendants("ua-donbas")
    assert {"cn-dandong", "cn-yanji", "cn-harbin"} <= gaz.descendants("cn-northeast")
    assert "cn-beijing" not in gaz.descendants("cn-northeast")


def test_every_area_has_members_and_every_district_lies_in_a_city() -> None:
    gaz = default_gazetteer()
    for place in gaz.all():
        if place.kind == "area":
            assert place.members, place.id
            members = [gaz.get(m) for m in place.members]
            assert all(m is not None and m.country == place.country for m in members)
        if place.kind == "district":
            parent = gaz.get(place.parent or "")
            assert parent is not None and parent.kind == "city", place.id
            # within about 15 km of its city's point
            assert abs(place.lat - parent.lat) < 0.15 and abs(place.lon - parent.lon) < 0.15


@pytest.mark.parametrize(
    ("query", "place_id", "match"),
    [
        ("Vladivostok", "ru-vladivostok", "exact"),
        ("ru-vladivostok", "ru-vladivostok", "exact"),
        ("Vladivostock", "ru-vladivostok", "alias"),
        ("Wladiwostock", "ru-vladivostok", "fuzzy"),
        ("극동", "ru-far-east", "alias"),
    ],
)
def test_search_says_how_it_matched(query: str, place_id: str, match: str) -> None:
    first = default_gazetteer().search(query)[0]
    assert (first.place.id, first.match) == (place_id, match)


@pytest.mark.parametrize("query", ["Hunchun Jingxin", "小西沟", "Mudanjiang", "Sanhe"])
def test_search_leaves_weak_likenesses_to_suggestions(query: str) -> None:
    gaz = default_gazetteer()
    assert gaz.search(query) == []
    assert all(m.score < 0.8 and m.match == "fuzzy" for m in gaz.suggestions(query))


def test_hierarchy_rejects_unknown_ids() -> None:
    gaz = default_gazetteer()
    assert gaz.get("xx-nowhere") is None
    with pytest.raises(KeyError):
        gaz.ancestors("xx-nowhere")
    with pytest.raises(KeyError):
        gaz.descendants("xx-nowhere")


# --- validation ---------------------------------------------------------------------


def test_in_memory_gazetteer_works() -> None:
    gaz = Gazetteer([_place("ru", "country", None), _place("ru-a", "city", "ru")])
    assert _ids(gaz.resolve("RU-A")) == ["ru-a"]
    assert gaz.descendants("ru") == {"ru-a"}


def test_validation_rejects_a_missing_parent() -> None:
    places = [_place("ru", "country", None), _place("ru-orphan", "city", "ru-nowhere")]
    with pytest.raises(ValueError, match="ru-orphan"):
        Gazetteer(places)


def test_validation_rejects_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="duplicate id 'ru'"):
        Gazetteer([_place("ru", "country", None), _place("ru", "country", None)])


def test_validation_rejects_a_country_without_a_country_entry() -> None:
    with pytest.raises(ValueError, match="ru-moscow"):
        Gazetteer([_place("ru-moscow", "city", "ru")])


def test_validation_rejects_bad_country_codes_and_coordinates() -> None:
    country = _place("ru", "country", None)
    with pytest.raises(ValueError, match="ru-x"):
        Gazetteer([country, _place("ru-x", "city", "ru", country="ru")])
    with pytest.raises(ValueError, match=r"ru-y.*lat/lon"):
        Gazetteer([country, _place("ru-y", "city", "ru", lat=95.0)])


def test_validation_checks_an_areas_members() -> None:
    country = _place("ru", "country", None)
    region = _place("ru-a", "region", "ru")
    with pytest.raises(ValueError, match=r"ru-x.*lists its members"):
        Gazetteer([country, region, _place("ru-x", "area", "ru")])
    with pytest.raises(ValueError, match=r"ru-x.*member 'ru-nowhere'"):
        Gazetteer([country, region, _place("ru-x", "area", "ru", members=["ru-nowhere"])])
    with pytest.raises(ValueError, match=r"ru-a.*only an area"):
        Gazetteer([country, _place("ru-a", "region", "ru", members=["ru"])])
    with pytest.raises(ValueError, match="member cycle"):
        Gazetteer(
            [
                country,
                _place("ru-x", "area", "ru", members=["ru-y"]),
                _place("ru-y", "area", "ru", members=["ru-x"]),
            ]
        )
    cn = _place("cn", "country", None)
    with pytest.raises(ValueError, match="another country"):
        Gazetteer([country, cn, _place("ru-x", "area", "ru", members=["cn"])])


def test_validation_rejects_a_parent_cycle() -> None:
    places = [
        _place("ru", "country", None),
        _place("ru-a", "region", "ru-b"),
        _place("ru-b", "region", "ru-a"),
    ]
    with pytest.raises(ValueError, match="cycle"):
        Gazetteer(places)


# --- normalisation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("St. Petersburg", "saint petersburg"),
        ("Đà Nẵng", "da nang"),
        ("Ji'an", "ji an"),
        ("Rostov-on-Don", "rostov on don"),
        ("Ёлабуга", "елабуга"),
        ("상트 페테르부르크", "상트페테르부르크"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected
