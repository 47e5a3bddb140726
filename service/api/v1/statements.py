"""`/v1/statements`: official statements, quoted verbatim."""

from __future__ import annotations

from typing import Annotated

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
from service.views.statements.queries import StatementsQuery, StatementsView, statements_view

router = APIRouter(prefix="/v1/statements", tags=["statements"])

FORMS = Forms[StatementsView](
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
    """Statements by officials, newest first, with the words as quoted. Filter by
    speaker (part of the name), the speaker's country, dates, or words (`q=solidarity`).
    `as_of` keeps statements issued on or before that date."""
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
