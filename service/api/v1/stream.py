"""`/v1/events/stream`: follow the log live, as server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from service.api.deps import LedgerDep
from service.api.problems import problem_response, problem_responses
from service.api.stream_slots import RETRY_AFTER_SECONDS, Refusal, StreamSlots
from service.api.v1.events import SCHEMA_PARAMETER
from service.domain.envelope import RecordedEvent
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
    on_close: Callable[[], None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except asyncio.CancelledError:
            # The server is stopping and its grace period (1 s under `serve`) is over: an
            # endless stream is the one answer expected to be cut then. End it as a
            # stream ends, so the follower reconnects with Last-Event-ID, and log no
            # traceback for what is no fault.
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:  # however the stream ends: the client left, or the server stops
            if self.on_close is not None:
                self.on_close()


def get_log_watch(request: Request) -> LogWatch:
    watch: LogWatch = request.app.state.log_watch
    return watch


@router.get(
    "/stream",
    summary="Follow the log live (server-sent events)",
    response_class=EventStreamResponse,
    responses={
        200: {
            # The schema is each message's `data`, as SSE clients generated from an OpenAPI
            # 3.1 document read it (@hey-api/openapi-ts yields each message's data as the
            # response schema's type). OpenAPI 3.2's `itemSchema`, which fastapi.sse writes,
            # is refused in a 3.1 document (Redocly), and openapi-python-client reads no 3.2
            # one; the route keeps its own stream (heartbeats, caps, clean shutdown).
            "model": RecordedEvent,
            "description": "An endless `text/event-stream`: one message per event, in "
            "position order, its `data` one `RecordedEvent` as JSON; a comment line when "
            "the log is quiet.",
            "content": {"text/event-stream": {"example": _EXAMPLE}},
        },
        **problem_responses(422, 429, 503),
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
) -> Response:
    """Every event after `after`, oldest first, then each new event as it is recorded,
    for as long as you stay connected: no polling, and nothing missed.

    Each message is `id: <position>`, `event: <type>` and `data: <the event in its
    envelope, as JSON>` (one `RecordedEvent`: the schema below). When you reconnect (a
    browser's `EventSource` does it by itself) the `Last-Event-ID` header resumes right
    after the last event you got.
    A comment line (`: heartbeat`) comes every 15 seconds when nothing else does.

    `schema=current` sends each payload in its type's current schema version.

    One address may hold a few streams open at once (a 429 beyond), and the service a
    few hundred in all (a 503 beyond): share one stream among your readers.

    Example: `curl -N '/v1/events/stream?after=0&type=workers.dispatched'`.
    """
    query = StreamQuery(
        after=max(after, last_event_id or 0),
        types=tuple(t.value for t in type or ()),
        source_id=source_id,
        schema=schema,
    )
    settings = ledger.settings
    slots: StreamSlots = request.app.state.stream_slots
    address = request.client.host if request.client else "unknown"
    refusal = slots.claim(address)
    if refusal is not None:
        return _refused(refusal, slots)
    response = EventStreamResponse(
        follow(ledger.engine, get_log_watch(request), query, settings.stream_heartbeat_seconds),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    response.on_close = lambda: slots.release(address)
    return response


def _refused(refusal: Refusal, slots: StreamSlots) -> Response:
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if refusal == "address":
        return problem_response(
            429,
            f"This address has {slots.per_address} event streams open, as many as it may; "
            "close one, or share one among your readers.",
            slug="too-many-streams",
            title="Too many streams",
            headers=retry,
        )
    return problem_response(
        503,
        f"The service holds {slots.total} event streams, as many as it may; try again later.",
        slug="streams-full",
        title="Streams full",
        headers=retry,
    )
