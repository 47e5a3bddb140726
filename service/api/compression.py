"""gzip for every compressible answer: the OpenAPI document, pages of the log, CSV,
Swagger's bundle, the desk's stylesheets.

The views the read pipeline serves carry their own gzip copy, made once and cached
(`Forms.gzip`): they come with `Content-Encoding` set, and the middleware passes an
answer that has one through as it is, so nothing is compressed twice. Event streams
are never buffered for compression (Starlette leaves `text/event-stream` alone).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware, IdentityResponder
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
