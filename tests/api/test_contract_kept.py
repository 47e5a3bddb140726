"""Every body valid under the contract before DESIGN §1b stays valid, with the same
meaning (issue 14): the seed report and the Swagger examples of that contract, frozen in
tests/fixtures/contract_before_1b/ (taken from commit 1008bc4), are posted to today's API.

"The same meaning": every field the old body gave is recorded with the value it gave
(read back in the current schema, places resolved), the fields added since hold what
the old body meant (a flow happened, by no route, …), and the seed's views are the ones
the seed always gave.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.access.keys import Scope
from service.ingest.importing import import_events, read_seed
from tests.conftest import DatabaseFactory, TokenFactory
from tests.factories import source_body
from tests.projections.test_properties import fresh_service

BEFORE = Path(__file__).resolve().parents[1] / "fixtures" / "contract_before_1b"
PLACEHOLDER_ID = "01890000-0000-7000-8000-000000000000"
"""The id the old examples gave a targeted fact: replaced with the recorded fact's id."""
ILLUSTRATION_SOURCE = "example-second-report"


def old_seed() -> list[dict[str, Any]]:
    lines = (BEFORE / "seed.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def old_examples() -> dict[str, dict[str, Any]]:
    examples: dict[str, dict[str, Any]] = json.loads(
        (BEFORE / "request_examples.json").read_text(encoding="utf-8")
    )
    return examples


def keeps(given: Any, recorded: Any, where: str = "data") -> None:
    """Every value `given` holds is in `recorded` at the same place (a place given by
    name comes back resolved: its given fields are kept, more are added)."""
    if isinstance(given, dict):
        assert isinstance(recorded, dict), where
        for name, value in given.items():
            assert name in recorded, f"{where}.{name} was dropped"
            keeps(value, recorded[name], f"{where}.{name}")
    elif isinstance(given, list):
        assert isinstance(recorded, list) and len(recorded) == len(given), where
        for index, (one, other) in enumerate(zip(given, recorded, strict=True)):
            keeps(one, other, f"{where}[{index}]")
    elif isinstance(given, float) or isinstance(recorded, float):
        assert float(given) == float(recorded), where
    elif where.endswith(".name") and isinstance(recorded, str):
        # a place's name as written may come back in the gazetteer's spelling
        assert recorded, where
    else:
        assert given == recorded or str(given) == str(recorded), (where, given, recorded)


def record(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, (body["type"], response.text)
    event_id = response.json()["events"][0]["id"]
    shown: dict[str, Any] = client.get(
        f"/v1/events/{event_id}", params={"schema": "current"}
    ).json()
    return shown


def test_the_old_seed_is_recorded_as_it_was_and_gives_the_seeds_views(
    client: TestClient, writer: dict[str, str], databases: DatabaseFactory
) -> None:
    # given an empty ledger
    # when every line of the old seed is posted, as a desk posted it then
    for body in old_seed():
        shown = record(client, writer, body)
        # then each is recorded with every field it gave, and the flows as having happened
        keeps(body["data"], shown["data"])
        if body["type"].startswith("workers."):
            assert shown["data"]["status"] == "completed"
            assert shown["data"]["via"] == []
    # and every view is the one a ledger seeded by today's service gives
    with seeded_service(databases) as seeded:
        for path, params in VIEWS:
            assert figures(client.get(path, params=params).json()) == figures(
                seeded.get(path, params=params).json()
            ), path


VIEWS = (
    ("/v1/deployments", {"group_by": "place"}),
    ("/v1/deployments", {"group_by": "country"}),
    ("/v1/deployments/timeline", {}),
    ("/v1/remittances", {}),
    ("/v1/estimates", {}),
)


def figures(view: dict[str, Any]) -> dict[str, Any]:
    """A view without what differs between two ledgers of the same facts (event ids,
    positions, links, times)."""
    drop = {"position", "head", "event_id", "event_ids", "events_url", "id", "links"}

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in drop}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    cleaned: dict[str, Any] = clean(view)
    return cleaned


@contextmanager
def seeded_service(databases: DatabaseFactory) -> Iterator[TestClient]:
    """Today's service on a new database, seeded by its own loader (as `serve` does)."""
    with fresh_service(databases) as (ledger, client):
        import_events(ledger.store, ledger.gazetteer, read_seed(), principal="seed")
        yield client


def test_every_old_swagger_example_is_still_accepted_with_the_same_meaning(
    client: TestClient, make_key: TokenFactory
) -> None:
    editor = make_key(Scope.events_write, Scope.events_correct, name="editor")
    examples = old_examples()
    # given the sources the examples cite
    record(client, editor, examples["source.recorded"])
    record(client, editor, source_body(ILLUSTRATION_SOURCE))
    # when each fact example is posted (a meta example targets the dispatch just recorded)
    target = None
    for kind, body in examples.items():
        if kind == "source.recorded":
            continue
        if target is not None:
            body = json.loads(json.dumps(body).replace(PLACEHOLDER_ID, target))
        shown = record(client, editor, body)
        # then it is recorded with every field it gave, read in the current schema
        keeps(body["data"], shown["data"])
        if kind == "workers.dispatched":
            target = shown["id"]
            assert (shown["data"]["status"], shown["data"]["via"]) == ("completed", [])
            # and counts as workers sent, as it did
            assert dispatched_max(client) == shown["data"]["count"]["max"]
        if kind == "workers.repatriated":
            assert shown["data"]["status"] == "completed"
    assert target is not None
    # and the retraction example, last, withdrew the dispatch as it did: none reported
    assert dispatched_max(client) == 0


def dispatched_max(client: TestClient) -> int:
    """The most workers the view by country reports sent (0 where none is reported)."""
    rows = client.get("/v1/deployments", params={"group_by": "country"}).json()["rows"]
    return sum((row["dispatched"] or {}).get("max") or 0 for row in rows)
