"""A deployments view put together from its rows' JSON is byte for byte the view's JSON."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from service.ledger import Ledger
from service.log.append import read_head
from service.views.deployments.fold import DeploymentQuery
from service.views.deployments.queries import deployments_json, deployments_view
from service.views.deployments.row_json import with_rows
from tests.factories import dispatch_body


def both_ways(ledger: Ledger, query: DeploymentQuery) -> tuple[bytes, bytes]:
    with ledger.engine.connect() as conn:
        head = read_head(conn).position
        query = DeploymentQuery(**{**query.__dict__, "position": head})
        whole = deployments_view(conn, ledger.gazetteer, query, head, ledger.folds)
        pieced = deployments_json(
            conn, ledger.gazetteer, query, head, ledger.folds, ledger.row_fragments
        )
    return whole.model_dump_json().encode(), pieced


@pytest.mark.parametrize(
    "question",
    [
        {},
        {"group_by": ("country",)},
        {"group_by": ("place",), "affiliation": "civilian"},
        {"group_by": ("affiliation",), "as_of": None},
    ],
)
def test_the_pieced_view_is_the_views_json_at_every_head(
    seeded: Ledger, client: TestClient, writer: dict[str, str], question: dict[str, Any]
) -> None:
    query = DeploymentQuery(**question)
    whole, pieced = both_ways(seeded, query)
    assert pieced == whole
    for destinations in (["Kazan"], ["Moscow", "Vladivostok"]):
        body = dispatch_body(destinations=destinations)
        assert client.post("/v1/events", json=body, headers=writer).status_code == 201
        # rows kept from the view before, with the new head's events_url
        whole, pieced = both_ways(seeded, query)
        assert pieced == whole


def test_the_served_view_names_the_head_in_every_rows_events_url(
    seeded: Ledger, client: TestClient, writer: dict[str, str]
) -> None:
    client.get("/v1/deployments")
    assert client.post("/v1/events", json=dispatch_body(), headers=writer).status_code == 201
    view = client.get("/v1/deployments").json()
    assert {row["events_url"].rsplit("=", 1)[1] for row in view["rows"]} == {str(view["head"])}


class RowsFirst(BaseModel):
    rows: list[int]
    head: int


class RowsLast(BaseModel):
    head: int
    rows: list[int]


def test_rows_are_spliced_only_into_a_view_that_declares_them_last() -> None:
    pieces = [(b"1",), (b"2",)]
    assert (
        with_rows(RowsLast(head=3, rows=[]), pieces)
        == RowsLast(head=3, rows=[1, 2]).model_dump_json().encode()
    )
    with pytest.raises(ValueError, match="rows last"):
        with_rows(RowsFirst(rows=[], head=3), pieces)
