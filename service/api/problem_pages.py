"""`/problems/{slug}`: the page a problem's `type` names, saying what went wrong and what
to do. A browser gets a small HTML page; a program asking for JSON gets the same as
`{type, title, status, detail}`."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from service.api.problems import PROBLEM_BASE, known_problems

router = APIRouter(include_in_schema=False)

EXPLANATIONS: dict[str, str] = {
    "unknown-place": "The gazetteer knows no place by that name. The problem lists the "
    "closest names as `suggestions`; find others with `GET /v1/places?q=…`.",
    "ambiguous-place": "Several places have that name. Send the `place_id` of the one you "
    "mean (listed in `suggestions`), or add its `country`.",
    "unknown-country": "A `country` filter takes a two-letter ISO code (`RU`) or a "
    "country's name in English, Russian, Korean or Chinese. The problem lists the closest "
    "countries as `suggestions`; a city or region goes in `place` instead.",
    "unknown-source": "An event cites a source that is not recorded yet. Record the source "
    "(`source.recorded`) first, in the same batch or before.",
    "source-already-recorded": "That source id is taken. Cite the recorded source, or "
    "choose another id for another document.",
    "unknown-target": "A correction, retraction or corroboration names an event the log "
    "does not hold.",
    "target-retracted": "The event was retracted: it can no longer be corrected or corroborated.",
    "invalid-replacement": "A correction's replacement is not a valid payload of the "
    "corrected event's type; `errors` names the field.",
    "self-corroboration": "A source cannot corroborate a fact taken from itself: "
    "corroboration comes from another source.",
    "wrong-expected-version": "The stream changed since you read it (`current_version` "
    "says where it is now). Read it again, then send with the new `expected_version`.",
    "idempotency-key-reused": "That `Idempotency-Key` was used with another body. Use a new "
    "key for a new request; the same key repeats only the very same request.",
    "key-name-taken": "An API key already has that name. Choose another.",
    "last-admin-key": "That is the last admin key that works: revoking it would lock every "
    "admin out. Create another admin key first, then revoke this one.",
    "not-found": "Nothing is at that address, or the id names nothing.",
    "bad-request": "The request could not be read, e.g. a body that is not JSON.",
    "unauthorized": "This needs an API key: send `Authorization: Bearer <key>` (in Swagger "
    "UI, press Authorize).",
    "forbidden": "The key is valid but lacks the scope this needs (`events:write`, "
    "`events:correct` or `admin`).",
    "method-not-allowed": "That address does not answer this method; the `Allow` header "
    "lists the ones it does.",
    "not-acceptable": "The service cannot answer in the media type asked for in `Accept`.",
    "conflict": "The request conflicts with what the ledger holds.",
    "payload-too-large": "The body is over the size limit: send fewer events per batch.",
    "unsupported-media-type": "Send the body as `application/json` in UTF-8 (no charset, "
    "or `charset=utf-8`): other media types, other charsets and UTF-16 or UTF-32 bytes are "
    "refused.",
    "nested-too-deep": "Arrays and objects in the body nest more than 64 deep; no event "
    "needs more than a few levels.",
    "too-many-requests": "This key or address sent more requests than its budget for the "
    "minute (reads, writes and failed authentications each have one). Wait as "
    "`Retry-After` says; the `RateLimit-*` headers tell the budget, what is left and when "
    "it resets.",
    "request-header-fields-too-large": "The request's path, query and headers together "
    "are over 16 KiB (LEDGER_MAX_HEADER_BYTES). Send fewer or shorter headers.",
    "too-many-streams": "This address holds as many open event streams as it may. Close "
    "one (or share one stream among readers) and connect again.",
    "streams-full": "The service holds as many open event streams as it may, from all "
    "readers. Try again later, as `Retry-After` says.",
    "validation-error": "A field is missing or has a value the API does not take; "
    "`errors` lists each, with a JSON pointer into your request.",
    "internal-error": "The ledger failed to answer. Nothing was recorded; try again, and "
    "tell the maintainers if it persists.",
    "outcome-unknown": "The database lost its connection while committing: the events may "
    "or may not be recorded. Send the same request again with the same `Idempotency-Key`: "
    "it records nothing twice.",
    "database-unavailable": "The database refused, timed out or could not be reached. "
    "Nothing was recorded; wait as `Retry-After` says and try again.",
    "unavailable": "The service is not ready yet (starting, or its database is behind). "
    "Try again shortly.",
}

OTHER_PROBLEMS: dict[str, tuple[int, str]] = {
    # answered by handlers of their own, outside the tables of api/problems.py
    "database-unavailable": (503, "Database unavailable"),
}

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} — Labor Ledger</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<main>
<h1>{title}</h1>
<p>HTTP status <strong>{status}</strong>. Problem type <code>{type}</code>.</p>
<p>{explanation}</p>
<p><a href="/docs">The API reference</a> · <a href="/">The desk</a></p>
</main>
</body>
</html>
"""


@router.get("/problems/{slug}")
def problem_page(slug: str, request: Request) -> Response:
    problem = (known_problems() | OTHER_PROBLEMS).get(slug)
    if problem is None:
        raise HTTPException(404, f"No problem type {slug!r}: see /docs for the ones there are.")
    status, title = problem
    explanation = EXPLANATIONS.get(slug, title + ".")
    if _wants_json(request):
        return JSONResponse(
            {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": explanation}
        )
    return HTMLResponse(
        PAGE.format(
            title=escape(title),
            status=status,
            type=escape(PROBLEM_BASE + slug),
            explanation=escape(explanation).replace("`", ""),
        )
    )


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept
