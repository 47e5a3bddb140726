"""Refuse request bodies over the size limit before reading them whole."""

from __future__ import annotations

import json
import re
from itertools import accumulate

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, status_title


class BodySizeLimit:
    """413 for a body whose Content-Length, or whose streamed bytes, pass `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self._detail())
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "type": PROBLEM_BASE + "payload-too-large",
                "title": status_title(413),
                "status": 413,
                "detail": self._detail(),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _detail(self) -> str:
        return f"The request body is over {self.max_bytes} bytes; send fewer events per batch."


class _TooLarge(HTTPException):
    """Raised from `receive`: an HTTPException, so that FastAPI's body parsing passes it
    on to the problem handler (any other error there becomes a 400 "error parsing the
    body")."""

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail)


MAX_JSON_DEPTH = 64
"""Arrays and objects nested deeper than this are refused. An event is 5 deep; a batch
of them 7. Parsing and validating a deeper document recurses once a level: at a few
thousand levels Python's recursion limit turned it into a 500."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_STEP = tuple(1 if byte in b"[{" else -1 if byte in b"]}" else 0 for byte in range(256))


def nested_deeper_than(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than `limit` deep.

    Read from the bytes before any parsing, in passes that run in C: strings taken
    out, the brackets kept, and the deepest running count of open ones found, a slice
    at a time so that a thread running it lets the others run between slices (a
    hostile 1 MiB of brackets takes about 0.15 s of CPU). A body with at most `limit`
    brackets is not scanned at all."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    for start in range(0, len(brackets), _SLICE):
        running = list(
            accumulate(map(_STEP.__getitem__, brackets[start : start + _SLICE]), initial=depth)
        )
        if max(running) > limit:
            return True
        depth = running[-1]
    return False


_SLICE = 32 * 1024
