"""Links to other pages of the same list: absolute, so a client follows them as they
come, in the body's `next` and in a `Link: <…>; rel="next"` header (RFC 8288), which
generic HTTP clients and crawlers follow without knowing our JSON."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request, Response


def public_base(request: Request) -> str:
    """Where clients reach the service: `LEDGER_PUBLIC_URL` when set (behind a proxy the
    request's own host may be an internal one), else the request's scheme and host."""
    public_url: str | None = request.app.state.ledger.settings.public_url
    if public_url:
        return public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


def page_link(request: Request, **changes: int | str) -> str:
    """This request's URL with `changes` made to its query, e.g. the next page."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    query = urlencode([*kept, *((k, str(v)) for k, v in changes.items())])
    return f"{public_base(request)}{request.url.path}?{query}"


def link_next(response: Response, next_url: str | None) -> None:
    """The `Link` header beside a body's `next` (none on the last page)."""
    if next_url is not None:
        response.headers["Link"] = f'<{next_url}>; rel="next"'


NEXT_PAGE = (
    'The next page\'s absolute URL, also sent as a `Link: <…>; rel="next"` header; null on '
    "the last page."
)
"""The description of a page's `next` field."""
