"""`/v1/audit`: check that the log is whole and unaltered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from service.api.deps import ConnectionDep, LedgerDep
from service.api.problems import problem_responses
from service.domain.checkpoints import Checkpoint, CheckpointSigner
from service.domain.clock import utc_now
from service.log.checkpoints import NoSuchPosition, sign_position
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


@router.get(
    "/checkpoints",
    summary="A signed checkpoint of the log",
    responses=problem_responses(404, 422),
)
def checkpoint(
    conn: ConnectionDep,
    ledger: LedgerDep,
    at_position: Annotated[
        int | None,
        Query(
            ge=0,
            le=2**63 - 1,
            description="The position to sign (default: the head, the last event recorded).",
        ),
    ] = None,
) -> Checkpoint:
    """The hash of the log at its head (or at `at_position`), signed with this ledger's
    Ed25519 key. A change to the log is shown by `/v1/audit/verify` unless whoever made it
    recomputed every later hash, or cut the tail: a checkpoint kept outside the ledger shows
    both. Keep the JSON as it is, then: `labor-ledger verify --checkpoint checkpoint.json`."""
    signer = CheckpointSigner.from_secret(ledger.keys.secret)
    now = utc_now().replace(microsecond=0)
    try:
        return sign_position(conn, signer, now, at_position)
    except NoSuchPosition as missing:
        raise HTTPException(404, f"No checkpoint: {missing}.") from None
