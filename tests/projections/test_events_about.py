"""What touched a fact is found by the fact's id, not by reading every such event: a
source's page, a fact's page and the smaller views stay an index lookup at a million
events (`ix_events_target`, migration 0011)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Connection

from service.ledger import Ledger
from service.views.facts.history import about_query, events_about
from tests.factories import dispatch_body, meta_body, source_body

Headers = dict[str, str]


def plan(conn: Connection, fact_ids: list[str]) -> str:
    """How the database would find the events about these facts."""
    compiled = about_query(fact_ids, 10**9).compile(conn, compile_kwargs={"literal_binds": True})
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
        return "\n".join(str(row[-1]) for row in rows)
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny table: ask if it can
    return "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}").all())


def test_the_events_about_a_fact_are_read_by_its_id_through_the_index(
    client: TestClient, ledger: Ledger, writer: Headers, corrector: Headers
) -> None:
    assert client.post("/v1/events", json=source_body(), headers=writer).status_code == 201
    other = "rfa-2023-06-workers-far-east"
    assert client.post("/v1/events", json=source_body(other), headers=writer).status_code == 201
    facts = [
        client.post("/v1/events", json=dispatch_body(), headers=writer).json()["events"][0]["id"]
        for _ in range(3)
    ]
    touching = [
        meta_body("fact.corroborated", facts[0], source_id=other),
        meta_body("fact.retracted", facts[1], reason="withdrawn"),
        meta_body("fact.corroborated", facts[2], source_id=other),
    ]
    for body in touching:
        assert client.post("/v1/events", json=body, headers=corrector).status_code == 201

    with ledger.engine.connect() as conn:
        found = events_about(conn, [facts[0], facts[1]], 10**9)
        early = events_about(conn, [facts[0], facts[1]], found[0].position)
        how = plan(conn, [facts[0]])

    assert [(e.type, str(e.data["target_event_id"])) for e in found] == [
        ("fact.corroborated", facts[0]),
        ("fact.retracted", facts[1]),
    ]
    assert [e.position for e in early] == [found[0].position]  # by position, as it stood
    assert "ix_events_target" in how, how
