"""`/v1/sources`: the documents facts were taken from, each with its facts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from service.api.deps import ConnectionDep, LedgerDep
from service.api.problems import problem_responses
from service.api.serving.pipeline import serve_view
from service.api.serving.representations import alternative_media_types
from service.api.serving.time_axes import TimeAxesDep
from service.domain.envelope import RecordedEvent
from service.domain.events import EventType
from service.log.read import EventFilter, read_events
from service.views.facts.history import FactVersion, facts_at, fold_facts, read_log

router = APIRouter(prefix="/v1/sources", tags=["sources"])


class SourceSummary(BaseModel):
    source_id: str
    event_id: UUID
    data: dict[str, Any]


class SourcesView(BaseModel):
    position: int
    head: int
    sources: list[SourceSummary]


class FactOut(BaseModel):
    event: RecordedEvent = Field(description="The fact as first recorded.")
    current: dict[str, Any] | None = Field(description="Its payload now; null if retracted.")
    status: str = Field(description="active, corrected or retracted")
    corrections: list[RecordedEvent]
    retraction: RecordedEvent | None
    corroborations: list[RecordedEvent] = Field(description="Other sources reporting it.")


class SourceDetail(BaseModel):
    source_id: str
    position: int
    head: int
    source: dict[str, Any]
    facts: list[FactOut]
    corroborates: list[RecordedEvent] = Field(
        description="Facts of other sources that this source corroborates."
    )


@router.get(
    "",
    summary="Sources",
    response_model=SourcesView,
    responses={**problem_responses(422), **alternative_media_types()},
)
def list_sources(
    request: Request, conn: ConnectionDep, ledger: LedgerDep, axes: TimeAxesDep
) -> Response:
    """Every recorded source (outlet, title, dates, translator, attribution chain)."""

    def compute(position: int, head: int) -> SourcesView:
        found = facts_at(conn, [EventType.source_recorded.value], position)
        return SourcesView(
            position=position,
            head=head,
            sources=sorted(
                (
                    SourceSummary(
                        source_id=str(f.data["source_id"]), event_id=f.event.id, data=f.data
                    )
                    for f in found
                ),
                key=lambda s: s.source_id,
            ),
        )

    return serve_view(
        request,
        conn,
        ledger,
        axes,
        ("sources",),
        compute,
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


def _fact_out(
    event: RecordedEvent, version: FactVersion | None, log: list[RecordedEvent]
) -> FactOut:
    touching = [e for e in log if e.data.get("target_event_id") == str(event.id)]
    retraction = next((e for e in touching if e.type == EventType.fact_retracted), None)
    corrections = [e for e in touching if e.type == EventType.fact_corrected]
    status = "retracted" if retraction else ("corrected" if corrections else "active")
    return FactOut(
        event=event,
        current=version.data if version else None,
        status=status,
        corrections=corrections,
        retraction=retraction,
        corroborations=[e for e in touching if e.type == EventType.fact_corroborated],
    )


@router.get(
    "/{source_id}",
    summary="One source and every fact taken from it",
    response_model=SourceDetail,
    responses={**problem_responses(404, 422), **alternative_media_types(csv=False)},
)
def get_source(
    source_id: str, request: Request, conn: ConnectionDep, ledger: LedgerDep, axes: TimeAxesDep
) -> Response:
    """The source, and each fact taken from it with its corrections, retraction and the
    other sources that corroborate it."""

    def compute(position: int, head: int) -> SourceDetail:
        own = read_events(conn, EventFilter(source_id=source_id, up_to_position=position), 100_000)
        opening = next((e for e in own if e.type == EventType.source_recorded), None)
        if opening is None:
            raise HTTPException(404, f"No source {source_id!r} is recorded.")
        fact_types = {e.type for e in own if "target_event_id" not in e.data}
        log = read_log(conn, fact_types, position)
        versions = fold_facts(log, fact_types)
        source_now = versions.get(opening.id)
        facts = [
            _fact_out(e, versions.get(e.id), log)
            for e in own
            if "target_event_id" not in e.data and e.type != EventType.source_recorded
        ]
        own_fact_ids = {str(f.event.id) for f in facts}
        corroborates = [
            e
            for e in own
            if e.type == EventType.fact_corroborated
            and e.data.get("target_event_id") not in own_fact_ids
        ]
        return SourceDetail(
            source_id=source_id,
            position=position,
            head=head,
            source=source_now.data if source_now else opening.data,
            facts=facts,
            corroborates=corroborates,
        )

    return serve_view(request, conn, ledger, axes, ("source", source_id), compute)
