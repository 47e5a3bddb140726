"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import anyio
import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from service.api.deps import LedgerDep
from service.api.problems import problem_response, problem_responses
from service.db.migrate import is_at_head

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


READY_WITHIN_SECONDS = 2.0
"""`/readyz` answers within this long: a stalled database is a 503, not a hang that an
orchestrator's own timeout would read as a dead process."""


@router.get("/healthz", summary="Is the process up?")
async def healthz() -> Health:
    """Answers `{"status": "ok"}` while the process runs; it does not touch the database
    (that is `/readyz`). It is answered on the event loop itself, so it answers even when
    every worker thread waits on a slow database."""
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Can it serve?",
    response_model=Health,
    responses=problem_responses(503),
)
async def readyz(ledger: LedgerDep) -> Health | JSONResponse:  # JSONResponse: a problem
    """Ready when the database answers (within 2 seconds), its schema is at the newest
    migration, and the process has warmed its default views (`/v1/deployments` and the
    desk's landing page, `LEDGER_WARM_VIEWS_ON_START`): until then a reader would wait for
    a fold of the whole log."""
    try:
        with anyio.fail_after(READY_WITHIN_SECONDS):
            at_head = await anyio.to_thread.run_sync(
                _database_at_head, ledger.engine, abandon_on_cancel=True
            )
    except TimeoutError:
        return problem_response(
            503, f"The database did not answer within {READY_WITHIN_SECONDS:g} seconds."
        )
    except SQLAlchemyError:
        return problem_response(503, "The database does not answer.")
    if not at_head:
        return problem_response(503, "The database schema is not at the newest migration.")
    if (warming := ledger.warming_up) is not None:
        return problem_response(503, f"Warming up: {warming}.")
    return Health(status="ready")


def _database_at_head(engine: Engine) -> bool:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return is_at_head(engine)
