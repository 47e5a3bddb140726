"""The fold rules of DESIGN §2, one test each, through `GET /v1/deployments`:
honest bounds, shared counts, corrections, retractions, corroborations, stocks,
and the two time axes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import SOURCE_ID, dispatch_body, meta_body, source_body

OTHER_SOURCE = "rfa-2023-06-workers-far-east"
Headers = dict[str, str]


# --- building the log -------------------------------------------------------------------


def count(qualifier: str, number: int | None = None, **bounds: int) -> dict[str, Any]:
    text = f"{qualifier} {number}" if number is not None else qualifier
    body: dict[str, Any] = {"text": text, "qualifier": qualifier, **bounds}
    if number is not None:
        body["number"] = number
    return body


def period(start: str | None = "2023-03-20", end: str | None = None) -> dict[str, Any]:
    return {k: v for k, v in (("start", start), ("end", end)) if v is not None}


def dispatch(
    places: list[str],
    how_many: dict[str, Any],
    *,
    start: str | None = "2023-03-20",
    end: str | None = None,
    affiliation: str = "civilian",
) -> dict[str, Any]:
    return dispatch_body(
        destinations=places,
        count=how_many,
        affiliation=affiliation,
        period=period(start, end),
    )


def repatriation(
    places: list[str], how_many: dict[str, Any], *, start: str = "2023-03-20"
) -> dict[str, Any]:
    return {
        "type": "workers.repatriated",
        "provenance": {"source_id": SOURCE_ID, "locator": "were sent home"},
        "data": {
            "from_places": [{"name": n} for n in places],
            "count": how_many,
            "affiliation": "civilian",
            "period": period(start),
        },
    }


def stock(place: str, how_many: dict[str, Any], as_of: str) -> dict[str, Any]:
    return {
        "type": "workforce.estimated",
        "provenance": {"source_id": SOURCE_ID, "locator": "about that many are there"},
        "data": {"place": {"name": place}, "count": how_many, "as_of": as_of},
    }


def record(client: TestClient, headers: Headers, *bodies: dict[str, Any]) -> list[dict[str, Any]]:
    """Record the bodies as one batch; the recorded envelopes."""
    response = client.post("/v1/events", json={"events": list(bodies)}, headers=headers)
    assert response.status_code == 201, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def rows(client: TestClient, group_by: str = "place", **params: str) -> dict[str, Any]:
    """The view's rows keyed like `ru-moscow` or `ru-moscow/civilian` or `RU`."""
    response = client.get("/v1/deployments", params={"group_by": group_by, **params})
    assert response.status_code == 200, response.text
    view = response.json()
    return {
        "/".join(r["place"]["place_id"] if n == "place" else r[n] for n in view["group_by"]): r
        for r in view["rows"]
    }


def bounds(low: int | None, best: int | None, high: int | None) -> dict[str, Any]:
    return {"min": low, "best": best, "max": high, "best_complete": best is not None}


@pytest.fixture
def desk(client: TestClient, corrector: Headers) -> Headers:
    """An editor's key, with two sources recorded."""
    record(client, corrector, source_body(), source_body(OTHER_SOURCE, outlet="RFA"))
    return corrector


# --- interval arithmetic -----------------------------------------------------------------


def test_sums_add_bounds(client: TestClient, desk: Headers) -> None:
    # given 100 exactly and about 200 ([180, 220]) sent to Moscow
    record(
        client,
        desk,
        dispatch(["Moscow"], count("exact", 100)),
        dispatch(["Moscow"], count("approximately", 200)),
    )
    # then Moscow's row adds min to min, best to best, max to max
    assert rows(client)["ru-moscow"]["dispatched"] == bounds(280, 300, 320)


def test_a_difference_is_min_minus_max_and_may_be_negative(
    client: TestClient, desk: Headers
) -> None:
    # given 10 sent to Vladivostok and 20 to 30 (best 25) sent home from there
    record(
        client,
        desk,
        dispatch(["Vladivostok"], count("exact", 10)),
        repatriation(["Vladivostok"], count("range", min=20, best=25, max=30)),
    )
    # then the net flow is [10 − 30, 10 − 20], best 10 − 25: all below zero
    assert rows(client)["ru-vladivostok"]["net_flow"] == bounds(-20, -15, -10)


def test_an_open_bound_stays_open(client: TestClient, desk: Headers) -> None:
    # given "at least 50" and 10 sent to Moscow, "more than 20" sent home from Kazan
    record(
        client,
        desk,
        dispatch(["Moscow"], count("at_least", 50)),
        dispatch(["Moscow"], count("exact", 10)),
        dispatch(["Kazan"], count("exact", 100)),
        repatriation(["Kazan"], count("more_than", 20)),
    )
    view = rows(client)
    # then Moscow has no upper bound, and no number is invented for it
    assert view["ru-moscow"]["dispatched"] == bounds(60, None, None)
    assert view["ru-moscow"]["net_flow"] == bounds(60, None, None)
    # and Kazan's net flow has no lower bound: any number may have gone home
    assert view["ru-kazan"]["repatriated"] == bounds(21, None, None)
    assert view["ru-kazan"]["net_flow"] == bounds(None, None, 79)


def test_best_is_null_unless_every_contribution_has_one(client: TestClient, desk: Headers) -> None:
    # given 10 exactly and "hundreds" ([200, 999], no best) sent to Moscow
    record(
        client,
        desk,
        dispatch(["Moscow"], count("exact", 10)),
        dispatch(["Moscow"], count("hundreds")),
    )
    # then the bounds add, but the row has no best and says so
    row = rows(client)["ru-moscow"]
    assert row["dispatched"] == {"min": 210, "best": None, "max": 1009, "best_complete": False}


# --- shared counts ------------------------------------------------------------------------


def test_a_shared_count_adds_its_max_to_each_city_and_nothing_to_min_or_best(
    client: TestClient, desk: Headers
) -> None:
    # given about 350 sent to Moscow and Saint Petersburg together, and 10 to Moscow alone
    [shared, _] = record(
        client,
        desk,
        dispatch(["Moscow", "Saint Petersburg"], count("approximately", 350)),
        dispatch(["Moscow"], count("exact", 10)),
    )
    view = rows(client)
    # then each city may have had all of the 350, and need have had none of them
    assert view["ru-moscow"]["dispatched"] == bounds(10, None, 395)
    assert view["ru-saint-petersburg"]["dispatched"] == bounds(0, None, 385)
    # and each city lists the joint count with its partner
    for city, partner in (
        ("ru-moscow", "ru-saint-petersburg"),
        ("ru-saint-petersburg", "ru-moscow"),
    ):
        assert view[city]["shared"] == [
            {"event_id": shared["id"], "count": bounds(315, 350, 385), "partners": [partner]}
        ]
        assert view[city]["shared_total"] == 1


def test_grouped_by_country_a_shared_count_adds_once_exactly(
    client: TestClient, desk: Headers
) -> None:
    # given about 350 to Moscow and Saint Petersburg together, and 10 to Moscow alone
    record(
        client,
        desk,
        dispatch(["Moscow", "Saint Petersburg"], count("approximately", 350)),
        dispatch(["Moscow"], count("exact", 10)),
    )
    # then Russia counts the 350 once, with its bounds and best intact
    russia = rows(client, "country")["RU"]
    assert russia["dispatched"] == bounds(325, 360, 395)
    assert russia["shared"] == []


def test_a_count_shared_across_countries_adds_only_its_max_to_each_country(
    client: TestClient, desk: Headers
) -> None:
    # given 100 reported sent "to Moscow and Dandong" together
    record(client, desk, dispatch(["Moscow", "Dandong"], count("exact", 100)))
    view = rows(client, "country")
    # then neither country gets an invented split
    assert view["RU"]["dispatched"] == bounds(0, None, 100)
    assert view["CN"]["dispatched"] == bounds(0, None, 100)
    assert view["RU"]["shared"][0]["partners"] == ["CN"]


# --- corrections, retractions, corroborations -------------------------------------------


def test_a_correction_replaces_the_count_from_its_position_on(
    client: TestClient, desk: Headers
) -> None:
    # given 100 sent to Moscow, then corrected to 150
    [fact] = record(client, desk, dispatch(["Moscow"], count("exact", 100)))
    replacement = dispatch(["Moscow"], count("exact", 150))["data"]
    record(
        client,
        desk,
        meta_body("fact.corrected", fact["id"], reason="misread", replacement=replacement),
    )
    # then the view counts 150, and before the correction it counted 100
    assert rows(client)["ru-moscow"]["dispatched"] == bounds(150, 150, 150)
    before = rows(client, at_position=str(fact["position"]))
    assert before["ru-moscow"]["dispatched"] == bounds(100, 100, 100)


def test_a_correction_can_move_a_fact_to_other_places(client: TestClient, desk: Headers) -> None:
    # given 100 sent to Moscow, corrected: they went to Vladivostok
    [fact] = record(client, desk, dispatch(["Moscow"], count("exact", 100)))
    replacement = dispatch(["Vladivostok"], count("exact", 100))["data"]
    record(
        client,
        desk,
        meta_body("fact.corrected", fact["id"], reason="wrong city", replacement=replacement),
    )
    # then Moscow has no row and Vladivostok has the 100
    view = rows(client)
    assert "ru-moscow" not in view
    assert view["ru-vladivostok"]["dispatched"] == bounds(100, 100, 100)


def test_a_retraction_removes_the_fact(client: TestClient, desk: Headers) -> None:
    # given 100 and 20 sent to Moscow, then the 100 retracted
    [wrong, _] = record(
        client,
        desk,
        dispatch(["Moscow"], count("exact", 100)),
        dispatch(["Moscow"], count("exact", 20), start="2023-04-01"),
    )
    [retraction] = record(
        client, desk, meta_body("fact.retracted", wrong["id"], reason="the source withdrew it")
    )
    # then only the 20 count, while before the retraction both did
    row = rows(client)["ru-moscow"]
    assert row["dispatched"] == bounds(20, 20, 20)
    assert row["events"] == 1
    before = rows(client, at_position=str(retraction["position"] - 1))
    assert before["ru-moscow"]["dispatched"] == bounds(120, 120, 120)


def test_a_corroboration_adds_a_source_not_workers(client: TestClient, desk: Headers) -> None:
    # given 100 sent to Moscow, reported by one source
    [fact] = record(client, desk, dispatch(["Moscow"], count("exact", 100)))
    before = rows(client)["ru-moscow"]
    # when another source reports the same workers
    corroboration = meta_body("fact.corroborated", fact["id"], source_id=OTHER_SOURCE)
    record(client, desk, corroboration)
    # then the row has one more source and event behind it, and not one more worker
    after = rows(client)["ru-moscow"]
    assert (before["sources"], before["events"]) == (1, 1)
    assert (after["sources"], after["events"]) == (2, 2)
    for figure in ("dispatched", "repatriated", "net_flow", "estimated_present"):
        assert after[figure] == before[figure]


# --- stocks ---------------------------------------------------------------------------------


def test_estimated_present_is_the_latest_stock_plus_the_net_flows_after_it(
    client: TestClient, desk: Headers
) -> None:
    # given stocks for Russia of 1,000 (June 2022) and 2,000 (January 2023), 500 sent
    # before the later stock, then 100 sent and 30 sent home after it
    record(
        client,
        desk,
        stock("Russia", count("exact", 1000), "2022-06-01"),
        stock("Russia", count("exact", 2000), "2023-01-01"),
        dispatch(["Moscow"], count("exact", 500), start="2022-12-01"),
        dispatch(["Vladivostok"], count("exact", 100), start="2023-02-01"),
        repatriation(["Moscow"], count("exact", 30), start="2023-03-01"),
    )
    # then Russia holds the later stock plus the later net flow (the 500 are in the stock)
    russia = rows(client, "country")["RU"]
    assert russia["estimated_present"] == bounds(2070, 2070, 2070)
    assert russia["estimate_as_of"] == "2023-01-01"
    # and on a date between the stocks, the earlier one plus what followed it by then
    earlier = rows(client, "country", as_of="2022-12-15")["RU"]
    assert earlier["estimated_present"] == bounds(1500, 1500, 1500)


def test_estimated_present_is_clamped_at_zero(client: TestClient, desk: Headers) -> None:
    # given a stock of 10 in Russia, then 50 reported sent home
    record(
        client,
        desk,
        stock("Russia", count("exact", 10), "2023-01-01"),
        repatriation(["Moscow"], count("exact", 50), start="2023-02-01"),
    )
    # then nobody is left, never fewer than nobody
    assert rows(client, "country")["RU"]["estimated_present"] == bounds(0, 0, 0)


def test_estimated_present_is_null_without_a_stock(client: TestClient, desk: Headers) -> None:
    # given only flows: 100 sent, 30 sent home
    record(
        client,
        desk,
        dispatch(["Moscow"], count("exact", 100)),
        repatriation(["Moscow"], count("exact", 30), start="2023-04-01"),
    )
    # then no stock is claimed, for the country or the city
    assert rows(client, "country")["RU"]["estimated_present"] is None
    assert rows(client)["ru-moscow"]["estimated_present"] is None


def test_a_stock_counts_only_at_its_own_level(client: TestClient, desk: Headers) -> None:
    # given a stock of 2,000 for Russia and of 300 for Moscow, then 100 sent to Moscow
    record(
        client,
        desk,
        stock("Russia", count("exact", 2000), "2023-01-01"),
        stock("Moscow", count("exact", 300), "2023-01-01"),
        dispatch(["Moscow"], count("exact", 100), start="2023-02-01"),
    )
    # then Moscow's row uses Moscow's stock, and Russia's row only Russia's
    assert rows(client)["ru-moscow"]["estimated_present"] == bounds(400, 400, 400)
    assert rows(client, "country")["RU"]["estimated_present"] == bounds(2100, 2100, 2100)


# --- the two time axes ----------------------------------------------------------------------


def test_as_of_counts_facts_whose_period_starts_on_or_before_the_date(
    client: TestClient, desk: Headers
) -> None:
    # given 100 sent from 20 March, and 20 sent "by 1 May" (an end, no start)
    record(
        client,
        desk,
        dispatch(["Moscow"], count("exact", 100), start="2023-03-20"),
        dispatch(["Moscow"], count("exact", 20), start=None, end="2023-05-01"),
    )

    def moscow_on(day: str) -> Any:
        return rows(client, as_of=day).get("ru-moscow", {}).get("dispatched")

    # then a fact counts from its start, or from its end when it has no start
    assert moscow_on("2023-03-19") is None
    assert moscow_on("2023-03-20") == bounds(100, 100, 100)
    assert moscow_on("2023-04-30") == bounds(100, 100, 100)
    assert moscow_on("2023-05-01") == bounds(120, 120, 120)


def test_as_of_follows_a_correction_of_the_period(client: TestClient, desk: Headers) -> None:
    # given 100 sent from 20 March, seen in the view for 1 April
    [fact] = record(client, desk, dispatch(["Moscow"], count("exact", 100), start="2023-03-20"))
    assert rows(client, as_of="2023-04-01")["ru-moscow"]["dispatched"] == bounds(100, 100, 100)
    # when a correction says they left on 1 May
    replacement = dispatch(["Moscow"], count("exact", 100), start="2023-05-01")["data"]
    record(
        client,
        desk,
        meta_body("fact.corrected", fact["id"], reason="wrong month", replacement=replacement),
    )
    # then they are no longer there on 1 April, and are on 1 May
    assert "ru-moscow" not in rows(client, as_of="2023-04-01")
    assert rows(client, as_of="2023-05-01")["ru-moscow"]["dispatched"] == bounds(100, 100, 100)


def test_at_position_shows_what_was_published_before_a_correction(
    client: TestClient, desk: Headers
) -> None:
    # given a first view with 100 sent to Moscow
    [fact] = record(client, desk, dispatch(["Moscow"], count("exact", 100)))
    published = client.get("/v1/deployments").json()
    # when the count is corrected to 150
    replacement = dispatch(["Moscow"], count("exact", 150))["data"]
    record(
        client,
        desk,
        meta_body("fact.corrected", fact["id"], reason="misread", replacement=replacement),
    )
    # then asking at the first view's position gives the first view's figures
    again = client.get("/v1/deployments", params={"at_position": published["position"]}).json()
    assert again["rows"] == published["rows"]
    assert again["position"] == published["position"]
    assert again["head"] == published["position"] + 1
    assert rows(client)["ru-moscow"]["dispatched"] == bounds(150, 150, 150)


def test_known_at_shows_what_the_ledger_knew_before_a_correction(
    client: TestClient, desk: Headers
) -> None:
    # given 100 sent to Moscow, recorded at some moment
    [fact] = record(client, desk, dispatch(["Moscow"], count("exact", 100)))
    # when the count is corrected to 150 afterwards
    replacement = dispatch(["Moscow"], count("exact", 150))["data"]
    [correction] = record(
        client,
        desk,
        meta_body("fact.corrected", fact["id"], reason="misread", replacement=replacement),
    )
    assert correction["recorded_at"] > fact["recorded_at"]
    # then the view as known when the fact was recorded shows 100
    then = rows(client, known_at=fact["recorded_at"])
    assert then["ru-moscow"]["dispatched"] == bounds(100, 100, 100)
    now = rows(client, known_at=correction["recorded_at"])
    assert now["ru-moscow"]["dispatched"] == bounds(150, 150, 150)


def test_as_of_and_at_position_combine(client: TestClient, desk: Headers) -> None:
    # given 100 sent in March and, recorded later, 20 sent in May
    [march] = record(client, desk, dispatch(["Moscow"], count("exact", 100), start="2023-03-20"))
    record(client, desk, dispatch(["Moscow"], count("exact", 20), start="2023-05-02"))
    # then each axis narrows the view on its own, and both together
    assert rows(client)["ru-moscow"]["dispatched"] == bounds(120, 120, 120)
    known_then = rows(client, at_position=str(march["position"]))
    assert known_then["ru-moscow"]["dispatched"] == bounds(100, 100, 100)
    both = rows(client, as_of="2023-03-19", at_position=str(march["position"]))
    assert both == {}


# --- filters are a scope ------------------------------------------------------------------


def test_a_filtered_view_lists_only_the_shared_counts_it_counts(
    client: TestClient, desk: Headers
) -> None:
    # given a civilian count shared by Moscow and Saint Petersburg, and military ones
    record(
        client,
        desk,
        dispatch(["Moscow", "Saint Petersburg"], count("exact", 100)),
        dispatch(["Moscow"], count("exact", 5), affiliation="military"),
        dispatch(["Moscow", "Dandong"], count("exact", 7), affiliation="military"),
    )
    # when asking for the military only
    moscow = rows(client, affiliation="military")["ru-moscow"]
    # then Moscow lists the military joint count, not the civilian one it does not count
    assert moscow["dispatched"] == bounds(5, None, 12)
    assert [s["partners"] for s in moscow["shared"]] == [["cn-dandong"]]
    assert moscow["shared_total"] == 1


def test_a_stock_outside_the_filter_is_not_in_the_view(client: TestClient, desk: Headers) -> None:
    # given stocks for Dandong and for Russia, and 5 sent to Moscow
    record(
        client,
        desk,
        stock("Dandong", count("exact", 500), "2023-01-01"),
        stock("Russia", count("exact", 2000), "2023-01-01"),
        dispatch(["Moscow"], count("exact", 5)),
    )
    # then a view of Russia has no row for Dandong
    assert "cn-dandong" not in rows(client, country="RU")
    # and a view of Moscow claims no stock: Russia's is not Moscow's
    assert rows(client, "country", place="Moscow")["RU"]["estimated_present"] is None
    assert rows(client, "country", place="Russia")["RU"]["estimated_present"] == bounds(
        2005, 2005, 2005
    )
