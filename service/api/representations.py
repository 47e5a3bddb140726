"""One view, several forms: JSON, CSV, GeoJSON; with an ETag and 304s.

The ETag is the head position the view was computed at plus the query, so a
client that sends `If-None-Match` pays nothing while the log is unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

CSV = "text/csv"
GEOJSON = "application/geo+json"


def view_etag(request: Request, head: int) -> str:
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    digest = hashlib.sha256(f"{request.url.path}?{query}".encode()).hexdigest()[:16]
    return f'W/"{head}-{digest}"'


def wanted_media_type(request: Request, offered: Iterable[str]) -> str:
    """The first offered media type the client asks for (`Accept` or `?format=`)."""
    fmt = request.query_params.get("format")
    accept = request.headers.get("accept", "")
    for media_type in offered:
        short = media_type.split("/")[-1].replace("geo+json", "geojson")
        if fmt == short or media_type in accept:
            return media_type
    return "application/json"


def conditional(request: Request, etag: str) -> Response | None:
    """304 when the client already holds this version of the view."""
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={"ETag": etag})
    return None


def csv_response(rows: Iterable[Mapping[str, Any]], etag: str, filename: str) -> Response:
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\n")
            writer.writeheader()
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return Response(
        buffer.getvalue(),
        media_type=f"{CSV}; charset=utf-8",
        headers={"ETag": etag, "Content-Disposition": f'inline; filename="{filename}.csv"'},
    )


def represent(
    request: Request,
    body: BaseModel,
    etag: str,
    *,
    csv_rows: Callable[[], Iterable[Mapping[str, Any]]] | None = None,
    geojson: Callable[[], dict[str, Any]] | None = None,
    filename: str = "view",
) -> Response:
    offered = [m for m, able in ((CSV, csv_rows), (GEOJSON, geojson)) if able is not None]
    media_type = wanted_media_type(request, offered)
    if media_type == CSV and csv_rows is not None:
        return csv_response(csv_rows(), etag, filename)
    if media_type == GEOJSON and geojson is not None:
        return JSONResponse(geojson(), media_type=GEOJSON, headers={"ETag": etag})
    return Response(body.model_dump_json(), media_type="application/json", headers={"ETag": etag})


def alternative_media_types(csv: bool = True, geojson: bool = False) -> dict[int | str, Any]:
    """OpenAPI: the forms a view's 200 comes in, and its 304."""
    content: dict[str, Any] = {}
    if csv:
        content[CSV] = {"schema": {"type": "string"}}
    if geojson:
        content[GEOJSON] = {"schema": {"type": "object"}}
    return {
        200: {"content": content},
        304: {"description": "Not modified: your copy (If-None-Match) is current."},
    }
