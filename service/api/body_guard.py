"""What every request body passes before an endpoint reads it.

In this order, each refusal as cheap as it can be:
0. a request head (its path, query and headers) over LEDGER_MAX_HEADER_BYTES: 431 (the
   server, api/server_limits.py, bounds what it buffers of a head; this refuses a head
   that arrived whole in one read);
1. a NUL in the path or the query: 422 (api/nul_guard.py);
2. a write that needs an API key and sends none: 401 before its body is read, so a
   caller without a key cannot make the service read and scan megabytes;
3. a body that is not `application/json` in UTF-8: 415 (api/media_types.py), from the
   Content-Type before reading and from the first bytes after;
4. JSON nested deeper than 64 arrays or objects: 422 (api/limits.py), read from the
   bytes before anything parses them;
5. a NUL in the body's text: 422 naming the field.
Steps 4 and 5 run in a worker thread for a large body, so that the event loop (and
`/healthz`) goes on answering while it is scanned. BodySizeLimit, outside, bounds
what is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.auth import MISSING_KEY_CHALLENGE, MISSING_KEY_DETAIL
from service.api.limits import MAX_JSON_DEPTH, nested_deeper_than
from service.api.media_types import content_type_refusal, encoding_refusal
from service.api.nul_guard import Location, may_carry_nul, nul_in_address, nul_in_body
from service.api.problems import FieldProblem, pointer_of, problem_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SCANNED_INLINE_BYTES = 64 * 1024
"""A body up to this size is checked on the event loop (well under a millisecond);
a larger one in a worker thread."""

NUL_MESSAGE = "text may not contain the NUL character (U+0000)"


@dataclass(frozen=True)
class _TooDeep:
    pass


class GuardRequestBodies:
    """ASGI middleware; the body is read whole here (BodySizeLimit, outside, bounds it)."""

    def __init__(self, app: ASGIApp, max_head_bytes: int = 16 * 1024) -> None:
        self.app = app
        self.max_head_bytes = max_head_bytes
        self._keyed_operations: list[tuple[str, re.Pattern[str]]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _head_size(scope) > self.max_head_bytes:
            detail = f"The request's path, query and headers are over {self.max_head_bytes} bytes."
            await problem_response(431, detail)(scope, receive, send)
            return
        where = nul_in_address(scope)
        if where is not None:
            await _refuse_nul(where, scope, receive, send)
            return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "authorization" not in headers and await self._route_needs_key(scope):
            await _refuse_keyless(scope, receive, send)
            return
        content_type = headers.get("content-type")
        refusal = content_type_refusal(content_type) if _announces_body(headers) else None
        if refusal is not None:
            await _refuse_media_type(refusal, scope, receive, send)
            return
        messages = await _read_body(receive)
        body = b"".join(m.get("body", b"") for m in messages)
        if body:
            refusal = content_type_refusal(content_type)
            if refusal is None and content_type is not None:
                refusal = encoding_refusal(body, content_type)
            if refusal is not None:
                await _refuse_media_type(refusal, scope, receive, send)
                return
            if len(body) <= SCANNED_INLINE_BYTES:
                found = _scan(body)
            else:
                found = await anyio.to_thread.run_sync(_scan, body)
            if isinstance(found, _TooDeep):
                await _refuse_too_deep(scope, receive, send)
                return
            if found is not None:
                await _refuse_nul(("body", *found), scope, receive, send)
                return
        await self.app(scope, _replaying(messages, receive), send)

    async def _route_needs_key(self, scope: Scope) -> bool:
        """Whether the operation this request reaches asks for an API key, as the
        contract says (`security`); an address or method without one asks for none."""
        if self._keyed_operations is None:
            # The contract is built once, in seconds on a busy machine: not on the loop.
            contract = await anyio.to_thread.run_sync(scope["app"].openapi)
            self._keyed_operations = _keyed_operations(contract)
        method, path = scope["method"], scope["path"]
        return any(m == method and pattern.match(path) for m, pattern in self._keyed_operations)


def _keyed_operations(contract: dict[str, Any]) -> list[tuple[str, re.Pattern[str]]]:
    return [
        (method.upper(), compile_path(path)[0])
        for path, operations in contract.get("paths", {}).items()
        for method, operation in operations.items()
        if method.upper() in BODY_METHODS and operation.get("security")
    ]


def _head_size(scope: Scope) -> int:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    return (
        len(scope.get("raw_path") or b"")
        + len(scope["query_string"])
        + sum(len(name) + len(value) + 4 for name, value in headers)
    )


def _announces_body(headers: Headers) -> bool:
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def _scan(body: bytes) -> Location | _TooDeep | None:
    """What is wrong with a body's JSON text: nested too deep, or where it carries NUL."""
    if nested_deeper_than(body, MAX_JSON_DEPTH):
        return _TooDeep()
    return nul_in_body(body) if may_carry_nul(body) else None


async def _refuse_nul(where: Location, scope: Scope, receive: Receive, send: Send) -> None:
    if where[:1] == ("body",):
        where = where[1:]
    pointer, field = pointer_of(where)
    response = problem_response(
        422,
        f"{field or 'body'}: {NUL_MESSAGE}",
        errors=[FieldProblem(pointer=pointer, field=field, message=NUL_MESSAGE, type="nul")],
    )
    await response(scope, receive, send)


async def _refuse_keyless(scope: Scope, receive: Receive, send: Send) -> None:
    response = problem_response(401, MISSING_KEY_DETAIL, headers=MISSING_KEY_CHALLENGE)
    await response(scope, receive, send)


async def _refuse_media_type(detail: str, scope: Scope, receive: Receive, send: Send) -> None:
    await problem_response(415, detail)(scope, receive, send)


async def _refuse_too_deep(scope: Scope, receive: Receive, send: Send) -> None:
    message = f"arrays and objects may nest at most {MAX_JSON_DEPTH} deep"
    response = problem_response(
        422,
        f"body: {message}",
        slug="nested-too-deep",
        title="Nested too deep",
        errors=[FieldProblem(pointer="", field="", message=message, type="too_deep")],
    )
    await response(scope, receive, send)


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
