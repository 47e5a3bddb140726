"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.api.deps import LedgerDep
from service.api.problems import problem_response, problem_responses
from service.db.migrate import is_at_head

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", summary="Is the process up?")
def healthz() -> Health:
    """Answers `{"status": "ok"}` while the process runs; it does not touch the database
    (that is `/readyz`)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Can it serve?",
    response_model=Health,
    responses=problem_responses(503),
)
def readyz(ledger: LedgerDep) -> Health | JSONResponse:  # JSONResponse: a problem
    """Ready when the database answers, its schema is at the newest migration, and the
    process has warmed its default view (`LEDGER_WARM_VIEWS_ON_START`): until then a
    reader would wait for a fold of the whole log."""
    try:
        with ledger.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        at_head = is_at_head(ledger.engine)
    except SQLAlchemyError:
        return problem_response(503, "The database does not answer.")
    if not at_head:
        return problem_response(503, "The database schema is not at the newest migration.")
    if (warming := ledger.warming_up) is not None:
        return problem_response(503, f"Warming up: {warming}.")
    return Health(status="ready")
