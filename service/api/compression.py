"""gzip for every compressible answer: the OpenAPI document, pages of the log, CSV,
Swagger's bundle, the desk's stylesheets.

The views the read pipeline serves carry their own gzip copy, made once and cached
(`Forms.gzip`): they come with `Content-Encoding` set, and the middleware passes an
answer that has one through as it is, so nothing is compressed twice. Event streams
are never buffered for compression (Starlette leaves `text/event-stream` alone). Static
files keep a gzip copy too (`PrecompressedFiles`): Swagger's bundle is 1.7 MB.
"""

from __future__ import annotations

import gzip
import threading
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import (
    DEFAULT_EXCLUDED_CONTENT_TYPES,
    GZipMiddleware,
    IdentityResponder,
)
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.serving.representations import GZIP_FROM_BYTES, gzip_accepted

GZIP_LEVEL = 6
"""zlib's default: within a few percent of level 9's size at half its time."""


class Compression(GZipMiddleware):
    """Starlette's gzip, taking `Accept-Encoding` as RFC 9110 does: `gzip;q=0` is a no."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not gzip_accepted(
            Headers(scope=scope).get("accept-encoding", "")
        ):
            identity = IdentityResponder(
                self.app, self.minimum_size, exclude_content_types=self.exclude_content_types
            )
            await identity(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class OneVary:
    """Names each field once in `Vary`: a view already says `Accept, Accept-Encoding`, and
    the gzip middleware adds `Accept-Encoding` to whatever it sees."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_one_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                names = [n.strip() for v in headers.getlist("vary") for n in v.split(",")]
                if names:
                    unique = list(dict.fromkeys(n for n in names if n))
                    headers["Vary"] = ", ".join(unique)
            await send(message)

        await self.app(scope, receive, send_with_one_vary)


def compress_answers(app: FastAPI) -> None:
    app.add_middleware(Compression, minimum_size=GZIP_FROM_BYTES, compresslevel=GZIP_LEVEL)
    app.add_middleware(OneVary)  # outside the compression, whose Vary it sees


class PrecompressedFiles(StaticFiles):
    """Static files, each gzipped once per process when first asked for gzip and then sent
    from that copy, where the middleware would compress it again for every reader (the
    Swagger bundle, 1.7 MB, costs 60 ms of a core each time). The answer has the headers
    the middleware gave it (the file's ETag and Last-Modified, `Content-Encoding: gzip`,
    `Vary: Accept-Encoding`), and passes through the middleware as it is. A copy is kept
    with the file's ETag: a file changed on disk is gzipped again. A range, a HEAD and a
    conditional request are answered as before, from the file."""

    def __init__(self, *, directory: Path) -> None:
        super().__init__(directory=directory)
        self._gzipped: dict[str, tuple[str, bytes]] = {}
        self._gzipping = threading.Lock()

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        request = Headers(scope=scope)
        if (
            scope["method"] != "GET"
            or "range" in request
            or not isinstance(response, FileResponse)
            or response.status_code != 200
            or not gzip_accepted(request.get("accept-encoding", ""))
            or not _compressible(response)
        ):
            return response
        headers = {k: v for k, v in response.headers.items() if k != "content-length"}
        headers.update({"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        file, etag = str(response.path), response.headers["etag"]
        kept = self._gzipped.get(file)
        if kept is None or kept[0] != etag:
            kept = await anyio.to_thread.run_sync(self._gzip_copy, file, etag)
        return Response(kept[1], headers=headers)

    def _gzip_copy(self, file: str, etag: str) -> tuple[str, bytes]:
        """In a worker thread; two first readers at once make one copy."""
        with self._gzipping:
            kept = self._gzipped.get(file)
            if kept is None or kept[0] != etag:
                kept = self._gzipped[file] = (etag, gzip_file(file))
            return kept


def gzip_file(file: str) -> bytes:
    return gzip.compress(Path(file).read_bytes(), compresslevel=GZIP_LEVEL)


def _compressible(response: FileResponse) -> bool:
    """As the middleware judges: large enough, and not of a type compressed already."""
    size = response.stat_result.st_size if response.stat_result else 0
    media_type = (response.media_type or "").partition(";")[0].strip().lower()
    kinds = {media_type, media_type.partition("/")[0] + "/*"}
    return size >= GZIP_FROM_BYTES and kinds.isdisjoint(DEFAULT_EXCLUDED_CONTENT_TYPES)
