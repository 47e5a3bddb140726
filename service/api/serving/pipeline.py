"""The steps every projection endpoint takes: position, ETag, 304, cache, form."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy import Connection

from service.api.serving.representations import conditional, represent, view_etag
from service.api.serving.time_axes import TimeAxes
from service.ledger import Ledger
from service.log.head import read_view_head

View = TypeVar("View", bound=BaseModel)


def serve_view(
    request: Request,
    conn: Connection,
    ledger: Ledger,
    axes: TimeAxes,
    key: Hashable,
    compute: Callable[[int, int], View],
    *,
    csv_rows: Callable[[View], Iterable[Mapping[str, Any]]] | None = None,
    geojson: Callable[[View], dict[str, Any]] | None = None,
    filename: str = "view",
) -> Response:
    """`compute(position, head)` runs only when neither the client nor the cache has it."""
    head = read_view_head(conn)  # with the views' generation: a rebuild is a change
    position = axes.position_at(conn, head.position)
    etag = view_etag(request, head)
    if (not_modified := conditional(request, etag)) is not None:
        return not_modified
    today = datetime.now(UTC).date()  # views without as_of depend on the date too
    view = ledger.computed.get_or_compute(
        (key, position, head, today), lambda: compute(position, head.position)
    )
    return represent(
        request,
        view,
        etag,
        csv_rows=(lambda: csv_rows(view)) if csv_rows else None,
        geojson=(lambda: geojson(view)) if geojson else None,
        filename=filename,
    )
