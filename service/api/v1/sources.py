"""`/v1/sources`: the documents facts were taken from, each with its facts."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import Connection

from service.api.deps import LedgerDep
from service.api.problems import problem_responses
from service.api.serving.negotiation import format_parameter
from service.api.serving.pipeline import Forms, serve_view
from service.api.serving.representations import alternative_media_types
from service.api.serving.time_axes import TimeAxesDep
from service.views.sources.queries import SourceDetail, SourcesView, source_detail, sources_view

router = APIRouter(prefix="/v1/sources", tags=["sources"])

FORMS = Forms[SourcesView](
    csv_rows=lambda view: [
        {
            "source_id": s.source_id,
            "outlet": s.data.get("outlet"),
            "title": s.data.get("title"),
            "published_on": s.data.get("published_on"),
            "language": s.data.get("language"),
            "url": s.data.get("url"),
        }
        for s in view.sources
    ],
    filename="sources",
)


@router.get(
    "",
    summary="Sources",
    response_model=SourcesView,
    responses={**problem_responses(422), **alternative_media_types()},
    dependencies=[format_parameter("csv")],
)
async def list_sources(request: Request, ledger: LedgerDep, axes: TimeAxesDep) -> Response:
    """Every recorded source (outlet, title, dates, translator, attribution chain)."""
    return await serve_view(request, ledger, axes, ("sources",), sources_view, FORMS)


@router.get(
    "/{source_id}",
    summary="One source and every fact taken from it",
    response_model=SourceDetail,
    responses={**problem_responses(404, 422), **alternative_media_types(csv=False)},
)
async def get_source(
    source_id: str, request: Request, ledger: LedgerDep, axes: TimeAxesDep
) -> Response:
    """The source, and each fact taken from it with its corrections, retraction and the
    other sources that corroborate it."""

    def compute(conn: Connection, position: int, head: int) -> SourceDetail:
        detail = source_detail(conn, source_id, position, head)
        if detail is None:
            raise HTTPException(404, f"No source {source_id!r} is recorded.")
        return detail

    return await serve_view(request, ledger, axes, ("source", source_id), compute)
