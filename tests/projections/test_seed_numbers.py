"""The founding report, in numbers: these must come out exactly (issue 4)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from service.ledger import Ledger


def rows_by(view: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {(r[key]["place_id"] if key == "place" else r[key]): r for r in view["rows"]}


def test_moscow_and_saint_petersburg_each_show_the_shared_count_only_in_max(
    client: TestClient, seeded: Ledger
) -> None:
    view = client.get("/v1/deployments", params={"group_by": "place"}).json()
    rows = rows_by(view, "place")
    for city, partner in (
        ("ru-moscow", "ru-saint-petersburg"),
        ("ru-saint-petersburg", "ru-moscow"),
    ):
        assert rows[city]["dispatched"] == {
            "min": 0,
            "best": None,
            "max": 385,
            "best_complete": False,
        }
        [shared] = rows[city]["shared"]
        assert shared["count"] == {"min": 315, "best": 350, "max": 385, "best_complete": True}
        assert shared["partners"] == [partner]
    assert rows["ru-vladivostok"]["dispatched"] == {
        "min": 1,
        "best": None,
        "max": 99,
        "best_complete": False,
    }


def test_vladivostok_is_military(client: TestClient, seeded: Ledger) -> None:
    view = client.get("/v1/deployments").json()
    vladivostok = [r for r in view["rows"] if r["place"]["place_id"] == "ru-vladivostok"]
    assert [r["affiliation"] for r in vladivostok] == ["military"]


def test_per_affiliation_the_shared_count_adds_once_exactly(
    client: TestClient, seeded: Ledger
) -> None:
    rows = rows_by(
        client.get("/v1/deployments", params={"group_by": "affiliation"}).json(), "affiliation"
    )
    assert rows["civilian"]["dispatched"] == {
        "min": 315,
        "best": 350,
        "max": 385,
        "best_complete": True,
    }
    assert rows["military"]["dispatched"] == {
        "min": 1,
        "best": None,
        "max": 99,
        "best_complete": False,
    }


def test_per_country_russia(client: TestClient, seeded: Ledger) -> None:
    [russia] = client.get("/v1/deployments", params={"group_by": "country"}).json()["rows"]
    assert russia["country"] == "RU"
    assert russia["dispatched"] == {"min": 316, "best": None, "max": 484, "best_complete": False}
    assert russia["repatriated"]["max"] is None
    assert russia["net_flow"]["min"] is None
    assert russia["net_flow"]["best"] is None
    assert russia["net_flow"]["max"] <= 483
    assert russia["estimated_present"] is None
    assert russia["sources"] == 1


def test_as_of_before_the_dispatches_shows_none_and_after_shows_both(
    client: TestClient, seeded: Ledger
) -> None:
    early = client.get(
        "/v1/deployments", params={"as_of": "2023-03-01", "group_by": "country"}
    ).json()
    assert early["rows"] == []
    later = client.get("/v1/deployments", params={"as_of": "2023-04-15", "group_by": "affiliation"})
    rows = rows_by(later.json(), "affiliation")
    assert set(rows) >= {"civilian", "military"}


def test_known_at_before_the_seed_was_loaded_is_empty(client: TestClient, seeded: Ledger) -> None:
    view = client.get("/v1/deployments", params={"known_at": "2000-01-01T00:00:00Z"}).json()
    assert view["rows"] == []
    assert view["position"] == 0
