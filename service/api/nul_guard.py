"""Refuse the NUL character (U+0000) wherever a request carries text.

PostgreSQL cannot store NUL in text or JSON; SQLite can. Unchecked, the same
request would be recorded on one backend and fail with a 500 on the other. No
report's words contain NUL, so a request carrying it, in its body (as the JSON
escape `\\u0000`), its path or its query, is refused up front on both, with a
422 that names where.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.problems import FieldProblem, pointer_of, problem_response

NUL = "\x00"
NUL_IN_JSON = b"\\u0000"  # JSON cannot carry a raw NUL byte inside a string
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Location = tuple[str | int, ...]


class RefuseNul:
    """ASGI middleware; the body is read whole here (BodySizeLimit, outside, bounds it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _in_address(scope)
        if where is None and scope["method"] in BODY_METHODS:
            messages = await _read_body(receive)
            where = _in_body(b"".join(m.get("body", b"") for m in messages))
            receive = _replaying(messages, receive)
        if where is None:
            await self.app(scope, receive, send)
            return
        pointer, field = pointer_of(where)
        message = "text may not contain the NUL character (U+0000)"
        response = problem_response(
            422,
            f"{field or 'body'}: {message}",
            errors=[FieldProblem(pointer=pointer, field=field, message=message, type="nul")],
        )
        await response(scope, receive, send)


def _in_address(scope: Scope) -> Location | None:
    if NUL in scope["path"]:
        return ("path",)
    if b"%00" in scope["query_string"]:
        for name, value in parse_qsl(scope["query_string"].decode("latin-1"), True):
            if NUL in name or NUL in value:
                return ("query", name.replace(NUL, ""))
    return None


def _in_body(body: bytes) -> Location | None:
    if NUL_IN_JSON not in body:
        return None
    try:
        document = json.loads(body)
    except ValueError:  # not JSON: the endpoint says so itself
        return None
    return _find_nul(document, ())


def _find_nul(value: object, location: Location) -> Location | None:
    if isinstance(value, str):
        return location if NUL in value else None
    items: Sequence[tuple[str | int, object]] = ()
    if isinstance(value, dict):
        for key in value:
            if NUL in key:
                return location
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, item in items:
        found = _find_nul(item, (*location, key))
        if found is not None:
            return found
    return None


async def _read_body(receive: Receive) -> list[Message]:
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that hands out the messages already read, then carries on."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
