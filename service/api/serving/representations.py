"""One view, several forms: JSON, CSV, GeoJSON; with an ETag and 304s.

The ETag is the head the view was computed at (the log's position and the views'
generation) plus the query and the form, so a client that sends `If-None-Match` pays
nothing while the log is unchanged, gets the view anew after a rebuild, and a cache
never hands out the JSON for the CSV: each form has its own ETag, and every answer
says `Vary: Accept, Accept-Encoding`.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from service.api.serving.csv_cells import spreadsheet_safe
from service.api.serving.negotiation import CSV, GEOJSON, JSON
from service.log.head import ViewHead

NEGOTIATED = "Accept, Accept-Encoding"
"""The `Vary` of every view: its form follows `Accept`, its encoding `Accept-Encoding`."""


def view_etag(request: Request, head: ViewHead, media_type: str) -> str:
    """The version of this view in this form: the head, and a digest of the path, the
    query and the media type (without parameters such as `charset`)."""
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    form = media_type.split(";")[0].strip()
    digest = hashlib.sha256(f"{request.url.path}?{query} {form}".encode()).hexdigest()[:16]
    return f'W/"{head.position}.{head.generation}-{digest}"'


def conditional(request: Request, etag: str) -> Response | None:
    """304 when the client already holds this version of the view."""
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={"ETag": etag, "Vary": NEGOTIATED})
    return None


GZIP_FROM_BYTES = 1024
GZIP_FIRST_LEVEL = 3
GZIP_KEPT_LEVEL = 6
"""A view is gzipped twice: quickly for the reader waiting for it, then smaller, off the
request's path, for every later reader. Measured on a view of every city at 1M events
(1.4 MB of JSON): level 3 makes 226 KB in 7.2 ms, level 6 191 KB in 16.5 ms."""
RECOMPRESS_FROM_BYTES = 64 * 1024


class _Recompressor:
    """Makes the kept gzip copies in a thread of its own (zlib runs without the GIL), one
    at a time; a view rendered while it is busy keeps its first copy."""

    def __init__(self) -> None:
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gzip-kept")
        self._idle = threading.Semaphore(1)

    def submit(self, rendered: Rendered) -> None:
        if not self._idle.acquire(blocking=False):
            return
        try:
            self._worker.submit(self._recompress, rendered)
        except RuntimeError:  # shutting down: keep the first copy
            self._idle.release()

    def _recompress(self, rendered: Rendered) -> None:
        try:
            rendered.gzipped = gzip.compress(rendered.content, compresslevel=GZIP_KEPT_LEVEL)
        finally:
            self._idle.release()

    def settle(self) -> None:
        """Wait for the copy being made (for tests)."""
        self._worker.submit(lambda: None).result()


RECOMPRESSOR = _Recompressor()


@dataclass
class Rendered:
    """A representation ready to send, and to send again: bytes, media type, headers
    (all but the ETag, which names the head it is served at). `gzipped` may be replaced
    once by a smaller copy of the same content (`compressed`): a reader sends one or the
    other, both whole."""

    content: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...] = ()
    gzipped: bytes | None = None

    def size(self) -> int:
        """Bytes held."""
        return len(self.content) + len(self.gzipped or b"")

    def compressed(self) -> Rendered:
        """With a gzip copy for every later request (a view of every city runs to megabytes
        of JSON, a seventh of that compressed): a quick one now, a smaller one soon."""
        if self.gzipped is not None or len(self.content) < GZIP_FROM_BYTES:
            return self
        first = replace(self, gzipped=gzip.compress(self.content, compresslevel=GZIP_FIRST_LEVEL))
        if len(self.content) >= RECOMPRESS_FROM_BYTES:
            RECOMPRESSOR.submit(first)
        return first

    def response(self, etag: str, request: Request | None = None) -> Response:
        headers = {"ETag": etag, "Vary": NEGOTIATED, **dict(self.headers)}
        content = self.content
        if self.gzipped is not None and request is not None and accepts_gzip(request):
            headers["Content-Encoding"] = "gzip"
            content = self.gzipped
        return Response(content, media_type=self.media_type, headers=headers)


def accepts_gzip(request: Request) -> bool:
    return gzip_accepted(request.headers.get("accept-encoding", ""))


def gzip_accepted(accept_encoding: str) -> bool:
    """Whether an `Accept-Encoding` takes gzip (`gzip;q=0` refuses it)."""
    for coding in accept_encoding.split(","):
        name, _, params = coding.partition(";")
        if name.strip().lower() in ("gzip", "*"):
            weight = params.strip().removeprefix("q=").strip()
            return weight == "" or _positive(weight)
    return False


def _positive(weight: str) -> bool:
    try:
        return float(weight) > 0
    except ValueError:
        return False


def csv_rendered(rows: Iterable[Mapping[str, Any]], filename: str) -> Rendered:
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\n")
            writer.writeheader()
        writer.writerow({k: "" if v is None else spreadsheet_safe(v) for k, v in row.items()})
    return Rendered(
        buffer.getvalue().encode("utf-8"),
        f"{CSV}; charset=utf-8",
        (("Content-Disposition", f'inline; filename="{filename}.csv"'),),
    )


def render(
    media_type: str,
    body: BaseModel,
    *,
    csv_rows: Callable[[], Iterable[Mapping[str, Any]]] | None = None,
    geojson: Callable[[], dict[str, Any]] | None = None,
    filename: str = "view",
) -> Rendered:
    """The view in the form `wanted_media_type` chose."""
    if media_type == CSV and csv_rows is not None:
        return csv_rendered(csv_rows(), filename)
    if media_type == GEOJSON and geojson is not None:
        return Rendered(bytes(JSONResponse(geojson()).body), GEOJSON)
    return Rendered(body.model_dump_json().encode(), JSON)


def alternative_media_types(csv: bool = True, geojson: bool = False) -> dict[int | str, Any]:
    """OpenAPI: the forms a view's 200 comes in, its 304, and the 406 for other forms."""
    content: dict[str, Any] = {}
    if csv:
        content[CSV] = {"schema": {"type": "string"}}
    if geojson:
        content[GEOJSON] = {"schema": {"type": "object"}}
    return {
        200: {"content": content},
        304: {"description": "Not modified: your copy (If-None-Match) is current."},
        406: {
            "description": "Not acceptable: the view does not come in the form asked for "
            "(`format` or `Accept`); the problem lists the forms it comes in.",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        },
    }
