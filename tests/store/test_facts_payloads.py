"""`facts` keeps a payload only for sources (migration 0008), and a downgrade puts the
other facts' payloads back from the log."""

from __future__ import annotations

from typing import Any

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.db.migrate import alembic_config
from service.ledger import Ledger, derived_table_rules
from service.views.facts.tables import FACTS
from service.views.rebuild import check_projections
from tests.factories import dispatch_body, meta_body, source_body


def post(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()["events"][0]
    return event


def redate(
    client: TestClient, headers: dict[str, str], source: dict[str, Any], published_on: str
) -> dict[str, Any]:
    """Correct a recorded source's publication date."""
    replacement = {**source["data"], "published_on": published_on}
    body = meta_body("fact.corrected", source["id"], replacement=replacement, reason="Misdated.")
    return post(client, headers, body)


def payloads(ledger: Ledger) -> dict[str, Any]:
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(FACTS.c.event_id, FACTS.c.current_data))
        return {str(row.event_id): row.current_data for row in rows}


def test_only_a_source_keeps_its_payload_and_a_downgrade_restores_the_others(
    client: TestClient, ledger: Ledger, database_url: str, corrector: dict[str, str]
) -> None:
    source = post(client, corrector, source_body(published_on="2023-05-02"))
    kept = post(client, corrector, dispatch_body())
    changed = post(client, corrector, dispatch_body(destinations=["Vladivostok"]))
    correction = post(
        client,
        corrector,
        meta_body(
            "fact.corrected",
            changed["id"],
            replacement=dispatch_body(destinations=["Khabarovsk"])["data"],
            reason="The city was misread.",
        ),
    )
    source_fix = redate(client, corrector, source, "2023-05-03")
    assert source_fix["data"]["replacement"]["published_on"] == "2023-05-03"
    assert payloads(ledger) == {
        source["id"]: source_fix["data"]["replacement"],
        kept["id"]: None,
        changed["id"]: None,
    }

    config = alembic_config(database_url)
    with ledger.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0007")
    assert payloads(ledger) == {
        source["id"]: source_fix["data"]["replacement"],
        kept["id"]: kept["data"],
        changed["id"]: correction["data"]["replacement"],
    }

    with ledger.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    assert payloads(ledger)[kept["id"]] is None
    assert payloads(ledger)[changed["id"]] is None
    # What the migration left is what a rebuild would write.
    rules = derived_table_rules()
    assert check_projections(ledger.engine, rules).differences == []


def test_a_corrected_publication_date_dates_the_sources_rows_in_the_view(
    client: TestClient, ledger: Ledger, corrector: dict[str, str]
) -> None:
    source = post(client, corrector, source_body(published_on="2023-05-02"))
    post(client, corrector, dispatch_body(destinations=["Vladivostok"]))
    [before] = client.get("/v1/deployments").json()["rows"]  # folded, then carried forward
    assert before["last_reported"] == "2023-05-02"
    redate(client, corrector, source, "2023-06-01")
    [row] = client.get("/v1/deployments").json()["rows"]
    assert (row["first_reported"], row["last_reported"]) == ("2023-06-01", "2023-06-01")
    # A replay, with the fact and the correction in one chunk, makes the same rows.
    rules = derived_table_rules()
    assert check_projections(ledger.engine, rules).differences == []
