"""A baseline of the ingest benchmark: a bare FastAPI endpoint, one INSERT per request.

Served exactly as the ledger is (`uvicorn tests.bench.bare_insert_app:create_app
--factory`, one worker, the same `LEDGER_*` settings and engine), it takes the
same JSON body and inserts it as one row of a table shaped like `events`, in its
own transaction: no validation, no key, no lock, no hash, no derived tables.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from fastapi import Body, FastAPI
from sqlalchemy import MetaData, Table, insert
from uuid6 import uuid7

from service.db.engine import make_engine
from service.log.tables import EVENTS
from service.settings import Settings

BARE_TABLE = "bench_bare_events"


def events_twin(name: str) -> Table:
    """A table with the columns, keys and indexes of `events` (names made its own)."""
    return twin(EVENTS, name)


def twin(table: Table, name: str) -> Table:
    """A table with the columns, keys and indexes of `table` (names made its own)."""
    copy = table.to_metadata(MetaData(), name=name)
    for index in copy.indexes:
        index.name = f"{name}_{index.name}"
    for constraint in copy.constraints:
        if isinstance(constraint.name, str):
            constraint.name = f"{name}_{constraint.name}"
    return copy


def create_app() -> FastAPI:
    settings = Settings()
    engine = make_engine(settings)
    table = events_twin(BARE_TABLE)
    positions = itertools.count(1)
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/events", status_code=201)
    def append(body: dict[str, Any] = Body()) -> dict[str, int]:
        position = next(positions)
        source_id = str(body["provenance"]["source_id"])
        row = {
            "position": position,
            "id": uuid7(),
            "stream": f"source:{source_id}",
            "stream_version": position,
            "type": body["type"],
            "schema_version": 1,
            "source_id": source_id,
            "data": body["data"],
            "provenance": body["provenance"],
            "recorded_at": datetime.now(UTC),
            "recorded_by": "bench",
            "hash": "0" * 64,
            "prev_hash": "0" * 64,
        }
        with engine.begin() as conn:
            conn.execute(insert(table), row)
        return {"position": position}

    return app
