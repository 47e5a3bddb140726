"""Recompute the hash chain over the whole log and name the first break."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from service.domain.chain import GENESIS_HASH, event_hash
from service.store.append import read_head
from service.store.read import EventFilter, read_events

CHUNK = 2000


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_position: int
    first_broken_position: int | None
    reason: str | None


def verify_chain(conn: Connection) -> ChainReport:
    head = read_head(conn)
    expected_prev, expected_position, checked = GENESIS_HASH, 1, 0
    while True:
        events = read_events(conn, EventFilter(after=expected_position - 1), CHUNK)
        if not events:
            break
        for event in events:
            problem = None
            if event.position != expected_position:
                problem = f"position {expected_position} is missing"
            elif event.prev_hash != expected_prev:
                problem = "prev_hash does not match the previous event's hash"
            elif event_hash(expected_prev, event.hashed_fields()) != event.hash:
                problem = "the stored hash does not match the event's content"
            if problem is not None:
                return ChainReport(False, checked, head.position, expected_position, problem)
            expected_prev, expected_position, checked = (
                event.hash,
                expected_position + 1,
                checked + 1,
            )
    if checked != head.position or (checked and head.hash != expected_prev):
        return ChainReport(
            False, checked, head.position, checked + 1, "the log ends before its recorded head"
        )
    return ChainReport(True, checked, head.position, None, None)
