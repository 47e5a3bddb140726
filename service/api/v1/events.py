"""`/v1/events`: record reported facts and read the log back."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Header, HTTPException, Query, Request, Response
from fastapi.openapi.models import Example
from pydantic import BaseModel, Field

from service.access.keys import ApiKey, Scope
from service.api.auth import scoped
from service.api.deps import ConnectionDep, LedgerDep
from service.api.fast_json import OrjsonRoute
from service.api.metrics import APPENDS_REPLAYED, EVENTS_APPENDED
from service.api.problems import problem_responses
from service.api.serving.links import NEXT_PAGE, link_next, page_link
from service.domain.chain import canonical_json
from service.domain.envelope import RecordedEvent
from service.domain.events import MAX_BATCH, AppendRequest, EventBatchIn, EventInBase, EventType
from service.domain.examples import swagger_examples
from service.domain.moments import Timestamp
from service.ingest.submit import new_events
from service.log.append import AppendResult, IdempotencyRequest
from service.log.read import EventFilter, SchemaForm, in_schema, read_event, read_events

router = APIRouter(prefix="/v1/events", tags=["events"], route_class=OrjsonRoute)

MAX_POSITION = 2**63 - 1
SCHEMA_PARAMETER = Query(
    description="`stored` (the default): each payload exactly as recorded, in the schema "
    "version it was recorded in (what `hash` covers). `current`: each payload read in its "
    "type's current schema version, as the views read it, with `schema_version` saying so "
    "(e.g. a version 1 `workers.dispatched` gains `status: completed` and `via: []`).",
)
CORRECTING_TYPES = {EventType.fact_corrected, EventType.fact_retracted}


def _openapi_examples() -> dict[str, Example]:
    """Swagger's example bodies: first an illustration source a seeded ledger lacks (the
    default, so trying it succeeds), then one per event type, from the seed report."""
    return {
        name: Example(summary=example.summary, description=example.description, value=example.body)
        for name, example in swagger_examples().items()
    }


class EventPage(BaseModel):
    events: list[RecordedEvent]
    next: str | None = Field(description=NEXT_PAGE)
    last_position: int | None = Field(description="Resume after this position.")


@router.post(
    "",
    status_code=201,
    response_model=AppendResult,
    summary="Record one event, or a batch of up to 1,000",
    response_description="The recorded events with their positions and hashes, and any warnings.",
    responses=problem_responses(400, 401, 403, 409, 413, 422),
)
def append(
    body: Annotated[AppendRequest, Body(openapi_examples=_openapi_examples())],
    ledger: LedgerDep,
    key: ApiKey = scoped(Scope.events_write),
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Send the same key when you retry: the first result comes back and "
            "nothing is recorded twice.",
        ),
    ] = None,
) -> Response:
    """Record what a report says. Send one event, or `{"events": [...]}`: a batch lands
    whole or not at all.

    Each event cites its source (`provenance.source_id`, recorded first with a
    `source.recorded` event) and quotes the words it was taken from
    (`provenance.locator`). Counts keep the report's words; the ledger fills honest
    bounds (see the `Count` schema). Places are resolved against the gazetteer.

    `fact.corrected` and `fact.retracted` need the `events:correct` scope. A dispatch
    or repatriation that may repeat a recorded fact is accepted with a warning that
    names it: from another source, if it is the same workers, record
    `fact.corroborated` instead; from the same source (`reason: same_source`), a report
    repeating its own fact is retracted, or the workers count twice.
    """
    events: list[EventInBase] = list(body.events) if isinstance(body, EventBatchIn) else [body]
    if len(events) > MAX_BATCH:
        raise HTTPException(413, f"A batch holds at most {MAX_BATCH} events; got {len(events)}.")
    if any(e.event_type in CORRECTING_TYPES for e in events) and (
        Scope.events_correct not in key.scopes
    ):
        raise HTTPException(
            403, f"Corrections and retractions need the scope {Scope.events_correct.value!r}."
        )
    idempotency = None
    if idempotency_key is not None:
        request_hash = hashlib.sha256(canonical_json(_as_json(body))).hexdigest()
        idempotency = IdempotencyRequest(idempotency_key, request_hash)
    outcome = ledger.store.append(
        new_events(events, ledger.gazetteer), principal=key.name, idempotency=idempotency
    )
    # Serialised by pydantic in one pass: a batch answers with a thousand envelopes, and
    # FastAPI's own path would validate them all again first.
    response = Response(
        outcome.result.model_dump_json(), status_code=201, media_type="application/json"
    )
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
        APPENDS_REPLAYED.inc()
    else:
        # Counted per type, not per event: finding a labelled child costs more than a batch's
        # other bookkeeping.
        for event_type, count in Counter(e.type for e in outcome.result.events).items():
            EVENTS_APPENDED.labels(type=event_type).inc(count)
    if len(outcome.result.events) == 1:
        response.headers["Location"] = f"/v1/events/{outcome.result.events[0].id}"
    return response


def _as_json(body: EventInBase | EventBatchIn) -> object:
    return body.model_dump(mode="json")


@router.get(
    "",
    summary="Read the log, in position order",
    responses=problem_responses(422),
)
def list_events(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_POSITION, description="Return events after this position.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    type: Annotated[list[EventType] | None, Query(description="Only these types.")] = None,
    stream: Annotated[str | None, Query(max_length=200)] = None,
    source_id: Annotated[str | None, Query(max_length=120)] = None,
    recorded_after: Timestamp | None = None,
    recorded_before: Timestamp | None = None,
    schema: Annotated[SchemaForm, SCHEMA_PARAMETER] = "stored",
) -> EventPage:
    """Every recorded event, oldest first. Follow `next` to page through; an app that
    keeps up with the ledger stores `last_position` and asks again with `after`.

    Example: `/v1/events?type=workers.dispatched&source_id=dailynk-2023-05-nk-workers-russia`.
    Add `schema=current` to read every payload in its type's current schema version.
    """
    events = read_events(
        conn,
        EventFilter(
            after=after,
            types=tuple(t.value for t in type or ()),
            stream=stream,
            source_id=source_id,
            recorded_after=recorded_after,
            recorded_before=recorded_before,
        ),
        limit,
    )
    last = events[-1].position if events else None
    full = len(events) == limit
    next_url = page_link(request, after=last) if full and last is not None else None
    link_next(response, next_url)
    return EventPage(events=in_schema(conn, events, schema), next=next_url, last_position=last)


@router.get(
    "/{event_id}",
    summary="One event by id",
    responses=problem_responses(404, 422),
)
def get_event(
    event_id: UUID,
    conn: ConnectionDep,
    schema: Annotated[SchemaForm, SCHEMA_PARAMETER] = "stored",
) -> RecordedEvent:
    """The event with this id, in its envelope: position, hash, who recorded it and when.
    `schema=current` reads its payload in its type's current schema version."""
    event = read_event(conn, event_id)
    if event is None:
        raise HTTPException(404, f"No event has the id {event_id}.")
    return in_schema(conn, [event], schema)[0]
