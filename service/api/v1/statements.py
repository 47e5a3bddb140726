"""`/v1/statements`: official statements, quoted verbatim."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from service.api.deps import ConnectionDep, LedgerDep
from service.api.problems import problem_responses
from service.api.serving.pipeline import serve_view
from service.api.serving.representations import alternative_media_types
from service.api.serving.time_axes import TimeAxesDep
from service.domain.events import EventType
from service.domain.moments import Day
from service.views.facts.history import facts_at

router = APIRouter(prefix="/v1/statements", tags=["statements"])


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


@router.get(
    "",
    summary="Official statements",
    response_model=StatementsView,
    responses={**problem_responses(422), **alternative_media_types()},
)
def statements(
    request: Request,
    conn: ConnectionDep,
    ledger: LedgerDep,
    axes: TimeAxesDep,
    speaker: Annotated[str | None, Query(max_length=200, examples=["Im Chon-il"])] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$", examples=["KP"])] = None,
    issued_from: Day | None = None,
    issued_to: Day | None = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in the quote or summary.")
    ] = None,
) -> Response:
    """Statements by officials, newest first, with the words as quoted. Filter by
    speaker (part of the name), the speaker's country, dates, or words (`q=solidarity`).
    `as_of` keeps statements issued on or before that date."""

    def compute(position: int, head: int) -> StatementsView:
        found = []
        for fact in facts_at(conn, [EventType.statement_issued.value], position):
            data = fact.data
            who = data["speaker"]
            assert isinstance(who, dict)
            issued = date.fromisoformat(str(data["issued_on"]))
            text = f"{data['quote']} {data.get('summary') or ''}"
            if (
                not _matches(str(who.get("name", "")), speaker)
                or (country and who.get("country") != country.upper())
                or (issued_from and issued < issued_from)
                or (issued_to and issued > issued_to)
                or (axes.as_of and issued > axes.as_of)
                or not _matches(text, q)
            ):
                continue
            found.append(
                StatementOut(
                    event_id=fact.event.id,
                    sources=fact.source_ids,
                    speaker=who,
                    issued_on=issued,
                    quote=str(data["quote"]),
                    summary=data.get("summary"),
                    topics=[str(t) for t in data.get("topics") or []],
                    language=str(data["language"]),
                    locator=str(fact.event.provenance["locator"]),
                )
            )
        found.sort(key=lambda s: (s.issued_on, str(s.event_id)), reverse=True)
        return StatementsView(position=position, head=head, statements=found)

    key = ("statements", speaker, country, issued_from, issued_to, q, axes.as_of)
    return serve_view(
        request,
        conn,
        ledger,
        axes,
        key,
        compute,
        csv_rows=lambda view: [
            s.model_dump(mode="json", exclude={"speaker", "topics", "sources"})
            | {
                "speaker": s.speaker.get("name"),
                "role": s.speaker.get("role"),
                "speaker_country": s.speaker.get("country"),
                "topics": "; ".join(s.topics),
                "sources": "; ".join(s.sources),
            }
            for s in view.statements
        ],
        filename="statements",
    )
