"""Views carried forward by the groups an append changed, and past views kept."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.deps import Ledger
from service.projections import incremental
from service.projections.cache import ViewCache
from service.projections.incremental import IncrementalFolds
from tests.factories import dispatch_body


@pytest.fixture
def folds_done(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every fold the view makes: "full", or "groups" (only the groups that changed)."""
    done: list[str] = []
    fold_view = incremental.fold_view

    def counted(conn: Any, query: Any, as_of: Any) -> Any:
        done.append("full" if query.only_groups is None else "groups")
        return fold_view(conn, query, as_of)

    monkeypatch.setattr(incremental, "fold_view", counted)
    return done


def rows(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/deployments", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["rows"]
    return found


def from_scratch(ledger: Ledger, client: TestClient, **params: Any) -> list[dict[str, Any]]:
    ledger.views, ledger.computed, ledger.folds = ViewCache(), ViewCache(), IncrementalFolds()
    return rows(client, **params)


def test_after_an_append_only_the_changed_groups_are_folded_and_all_agree_with_a_full_fold(
    seeded: Ledger, client: TestClient, writer: dict[str, str], folds_done: list[str]
) -> None:
    before = rows(client)
    added = dispatch_body(destinations=["Kazan"], affiliation="civilian")
    assert client.post("/v1/events", json=added, headers=writer).status_code == 201

    after = rows(client)

    assert folds_done == ["full", "groups"]
    kazan = [r for r in after if r["place"]["place_id"] == "ru-kazan"]
    assert len(kazan) == 1 and len(after) == len(before) + 1
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
    assert folds_done == ["full", "groups", "groups"]
    assert current == from_scratch(seeded, client)


def test_only_the_last_questions_asked_are_kept(
    seeded: Ledger, client: TestClient, folds_done: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client walking `as_of` day by day asks a new question each time: the folds kept
    stay bounded, the least recently asked going first."""
    monkeypatch.setattr(incremental, "KEPT_QUESTIONS", 2)
    days = ["2023-04-01", "2023-04-02", "2023-04-03"]
    for day in days:
        rows(client, as_of=day)
    seeded.views = ViewCache()  # so that the next asks reach the folds again

    rows(client, as_of=days[2])  # still kept: no fold
    rows(client, as_of=days[0])  # let go: folded again

    assert folds_done == ["full", "full", "full", "full"]
