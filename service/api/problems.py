"""RFC 9457 problem details: every error the API returns, in one place.

Each domain error maps to one problem `type`; validation errors list the
fields at fault as JSON pointers into the request.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from service.access.keys import KeyNameTaken, LastAdminKey, UnknownKey
from service.domain import errors as domain
from service.domain.errors import FieldValueError
from service.domain.events import EventType

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/problems/"


class FieldProblem(BaseModel):
    pointer: str = Field(description="JSON pointer into the request, e.g. `/data/count/min`.")
    field: str = Field(description="The same path, dotted: `data.count.min`.")
    message: str
    type: str = Field(description="Machine-readable reason, e.g. `missing`, `value_error`.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["/problems/validation-error"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None
    suggestions: list[str] | None = Field(
        default=None,
        description="For an unknown or ambiguous place or country: the closest matches.",
    )
    current_version: int | None = Field(
        default=None, description="For a version conflict: the stream's version now."
    )


# domain error → (status, problem slug, title)
_DOMAIN_PROBLEMS: dict[type[domain.LedgerError], tuple[int, str, str]] = {
    domain.UnknownPlace: (422, "unknown-place", "Unknown place"),
    domain.AmbiguousPlace: (422, "ambiguous-place", "Ambiguous place"),
    domain.UnknownCountry: (422, "unknown-country", "Unknown country"),
    domain.UnknownSource: (422, "unknown-source", "Unknown source"),
    domain.SourceAlreadyRecorded: (409, "source-already-recorded", "Source already recorded"),
    domain.UnknownTarget: (422, "unknown-target", "Unknown target event"),
    domain.TargetRetracted: (409, "target-retracted", "Target was retracted"),
    domain.InvalidReplacement: (422, "invalid-replacement", "Invalid replacement payload"),
    domain.SelfCorroboration: (422, "self-corroboration", "A source cannot corroborate itself"),
    domain.WrongExpectedVersion: (409, "wrong-expected-version", "Stream version conflict"),
    domain.IdempotencyConflict: (422, "idempotency-key-reused", "Idempotency-Key reused"),
    domain.CommitOutcomeUnknown: (503, "outcome-unknown", "Outcome unknown"),
    KeyNameTaken: (409, "key-name-taken", "Key name taken"),
    LastAdminKey: (409, "last-admin-key", "The last admin key"),
    UnknownKey: (404, "not-found", "Not found"),
}

_STATUS_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
    431: "request-header-fields-too-large",
    500: "internal-error",
    503: "unavailable",
}

# Limits on what one request or client may ask (api/body_guard.py, api/rate_limits.py,
# the event stream): slug → (status, title).
LIMIT_PROBLEMS: dict[str, tuple[int, str]] = {
    "nested-too-deep": (422, "Nested too deep"),
    "too-many-streams": (429, "Too many streams"),
    "streams-full": (503, "Streams full"),
}

# RFC 9110 names; Python 3.11's HTTPStatus still has the older phrase for 413.
_STATUS_TITLES = {413: "Content Too Large"}


def status_title(status: int) -> str:
    return _STATUS_TITLES.get(status) or HTTPStatus(status).phrase


# Tags that pydantic puts into error locations for the body's unions (one event or a
# batch; then the event's type); not fields a user sent.
_EVENT_TAGS = {t.value for t in EventType}
_UNION_TAG_ERRORS = {"union_tag_invalid", "union_tag_not_found"}


def known_problems() -> dict[str, tuple[int, str]]:
    """Every problem type the API answers with: slug → (status, title)."""
    found = {slug: (status, status_title(status)) for status, slug in _STATUS_SLUGS.items()}
    found.update({slug: (status, title) for status, slug, title in _DOMAIN_PROBLEMS.values()})
    found.update(LIMIT_PROBLEMS)
    return found


def problem_response(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = Problem(
        type=PROBLEM_BASE + (slug or _STATUS_SLUGS.get(status, "error")),
        title=title or status_title(status),
        status=status,
        detail=detail,
        **extra,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def pointer_of(location: Sequence[str | int]) -> tuple[str, str]:
    """RFC 6901 pointer and dotted path; the empty location is the whole document ("")."""
    parts = [str(p) for p in location]
    pointer = "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)
    return pointer, ".".join(parts)


def _request_location(loc: Sequence[str | int]) -> list[str | int]:
    """The path a user sent: `body` and the union tags pydantic inserts taken out."""
    parts = list(loc)
    if parts[:1] != ["body"]:
        return parts  # query, path, header: keep where the value was sent
    parts = parts[1:]
    if parts[:1] == ["single"]:
        parts = parts[2:] if parts[1:2] and parts[1] in _EVENT_TAGS else parts[1:]
    elif parts[:1] == ["batch"]:
        parts = parts[1:]
        if len(parts) > 2 and parts[0] == "events" and parts[2] in _EVENT_TAGS:
            del parts[2]
    return parts


def _field_problem(error: dict[str, Any]) -> FieldProblem:
    ctx = error.get("ctx") or {}
    error_type = str(error.get("type", ""))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if error_type == "json_invalid":
        # FastAPI puts the character offset where a field would be; it is no field.
        offset = error.get("loc", ("body", None))[-1]
        return FieldProblem(
            pointer="",
            field="",
            message=f"{message}: {ctx.get('error', 'not JSON')} at character {offset}",
            type=error_type,
        )
    location = _request_location(error.get("loc", ()))
    cause = ctx.get("error")
    if isinstance(cause, FieldValueError):
        location.append(cause.field)
    if error_type in _UNION_TAG_ERRORS:
        location.append(str(ctx.get("discriminator", "type")).strip("'"))
    pointer, dotted = pointer_of(location)
    return FieldProblem(pointer=pointer, field=dotted, message=message, type=error.get("type", ""))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only locations and messages are echoed, never the input: raw bytes in a
    # malformed body would not encode.
    problems = [_field_problem(e) for e in exc.errors()]
    first = problems[0] if problems else None
    detail = f"{first.field or 'request'}: {first.message}" if first else "Invalid request."
    if len(problems) > 1:
        detail += f" (and {len(problems) - 1} more)"
    return problem_response(422, detail, errors=problems)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem_response(exc.status_code, detail, headers=headers or None)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    # Starlette names only the first matching route's methods. Ask the router, method
    # by method, which ones this path answers: included routers nest their routes
    # (FastAPI's `_IncludedRouter`), so reading `route.methods` would miss them.
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


async def _ledger_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, domain.LedgerError)
    status, slug, title = next(
        (v for k, v in _DOMAIN_PROBLEMS.items() if isinstance(exc, k)),
        (422, "validation-error", "Invalid request"),
    )
    extra: dict[str, Any] = {}
    if exc.pointer:
        pointer, dotted = pointer_of(exc.pointer)
        extra["errors"] = [
            FieldProblem(pointer=pointer, field=dotted, message=exc.detail, type=slug)
        ]
    if isinstance(exc, domain.UnknownPlace | domain.AmbiguousPlace | domain.UnknownCountry):
        extra["suggestions"] = exc.suggestions
    if isinstance(exc, domain.WrongExpectedVersion):
        extra["current_version"] = exc.current
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return problem_response(status, exc.detail, slug=slug, title=title, headers=headers, **extra)


RETRY_AFTER_SECONDS = 2
"""What a 503 asks a client to wait before it tries again."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that record nothing: their 503 need not say what became of a write."""


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database refused, timed out or vanished before anything was committed (a lost
    COMMIT is `CommitOutcomeUnknown`): a 503 the client may retry, not a 500."""
    log.warning("database unavailable: %s", type(exc).__name__)
    return database_unavailable_problem(nothing_recorded=request.method not in SAFE_METHODS)


def database_unavailable_problem(*, nothing_recorded: bool) -> JSONResponse:
    detail = "The database is unavailable or too slow to answer right now; try again shortly."
    if nothing_recorded:
        detail += " Nothing was recorded."
    return problem_response(
        503,
        detail,
        slug="database-unavailable",
        title="Database unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def outcome_unknown_problem(detail: str) -> JSONResponse:
    """A write that may still be recorded after this answer: only a retry with the same
    Idempotency-Key is safe."""
    status, slug, title = _DOMAIN_PROBLEMS[domain.CommitOutcomeUnknown]
    return problem_response(
        status,
        detail,
        slug=slug,
        title=title,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Answered outside the middleware that gives every request its id: given here.
    request_id: str | None = getattr(request.state, "request_id", None)
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        log.exception("unhandled error", exc_info=exc)
    detail = "The ledger failed to answer."
    if request.method not in SAFE_METHODS:
        detail += (
            " A write may or may not have been recorded: retry with the same "
            "Idempotency-Key, or look in GET /v1/events before sending it again."
        )
    headers = {"X-Request-ID": request_id} if request_id else None
    return problem_response(500, detail, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(domain.LedgerError, _ledger_error)
    for unavailable in (OperationalError, InterfaceError, SQLAlchemyTimeoutError):
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems an operation can answer."""
    return {status: {"model": Problem, "description": status_title(status)} for status in statuses}
