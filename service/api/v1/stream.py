"""`/v1/events/stream`: follow the log live, as server-sent events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from service.api.deps import LedgerDep
from service.api.problems import problem_responses
from service.api.v1.events import SCHEMA_PARAMETER
from service.domain.events import EventType
from service.follow.stream import StreamQuery, follow
from service.follow.watch import LogWatch
from service.log.read import SchemaForm

router = APIRouter(prefix="/v1/events", tags=["events"])

MAX_POSITION = 2**63 - 1

_EXAMPLE = (
    "retry: 2000\n: following the log after 0\n\n"
    "id: 1\nevent: source.recorded\n"
    'data: {"id":"0192…","position":1,"type":"source.recorded",…}\n\n'
    ": heartbeat\n\n"
)


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"


def get_log_watch(request: Request) -> LogWatch:
    watch: LogWatch = request.app.state.log_watch
    return watch


@router.get(
    "/stream",
    summary="Follow the log live (server-sent events)",
    response_class=EventStreamResponse,
    responses={
        200: {
            "description": "An endless `text/event-stream`: one message per event, in "
            "position order, and a comment line when the log is quiet.",
            "content": {"text/event-stream": {"schema": {"type": "string"}, "example": _EXAMPLE}},
        },
        **problem_responses(422),
    },
)
async def stream(
    request: Request,
    ledger: LedgerDep,
    after: Annotated[
        int,
        Query(ge=0, le=MAX_POSITION, description="Send the events after this position first."),
    ] = 0,
    type: Annotated[list[EventType] | None, Query(description="Only these types.")] = None,
    source_id: Annotated[str | None, Query(max_length=120)] = None,
    schema: Annotated[SchemaForm, SCHEMA_PARAMETER] = "stored",
    last_event_id: Annotated[
        int | None,
        Header(
            alias="Last-Event-ID",
            ge=0,
            le=MAX_POSITION,
            description="Sent by a reconnecting EventSource: resume after this position "
            "(wins over `after` when it is further on).",
        ),
    ] = None,
) -> EventStreamResponse:
    """Every event after `after`, oldest first, then each new event as it is recorded,
    for as long as you stay connected: no polling, and nothing missed.

    Each message is `id: <position>`, `event: <type>` and `data: <the event in its
    envelope, as JSON>`. When you reconnect (a browser's `EventSource` does it by
    itself) the `Last-Event-ID` header resumes right after the last event you got.
    A comment line (`: heartbeat`) comes every 15 seconds when nothing else does.

    `schema=current` sends each payload in its type's current schema version.

    Example: `curl -N '/v1/events/stream?after=0&type=workers.dispatched'`.
    """
    query = StreamQuery(
        after=max(after, last_event_id or 0),
        types=tuple(t.value for t in type or ()),
        source_id=source_id,
        schema=schema,
    )
    settings = ledger.settings
    return EventStreamResponse(
        follow(ledger.engine, get_log_watch(request), query, settings.stream_heartbeat_seconds),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
