"""Request bodies parsed by orjson: a batch of a thousand events is a large JSON text.

FastAPI parses a JSON body with `Request.json()` (the standard library's
`json.loads`), which took about a tenth of a batch append's CPU. orjson parses
the same text several times faster and to the same values, with one exception:
an integer beyond 64 bits becomes a float, so a body with a run of 19 digits or
more (a long integer, or a string that only looks like one) goes to `json.loads`.
So does whatever orjson refuses: a body the standard library accepts (UTF-16
text, NaN) still means what it meant, and a broken one gets the same error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

_MAYBE_BEYOND_64_BITS = re.compile(rb"[0-9]{19}")


def parse_json(body: bytes) -> Any:
    """What `json.loads(body)` returns or raises, faster."""
    if _MAYBE_BEYOND_64_BITS.search(body) is None:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    return json.loads(body)


class OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class OrjsonRoute(APIRoute):
    """`APIRouter(route_class=OrjsonRoute)`: its endpoints' JSON bodies go through orjson."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_with_orjson(request: Request) -> Response:
            return await handle(OrjsonRequest(request.scope, request.receive))

        return handle_with_orjson
