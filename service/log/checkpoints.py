"""Signing the log's head, and checking the log against a checkpoint a reader kept.

`verify_chain` finds an event changed in place; a checkpoint finds what it cannot: a
chain recomputed after a change, or a tail cut off with the head moved back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from service.domain.chain import GENESIS_HASH
from service.domain.checkpoints import Checkpoint, CheckpointSigner, signature_holds
from service.log.append import read_head
from service.log.tables import EVENTS


class NoSuchPosition(LookupError):
    """The log does not reach the position asked for."""


def sign_position(
    conn: Connection, signer: CheckpointSigner, now: datetime, position: int | None = None
) -> Checkpoint:
    """A checkpoint of the head, or of the event at `position` (0: the empty log)."""
    head = read_head(conn)
    if position is None or position == head.position:
        return signer.sign(head.position, head.hash, now)
    if position == 0:
        return signer.sign(0, GENESIS_HASH, now)
    hash = conn.execute(
        select(EVENTS.c.hash).where(EVENTS.c.position == position)
    ).scalar_one_or_none()
    if hash is None or position > head.position:
        raise NoSuchPosition(f"the log has no event at position {position}")
    return signer.sign(position, hash, now)


@dataclass(frozen=True)
class CheckpointCheck:
    ok: bool
    position: int
    reason: str | None = None


def check_checkpoint(conn: Connection, checkpoint: Checkpoint) -> CheckpointCheck:
    """Does the log still hold the checkpoint's event, with the checkpoint's hash?"""
    position = checkpoint.position

    def broken(reason: str) -> CheckpointCheck:
        return CheckpointCheck(False, position, reason)

    if not signature_holds(checkpoint):
        return broken("the checkpoint's signature does not hold: it is not as it was signed")
    head = read_head(conn)
    if head.position < position:
        return broken(
            f"the log ends at position {head.position}, before the checkpoint's {position}: "
            "its tail was removed"
        )
    if position == 0:
        found: str | None = GENESIS_HASH
    else:
        found = conn.execute(
            select(EVENTS.c.hash).where(EVENTS.c.position == position)
        ).scalar_one_or_none()
    if found is None:
        return broken(f"position {position} is missing")
    if found != checkpoint.hash:
        return broken(
            f"the event at position {position} has another hash than the checkpoint's: "
            "the log up to it was rewritten"
        )
    return CheckpointCheck(True, position)
