"""`/v1/audit`: check that the log is whole and unaltered."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from service.api.deps import ConnectionDep
from service.log.verify import verify_chain

router = APIRouter(prefix="/v1/audit", tags=["audit"])


class ChainVerification(BaseModel):
    ok: bool
    checked: int
    head_position: int
    first_broken_position: int | None
    reason: str | None


@router.get("/verify", summary="Verify the hash chain")
def verify(conn: ConnectionDep) -> ChainVerification:
    """Recomputes every event's SHA-256 from its content and the previous hash. `ok`
    false names the first position where the log was altered or a gap begins."""
    report = verify_chain(conn)
    return ChainVerification(**report.__dict__)
