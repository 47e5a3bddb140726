"""Views carried forward by the groups an append changed, and past views kept."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.ledger import Ledger
from service.views.cache import ViewCache
from service.views.deployments import incremental
from service.views.deployments.incremental import IncrementalFolds
from tests.factories import dispatch_body, meta_body, source_body


@pytest.fixture
def folds_done(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every fold the view makes: "full", "groups" (the groups that changed, folded
    again) or "new rows" (the rows made since the last fold, added to their groups)."""
    done: list[str] = []
    fold_view, fold_new_rows = incremental.fold_view, incremental.fold_new_rows

    def counted(conn: Any, query: Any, as_of: Any) -> Any:
        done.append("full" if query.only_groups is None else "groups")
        return fold_view(conn, query, as_of)

    def counted_new_rows(conn: Any, query: Any, as_of: Any, stocked: Any) -> Any:
        done.append("new rows")
        return fold_new_rows(conn, query, as_of, stocked)

    monkeypatch.setattr(incremental, "fold_view", counted)
    monkeypatch.setattr(incremental, "fold_new_rows", counted_new_rows)
    return done


def rows(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/deployments", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["rows"]
    return found


def from_scratch(ledger: Ledger, client: TestClient, **params: Any) -> list[dict[str, Any]]:
    ledger.views, ledger.computed, ledger.folds = ViewCache(), ViewCache(), IncrementalFolds()
    return rows(client, **params)


def by_place(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{r['place']['place_id']}/{r['affiliation']}": r for r in found}


def test_a_new_report_is_added_to_the_view_from_its_own_rows_and_agrees_with_a_full_fold(
    seeded: Ledger, client: TestClient, writer: dict[str, str], folds_done: list[str]
) -> None:
    before = rows(client)
    added = dispatch_body(destinations=["Kazan"], affiliation="civilian")
    assert client.post("/v1/events", json=added, headers=writer).status_code == 201

    after = rows(client)

    assert folds_done == ["full", "new rows"]
    kazan = [r for r in after if r["place"]["place_id"] == "ru-kazan"]
    assert len(kazan) == 1 and len(after) == len(before) + 1
    assert after == from_scratch(seeded, client)


def test_a_new_shared_count_adds_to_both_places_and_is_listed_with_the_earlier_ones(
    seeded: Ledger, client: TestClient, writer: dict[str, str], folds_done: list[str]
) -> None:
    before = by_place(rows(client))
    other = source_body("rfa-2023-06-workers-far-east", outlet="RFA")
    assert client.post("/v1/events", json=other, headers=writer).status_code == 201
    added = dispatch_body(
        source_id="rfa-2023-06-workers-far-east",
        count={"text": "up to 40", "qualifier": "at_most", "number": 40},
        period={"start": "2023-01-02", "end": "2023-01-30"},
    )
    assert client.post("/v1/events", json=added, headers=writer).status_code == 201

    after = by_place(rows(client))

    assert folds_done == ["full", "new rows"]
    moscow, earlier = after["ru-moscow/civilian"], before["ru-moscow/civilian"]
    assert moscow["dispatched"]["max"] == earlier["dispatched"]["max"] + 40
    assert moscow["dispatched"]["min"] == earlier["dispatched"]["min"]
    assert (moscow["shared_total"], moscow["sources"]) == (2, 2)
    assert len(moscow["shared"]) == 2 and moscow["first_reported"] <= earlier["first_reported"]
    assert list(after.values()) == from_scratch(seeded, client)


def stock_body(source_id: str, number: int, as_of: str) -> dict[str, Any]:
    return {
        "type": "workforce.estimated",
        "provenance": {"source_id": source_id, "locator": f"about {number} in Kazan"},
        "data": {
            "place": {"name": "Kazan"},
            "count": {"text": f"about {number}", "qualifier": "approximately", "number": number},
            "affiliation": "civilian",
            "as_of": as_of,
        },
    }


def test_new_flows_move_the_estimate_of_a_group_with_a_stock_only_after_its_date(
    seeded: Ledger, client: TestClient, writer: dict[str, str], folds_done: list[str]
) -> None:
    other = "rfa-2023-06-workers-far-east"
    assert client.post("/v1/events", json=source_body(other), headers=writer).status_code == 201
    stock = stock_body(other, 500, "2023-01-01")
    assert client.post("/v1/events", json=stock, headers=writer).status_code == 201
    before = by_place(rows(client))["ru-kazan/civilian"]
    sent = {"text": "100", "qualifier": "exact", "number": 100}
    for start in ("2022-06-01", "2023-05-01"):  # before the stock's date, then after it
        body = dispatch_body(destinations=["Kazan"], count=sent, period={"start": start})
        assert client.post("/v1/events", json=body, headers=writer).status_code == 201

    after = by_place(rows(client))["ru-kazan/civilian"]

    assert folds_done == ["full", "new rows"]
    assert before["estimated_present"]["best"] == 500
    assert after["estimated_present"]["best"] == 600  # the earlier dispatch is in the stock
    assert before["dispatched"] is None  # a row of a stock only reports no dispatch
    assert after["dispatched"]["best"] == 200
    assert list(by_place(rows(client)).values()) == from_scratch(seeded, client)


def test_a_countrys_own_stock_is_carried_by_new_flows_into_its_cities_without_a_refold(
    seeded: Ledger, client: TestClient, writer: dict[str, str], folds_done: list[str]
) -> None:
    # given a stock for Russia as a whole, and the view by place that shows it on Russia's row
    other = "rfa-2023-06-workers-far-east"
    assert client.post("/v1/events", json=source_body(other), headers=writer).status_code == 201
    stock = stock_body(other, 20_000, "2023-06-01")  # after the seed's repatriations
    stock["data"]["place"] = {"name": "Russia"}
    stock["data"]["affiliation"] = "unknown"
    assert client.post("/v1/events", json=stock, headers=writer).status_code == 201
    before = by_place(rows(client))["ru/unknown"]
    # when new reports send workers to two Russian cities, one count shared by both,
    # one before the stock's date and one after it
    sent = {"text": "about 300", "qualifier": "approximately", "number": 300}
    for start in ("2022-06-01", "2023-07-01"):
        body = dispatch_body(
            destinations=["Kazan", "Vladivostok"],
            count=sent,
            period={"start": start},
            affiliation="unknown",
        )
        assert client.post("/v1/events", json=body, headers=writer).status_code == 201
    folds_done.clear()
    after = by_place(rows(client))["ru/unknown"]

    # then Russia's estimate moved by the later count once (not once per city), read from
    # the new rows alone, and agrees with a full fold and with the view by country
    assert folds_done == ["new rows"]
    assert before["estimated_present"] == {
        "min": 18_000,
        "best": 20_000,
        "max": 22_000,
        "best_complete": True,
    }
    assert after["estimated_present"] == {
        "min": 18_000 + 270,
        "best": 20_300,
        "max": 22_000 + 330,
        "best_complete": True,
    }
    assert list(by_place(rows(client)).values()) == from_scratch(seeded, client)
    by_country = rows(client, group_by="country,affiliation")
    russia = next(r for r in by_country if r["country"] == "RU" and r["affiliation"] == "unknown")
    assert russia["estimated_present"] == after["estimated_present"]


@pytest.mark.parametrize("change", ["correction", "retraction", "corroboration", "new stock"])
def test_a_group_whose_rows_ended_or_were_corroborated_or_that_gained_a_stock_is_folded_again(
    seeded: Ledger,
    client: TestClient,
    writer: dict[str, str],
    corrector: dict[str, str],
    folds_done: list[str],
    change: str,
) -> None:
    """Only sums over standing rows can be added to: these change a group otherwise."""
    other = "rfa-2023-06-workers-far-east"
    assert client.post("/v1/events", json=source_body(other), headers=writer).status_code == 201
    posted = client.post("/v1/events", json=dispatch_body(destinations=["Kazan"]), headers=writer)
    [fact] = posted.json()["events"]
    rows(client)
    folds_done.clear()

    if change == "new stock":
        body = stock_body(other, 500, "2023-05-01")
    elif change == "correction":
        replacement = {**dispatch_body(destinations=["Kazan"])["data"], "affiliation": "military"}
        body = meta_body("fact.corrected", fact["id"], reason="misread", replacement=replacement)
    elif change == "retraction":
        body = meta_body("fact.retracted", fact["id"], reason="withdrawn")
    else:
        body = meta_body("fact.corroborated", fact["id"], source_id=other)
    assert client.post("/v1/events", json=body, headers=corrector).status_code == 201

    after = rows(client)

    # (the correction also moves the fact to military: a group that only gains a row)
    assert folds_done == (["groups", "new rows"] if change == "correction" else ["groups"])
    assert after == from_scratch(seeded, client)


def test_a_past_view_is_folded_once_and_does_not_hold_back_the_current_one(
    seeded: Ledger, client: TestClient, writer: dict[str, str], folds_done: list[str]
) -> None:
    past = rows(client, at_position=3)
    rows(client)
    client.post("/v1/events", json=dispatch_body(destinations=["Kazan"]), headers=writer)

    assert rows(client, at_position=3) == past
    current = rows(client)

    # the past view is folded once; the current one is carried forward from it, then
    # from itself (not from the past view, asked again in between)
    assert folds_done == ["full", "new rows", "new rows"]
    assert current == from_scratch(seeded, client)


@pytest.mark.settings(folds_kept_questions=2)
def test_only_the_last_questions_asked_are_kept(
    seeded: Ledger, client: TestClient, folds_done: list[str]
) -> None:
    """A client walking `as_of` day by day asks a new question each time: the folds kept
    stay bounded, the least recently asked going first."""
    days = ["2023-04-01", "2023-04-02", "2023-04-03"]
    for day in days:
        rows(client, as_of=day)
    seeded.views = ViewCache()  # so that the next asks reach the folds again

    rows(client, as_of=days[2])  # still kept: no fold
    rows(client, as_of=days[0])  # let go: folded again

    assert folds_done == ["full", "full", "full", "full"]


@pytest.mark.parametrize(
    ("group_by", "scope"),
    [
        ("place,affiliation", {"country": "Russia"}),
        ("country", {"country": "RU"}),
        ("place", {"place": "ru-moscow"}),
    ],
)
def test_a_view_of_one_country_or_place_is_carried_forward_like_the_whole_one(
    seeded: Ledger,
    client: TestClient,
    writer: dict[str, str],
    folds_done: list[str],
    group_by: str,
    scope: dict[str, str],
) -> None:
    """The desk asks about one country at a time: at a million events a fold of it took
    a minute, so it is the whole view, carried forward, cut down to the country."""
    rows(client, group_by=group_by, **scope)
    body = dispatch_body(destinations=["Moscow", "Dandong"], affiliation="civilian")
    assert client.post("/v1/events", json=body, headers=writer).status_code == 201

    after = rows(client, group_by=group_by, **scope)

    assert folds_done == ["full", "new rows"]
    assert after and all(r.get("country") in (None, "RU") for r in after)
    assert all(r["place"]["country"] == "RU" for r in after if r.get("place"))
    assert after == from_scratch(seeded, client, group_by=group_by, **scope)


def test_a_filter_that_splits_a_group_is_folded_whole(
    seeded: Ledger, client: TestClient, writer: dict[str, str], folds_done: list[str]
) -> None:
    """By affiliation, a view of Russia keeps only the Russian part of each fact: no
    group of the whole view is that part, so it is folded from the rows each time."""
    before = rows(client, group_by="affiliation", country="RU")
    body = dispatch_body(destinations=["Moscow", "Dandong"], affiliation="civilian")
    assert client.post("/v1/events", json=body, headers=writer).status_code == 201

    after = rows(client, group_by="affiliation", country="RU")

    assert folds_done == ["full", "full"]
    assert after != before
    assert after == from_scratch(seeded, client, group_by="affiliation", country="RU")
