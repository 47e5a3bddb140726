"""Links to other pages of the same list."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request


def page_link(request: Request, **changes: int | str) -> str:
    """This request's path and query with `changes` applied, e.g. the next page."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    return request.url.path + "?" + urlencode([*kept, *((k, str(v)) for k, v in changes.items())])
