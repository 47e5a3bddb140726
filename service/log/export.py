"""The log as JSON Lines: each event in its whole envelope, in position order."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import Engine

from service.domain.envelope import RecordedEvent
from service.log.append import read_head
from service.log.read import EventFilter, read_events

PAGE_SIZE = 2000


def envelope_json(event: RecordedEvent) -> str:
    """One line of JSON: the form exported, streamed and delivered to webhooks."""
    return json.dumps(event.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


def export_lines(engine: Engine, after: int = 0) -> Iterator[str]:
    """Every event after `after` up to the head when the export began; each page is
    read on its own short connection, so a slow reader holds nothing open."""
    with engine.connect() as conn:
        head = read_head(conn).position
    while after < head:
        with engine.connect() as conn:
            events = read_events(conn, EventFilter(after=after, up_to_position=head), PAGE_SIZE)
        if not events:
            return
        for event in events:
            yield envelope_json(event)
        after = events[-1].position
