"""`/v1/streams`: the events taken from one source document, in order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from service.api.deps import ConnectionDep
from service.api.problems import problem_responses
from service.api.serving.links import NEXT_PAGE, link_next, page_link
from service.api.v1.events import MAX_POSITION, SCHEMA_PARAMETER
from service.domain.envelope import RecordedEvent
from service.log.read import EventFilter, SchemaForm, in_schema, read_events, stream_version

router = APIRouter(prefix="/v1/streams", tags=["streams"])


class StreamPage(BaseModel):
    stream: str
    version: int
    events: list[RecordedEvent]
    next: str | None = Field(description=NEXT_PAGE)


@router.get("/{stream}", summary="The events of one source", responses=problem_responses(404, 422))
def get_stream(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    stream: Annotated[
        str, Path(max_length=200, examples=["source:dailynk-2023-05-nk-workers-russia"])
    ],
    after_version: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    schema: Annotated[SchemaForm, SCHEMA_PARAMETER] = "stored",
) -> StreamPage:
    """Every event taken from one source (`source:<source_id>`), oldest first. `version`
    is what to send as `expected_version` when you add to it. `schema=current` reads
    each payload in its type's current schema version."""
    version = stream_version(conn, stream)
    if version is None:
        raise HTTPException(404, f"No stream {stream!r}: is the source recorded?")
    events = read_events(
        conn, EventFilter(stream=stream, after_stream_version=after_version), limit
    )
    last = events[-1].stream_version if events else None
    more = last is not None and last < version
    next_url = page_link(request, after_version=last) if more and last is not None else None
    link_next(response, next_url)
    return StreamPage(
        stream=stream, version=version, events=in_schema(conn, events, schema), next=next_url
    )
