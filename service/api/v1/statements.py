"""`/v1/statements`: official statements, quoted verbatim."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Connection

from service.api.countries import CountryDep
from service.api.deps import LedgerDep
from service.api.problems import problem_responses
from service.api.serving.negotiation import format_parameter
from service.api.serving.pipeline import Forms, serve_view
from service.api.serving.representations import alternative_media_types
from service.api.serving.time_axes import TimeAxesDep
from service.domain.moments import Day
from service.domain.places import Place
from service.views.statements.queries import (
    StatementOut,
    StatementsQuery,
    StatementsView,
    statements_view,
)

router = APIRouter(prefix="/v1/statements", tags=["statements"])


def _claims_text(statement: StatementOut) -> str:
    """Each claim in a cell: `present: about 5,000 (Primorsky Krai)`."""
    return "; ".join(
        f"{claim.about.value}: {claim.count.text} ({', '.join(_names(claim.places))})"
        for claim in statement.claims
    )


def _names(places: list[Place]) -> list[str]:
    return [place.name or place.place_id or "" for place in places]


def _csv_row(statement: StatementOut) -> dict[str, Any]:
    speaker = statement.speaker
    return statement.model_dump(mode="json", exclude={"speaker", "topics", "sources", "claims"}) | {
        "speaker": speaker.name,
        "role": speaker.role,
        "speaker_country": speaker.country,
        "topics": "; ".join(statement.topics),
        "sources": "; ".join(statement.sources),
        "organisation": speaker.organisation,
        "claims": _claims_text(statement),
    }


FORMS = Forms[StatementsView](
    csv_rows=lambda view: [_csv_row(s) for s in view.statements], filename="statements"
)


@router.get(
    "",
    summary="Official statements",
    response_model=StatementsView,
    responses={**problem_responses(422), **alternative_media_types()},
    dependencies=[format_parameter("csv")],
)
async def statements(
    request: Request,
    ledger: LedgerDep,
    axes: TimeAxesDep,
    speaker: Annotated[str | None, Query(max_length=200, examples=["Im Chon-il"])] = None,
    country: CountryDep = None,
    issued_from: Day | None = None,
    issued_to: Day | None = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in the quote or summary.")
    ] = None,
) -> Response:
    """Statements by officials, newest first, with the words as quoted and the figures
    they stated (`claims`: "a few thousand more are expected", with its places — the
    official's word, listed beside `/v1/deployments` too but never counted as workers).

    Filter by speaker (words of the name, role or organisation: `speaker=city officials`),
    the speaker's country, dates, or words of the quote (`q=solidarity`).

    Dates are as precise as the report: a day, a month (`2023-05`), a quarter, a year, or
    none (`null`). Newest first by the first day a date covers; undated statements come
    last. `issued_from`/`issued_to` keep a statement whose date may fall between them
    ("May 2023" is kept from 10 May on) and leave undated ones out. `as_of` keeps the
    statements made by then: dated ones whose date begins on or before it, undated ones
    whose report was published by then."""
    query = StatementsQuery(
        speaker=speaker,
        country=country,
        issued_from=issued_from,
        issued_to=issued_to,
        words=q,
        as_of=axes.as_of,
    )

    def compute(conn: Connection, position: int, head: int) -> StatementsView:
        return statements_view(conn, query, position, head)

    return await serve_view(request, ledger, axes, ("statements", query), compute, FORMS)
