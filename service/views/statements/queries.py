"""Official statements, newest first, filtered by speaker, country, dates and words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import Connection

from service.domain.events import EventType
from service.domain.payloads import StatementIssued
from service.domain.readers import read_payload_as
from service.views.facts.history import facts_at


@dataclass(frozen=True)
class StatementsQuery:
    speaker: str | None = None
    """Words of the speaker's name."""
    country: str | None = None
    """The speaker's country, two letters, either case."""
    issued_from: date | None = None
    issued_to: date | None = None
    words: str | None = None
    """Words in the quote or summary."""
    as_of: date | None = None
    """Statements issued on or before."""


class StatementOut(BaseModel):
    event_id: UUID
    sources: list[str]
    speaker: dict[str, Any]
    issued_on: date
    quote: str
    summary: str | None
    topics: list[str]
    language: str
    locator: str


class StatementsView(BaseModel):
    position: int
    head: int
    statements: list[StatementOut]


def _matches(text: str, words: str | None) -> bool:
    return words is None or all(w in text.casefold() for w in words.casefold().split())


def statements_view(
    conn: Connection, query: StatementsQuery, position: int, head: int
) -> StatementsView:
    country = query.country.upper() if query.country else None
    found = []
    for fact in facts_at(conn, [EventType.statement_issued.value], position):
        statement = read_payload_as(StatementIssued, fact.data)
        who, issued = statement.speaker, statement.issued_on
        if (
            not _matches(who.name, query.speaker)
            or (country and who.country != country)
            or (query.issued_from and issued < query.issued_from)
            or (query.issued_to and issued > query.issued_to)
            or (query.as_of and issued > query.as_of)
            or not _matches(f"{statement.quote} {statement.summary or ''}", query.words)
        ):
            continue
        found.append(
            StatementOut(
                event_id=fact.event.id,
                sources=fact.source_ids,
                speaker=_as_stored(fact.data["speaker"]),
                issued_on=issued,
                quote=statement.quote,
                summary=statement.summary,
                topics=list(statement.topics),
                language=statement.language,
                locator=str(fact.event.provenance["locator"]),
            )
        )
    found.sort(key=lambda s: (s.issued_on, str(s.event_id)), reverse=True)
    return StatementsView(position=position, head=head, statements=found)


def _as_stored(speaker: object) -> dict[str, Any]:
    """The speaker as stored, keys in the stored order (PostgreSQL's JSONB order differs
    from the model's): the response shows it as recorded."""
    assert isinstance(speaker, dict)
    return speaker
