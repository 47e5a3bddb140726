"""The one read pipeline: every view endpoint parses its question, then calls `serve_view`.

The steps: the head (one shared read, on the event loop), the form the client asked
for (or a 406), the ETag of that form and a 304 when the client holds this version,
the rendered bytes from the cache when another request asked the same, and only then
a thread, a connection, the position the time axes name, the view computed and
rendered in that form.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from service.api.serving.negotiation import CSV, GEOJSON, JSON, wanted_media_type
from service.api.serving.repeated_reads import file_for_repeats
from service.api.serving.representations import Rendered, conditional, render, view_etag
from service.api.serving.time_axes import TimeAxes
from service.ledger import Ledger

View = TypeVar("View", bound=BaseModel)


@dataclass(frozen=True)
class Forms(Generic[View]):
    """The forms a view comes in besides JSON, and how its JSON may be made faster."""

    csv_rows: Callable[[View], Iterable[Mapping[str, Any]]] | None = None
    geojson: Callable[[View], dict[str, Any]] | None = None
    filename: str = "view"
    json: Callable[[Connection, int, int], bytes] | None = None
    """`json(conn, position, head)`: exactly `compute(…).model_dump_json()`, made without
    the model (a large view's rows kept as JSON; a test holds the two paths equal)."""
    gzip: bool = True
    """Keep a gzip copy beside the bytes (of a view of 1 KiB or more), made once for every
    reader that takes gzip: the compression middleware would make it again per request."""
    unavailable: Mapping[str, str] = field(default_factory=dict)
    """Why a form is not offered for this question, by format name (the 406 says it)."""

    def offered(self) -> list[str]:
        """JSON first: what a client that takes anything gets."""
        alternatives = ((CSV, self.csv_rows), (GEOJSON, self.geojson))
        return [JSON, *(media_type for media_type, able in alternatives if able is not None)]


async def serve_view(
    request: Request,
    ledger: Ledger,
    axes: TimeAxes,
    key: Hashable,
    compute: Callable[[Connection, int, int], View],
    forms: Forms[View] | None = None,
) -> Response:
    """`compute(conn, position, head)` runs only when neither the client nor the cache
    has the view at this head; `key` names the question (the endpoint and its parameters
    other than the time axes)."""
    forms = forms or Forms()
    head = await ledger.head.current()  # with the views' generation: a rebuild is a change
    media_type = wanted_media_type(request, forms.offered(), forms.unavailable)
    etag = view_etag(request, head, media_type)
    if (not_modified := conditional(request, etag)) is not None:
        return not_modified
    today = datetime.now(UTC).date()  # views without as_of depend on the date too
    cache_key = (key, head, today, axes.known_at, axes.at_position, media_type)
    rendered: Rendered | None = ledger.views.get(cache_key)
    if rendered is None:
        rendered = await run_in_threadpool(
            ledger.views.get_or_compute,
            cache_key,
            lambda: _rendered(ledger, axes, head.position, compute, forms, media_type),
        )
    file_for_repeats(ledger, request, head, rendered)
    return rendered.response(etag, request)


def _rendered(
    ledger: Ledger,
    axes: TimeAxes,
    head: int,
    compute: Callable[[Connection, int, int], View],
    forms: Forms[View],
    media_type: str,
) -> Rendered:
    with ledger.engine.connect() as conn:
        position = axes.position_at(conn, head)
        if media_type == JSON and forms.json is not None:
            rendered = Rendered(forms.json(conn, position, head), media_type)
            return rendered.compressed() if forms.gzip else rendered
        # Not cached as a model, only as bytes: a large view's tens of thousands of
        # objects, kept, would make the garbage collector walk them all again and again
        # (seen: 100-170 ms pauses).
        view = compute(conn, position, head)
    csv_rows, geojson = forms.csv_rows, forms.geojson
    rendered = render(
        media_type,
        view,
        csv_rows=(lambda: csv_rows(view)) if csv_rows else None,
        geojson=(lambda: geojson(view)) if geojson else None,
        filename=forms.filename,
    )
    return rendered.compressed() if forms.gzip else rendered
