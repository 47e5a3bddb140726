"""Official statements, newest first, filtered by speaker, country, dates and words; each
with the figures its speaker stated (`claims`). How imprecise and unknown dates sort and
filter: `standing.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Connection

from service.domain.dates import ReportedDate
from service.domain.payloads import Claim, Speaker
from service.views.statements.standing import DatedStatement, statements_at


@dataclass(frozen=True)
class StatementsQuery:
    speaker: str | None = None
    """Words of the speaker's name, role or organisation."""
    country: str | None = None
    """The speaker's country, two letters, upper case."""
    issued_from: date | None = None
    issued_to: date | None = None
    words: str | None = None
    """Words in the quote or summary."""
    as_of: date | None = None
    """Statements made by then."""


class StatementOut(BaseModel):
    event_id: UUID
    sources: list[str]
    speaker: Speaker
    issued_on: ReportedDate | None = Field(
        description="As precise as the report: a day, month, quarter or year; null when "
        "the report gives no date."
    )
    quote: str
    summary: str | None
    topics: list[str]
    language: str
    locator: str
    claims: list[Claim] = Field(
        description="Figures the speaker stated, with their places: the official's word, "
        "never counted as workers sent or present."
    )


class StatementsView(BaseModel):
    position: int
    head: int
    statements: list[StatementOut]


def _matches(text: str, words: str | None) -> bool:
    return words is None or all(w in text.casefold() for w in words.casefold().split())


def _speaker_words(speaker: Speaker) -> str:
    return " ".join(w for w in (speaker.name, speaker.role, speaker.organisation) if w)


def _wanted(dated: DatedStatement, query: StatementsQuery) -> bool:
    statement = dated.statement
    return (
        _matches(_speaker_words(statement.speaker), query.speaker)
        and (query.country is None or statement.speaker.country == query.country)
        and dated.issued_between(query.issued_from, query.issued_to)
        and dated.made_as_of(query.as_of)
        and _matches(f"{statement.quote} {statement.summary or ''}", query.words)
    )


def _out(dated: DatedStatement) -> StatementOut:
    fact, statement = dated.fact, dated.statement
    return StatementOut(
        event_id=fact.event.id,
        sources=fact.source_ids,
        speaker=statement.speaker,
        issued_on=statement.issued_on,
        quote=statement.quote,
        summary=statement.summary,
        topics=list(statement.topics),
        language=statement.language,
        locator=str(fact.event.provenance["locator"]),
        claims=list(statement.claims),
    )


def statements_view(
    conn: Connection, query: StatementsQuery, position: int, head: int
) -> StatementsView:
    found = [_out(s) for s in statements_at(conn, position) if _wanted(s, query)]
    return StatementsView(position=position, head=head, statements=found)
