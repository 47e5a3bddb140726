"""A repeated read of a view, answered from the cache before any routing.

When an endpoint has computed a view, it files the bytes under what identifies
the request — its path, its query parameters (sorted), its `Accept` header —
and the head (position and views' generation) and date they hold for
(`file_for_repeats`). A later GET for the same thing, while the head has not
moved and no rebuild has run, is answered here: one shared
head read, one lookup, no parameter parsing or validation (the request that
filed the bytes passed them, and the same parameters pass the same way). Any
other request goes on to its endpoint, unchanged.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.serving.representations import Rendered, conditional, view_etag
from service.ledger import Ledger
from service.log.head import ViewHead

REPEATABLE_PATHS = frozenset({"/v1/deployments"})


def repeat_key(request: Request, head: ViewHead) -> Hashable:
    query = tuple(sorted(parse_qsl(request.scope["query_string"].decode("latin-1"), True)))
    today = datetime.now(UTC).date()  # views without as_of depend on the date
    accept = request.headers.get("accept", "")
    # The answer's links are absolute, on the address asked (unless LEDGER_PUBLIC_URL).
    base = request.base_url
    return ("repeat", request.scope["path"], query, accept, str(base), head, today)


def file_for_repeats(ledger: Ledger, request: Request, head: ViewHead, rendered: Rendered) -> None:
    if request.scope["path"] in REPEATABLE_PATHS:
        ledger.views.put(repeat_key(request, head), rendered)


class RepeatedReads:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["path"] not in REPEATABLE_PATHS
        ):
            await self.app(scope, receive, send)
            return
        ledger: Ledger = scope["app"].state.ledger
        request = Request(scope)
        head = await ledger.head.current()
        rendered: Rendered | None = ledger.views.get(repeat_key(request, head))
        if rendered is None:
            await self.app(scope, receive, send)
            return
        etag = view_etag(request, head, rendered.media_type)
        response = conditional(request, etag) or rendered.response(etag, request)
        await response(scope, receive, send)
