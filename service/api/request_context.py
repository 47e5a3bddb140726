"""Every request has an id, and one log line when it is answered.

The id is the client's `X-Request-ID` when it sent a sane one (a proxy's or a client's
trace id: letters, digits and `._:-`, at most 128), else a new one; the answer carries
it back in `X-Request-ID`, and every line logged while the request is served carries
it as `request_id`, so one request's lines can be found among many workers'. The access
line says method, path (without the query: it could carry anything), status and
duration; never a header, so never a key.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.metrics import OPEN_STREAMS, REQUEST_SECONDS

REQUEST_ID_HEADER = "X-Request-ID"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

access_log = structlog.get_logger("service.access")


def request_id_of(headers: Headers) -> str:
    given = headers.get(REQUEST_ID_HEADER, "")
    return given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


class RequestContext:
    """Outermost: the id is bound before anything else runs, the line written last."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(Headers(scope=scope))
        # For the one answer made outside this middleware, the 500 of an unexpected error
        # (Starlette's outermost handler): `request.state.request_id` (api/problems.py).
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500  # unless an answer starts: an exception escaped
        streaming = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, streaming
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                if headers.get("content-type", "").startswith("text/event-stream"):
                    streaming = True
                    OPEN_STREAMS.inc()
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                if streaming:
                    OPEN_STREAMS.dec()
                route = getattr(scope.get("route"), "path", "unmatched")  # a template, few
                method = scope["method"] if scope["method"] in METHODS else "other"
                REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)
                access_log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    duration_ms=round(seconds * 1000, 2),
                )
