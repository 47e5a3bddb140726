"""What the checks of an append ask of the `facts` table."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Connection, select

from service.views.facts.tables import FACTS


@dataclass
class Target:
    type: str
    source_id: str
    status: str


def fact_targets(conn: Connection, ids: set[UUID]) -> dict[UUID, Target]:
    if not ids:
        return {}
    rows = conn.execute(
        select(FACTS.c.event_id, FACTS.c.type, FACTS.c.source_id, FACTS.c.status).where(
            FACTS.c.event_id.in_(ids)
        )
    )
    return {r.event_id: Target(r.type, r.source_id, r.status) for r in rows}
