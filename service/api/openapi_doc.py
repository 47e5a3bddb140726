"""The app's OpenAPI document: its introduction, clean operation ids, problem+json errors,
and the refinements (`openapi_refine.py`) that make it read well and generate well."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from service.api.openapi_refine import operations, refine
from service.api.problems import PROBLEM_MEDIA_TYPE

DESCRIPTION = """
**Reading the numbers?** The desk at [/](/) answers "how many workers, sent where, and
who said so" in plain pages, with every source one click away. This page is the API
reference: for programs, and for checking a figure to the last detail.

Labor Ledger records what is **reported** about North Korean workers sent abroad — first
of all to Russia — as an append-only log of events, each with its source and the words
it was taken from.

* **Read** freely: every `GET` is public. Each operation's "Try it out" starts filled
  with a question the founding report answers; press **Execute**.
* **Write** with an API key: press **Authorize** (the padlock button at the top right of
  the list of operations, just below this introduction), paste the key, then use
  `POST /v1/events`.
* **Errors** are RFC 9457 `application/problem+json` naming the field at fault; each
  error's `type` is a page that explains it (`/problems/unknown-place`, …).
* **Counts** keep the report's words and honest bounds (`min`, `best`, `max`): the rules
  for each qualifier ("about", "at least", …) are under `POST /v1/events`.
"""

QUALIFIER_RULES = """

### Counts: what was said, and honest bounds
A count keeps the report's words (`text`) and a `qualifier`. Give the stated `number`
and the ledger fills `min`, `best` and `max` by one rule per qualifier, naming it in
`bounds_rule`; or give the bounds yourself (`bounds_rule: given`). An open bound is
`null`. Vague words never become one false-exact number.

| qualifier | rule |
|---|---|
"""

STREAM_NOTE = """

**"Try it out" cannot show this stream**: Swagger UI waits for an answer to end, and this
one never does. Follow it with curl instead (`-N` prints each event as it comes):

    curl -N '{base}/v1/events/stream?after=0'

A client generated from this contract waits the same way: its `stream_events` returns
only when its read timeout cuts the answer (with no timeout set, never). Read the stream
as a stream instead: an `EventSource`, or your HTTP client's streaming read.
"""

LOCAL_BASE = "http://127.0.0.1:8000"
"""Where `make run` serves: the stream's curl example when no public URL is set."""

OPERATION_IDS: dict[str, str] = {
    # endpoint function → the method name a generated client gets
    "append": "record_events",
    "stream": "stream_events",
    "deployments": "list_deployments",
    "deployment_events": "list_deployment_events",
    "timeline": "get_deployments_timeline",
    "changes": "list_changes",
    "estimates": "list_estimates",
    "remittances": "list_remittances",
    "statements": "list_statements",
    "verify": "verify_log",
    "healthz": "check_health",
    "readyz": "check_readiness",
}
"""Clean client method names (`client.list_deployments()`, not `deployments_deployments`).
An endpoint whose function is already named by a verb (`list_events`, `get_place`)
keeps that name."""

VERBS = frozenset(
    {"list", "get", "record", "stream", "search", "create", "revoke", "disable", "enable"}
    | {"verify", "check", "delete", "update", "read", "follow"}
)

TAGS = [
    {"name": "events", "description": "Record reported facts; read the log."},
    {"name": "streams", "description": "The events of one source document."},
    {
        "name": "deployments",
        "description": "How many workers were reported sent where: flows with honest "
        "bounds, stocks, changes, a timeline.",
    },
    {"name": "remittances", "description": "Quotas workers must send home, in USD."},
    {"name": "wages", "description": "Pay per worker, promised or paid, in USD."},
    {
        "name": "entries",
        "description": "Official counts of arrivals (entry statistics): never counted as workers.",
    },
    {"name": "statements", "description": "Official statements, quoted verbatim."},
    {"name": "sources", "description": "Source documents and the facts taken from them."},
    {"name": "places", "description": "The gazetteer: place names in four languages."},
    {"name": "audit", "description": "Tamper evidence."},
    {"name": "admin", "description": "API keys (scope `admin`)."},
    {
        "name": "webhooks",
        "description": "Subscribers that get each new event by signed POST (scope `admin`).",
    },
    {"name": "health", "description": "For load balancers."},
]


def operation_id(route: APIRoute) -> str:
    """`generate_unique_id_function`: the operation id of a route, from its function."""
    name = OPERATION_IDS.get(route.name, route.name)
    if name.split("_", 1)[0] in VERBS:
        return name
    # A new endpoint not named by a verb yet: say what it does by its method.
    verb = {"GET": "get", "POST": "create", "DELETE": "delete"}.get(
        min(route.methods or {"GET"}), "call"
    )
    return f"{verb}_{name}"


def build_openapi(app: FastAPI) -> dict[str, Any]:
    from service.domain.counts import BOUNDS_RULES

    public_url: str | None = app.state.ledger.settings.public_url
    document = get_openapi(
        title="Labor Ledger",
        version=app.version,
        summary="Reported facts about North Korean overseas workers, with provenance.",
        description=DESCRIPTION,
        routes=app.routes,
        tags=TAGS,
        servers=[{"url": public_url.rstrip("/") if public_url else "/"}],
        license_info={"name": "MIT", "identifier": "MIT"},
        contact={"name": "Labor Ledger maintainers"},
    )
    rules = "\n".join(f"| `{q.value}` | {text} |" for q, text in BOUNDS_RULES.items())
    for _, _, operation in operations(document):
        if operation["operationId"] == "record_events":
            operation["description"] = operation.get("description", "") + QUALIFIER_RULES + rules
        if operation["operationId"] == "stream_events":
            base = public_url.rstrip("/") if public_url else LOCAL_BASE
            operation["description"] = operation.get("description", "") + STREAM_NOTE.format(
                base=base
            )
        _problem_media_types(operation)
    _drop_unanswered_schemas(document)
    return refine(document)


def _drop_unanswered_schemas(document: dict[str, Any]) -> None:
    """FastAPI's own 422 body (`HTTPValidationError`) is never sent (a Problem is): once no
    response names it, it leaves the contract, so generators make no model of it."""
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        others = {k: v for k, v in document.items() if k != "components"}
        rest = {k: v for k, v in schemas.items() if k != name}
        if f'"#/components/schemas/{name}"' not in json.dumps([others, rest]):
            schemas.pop(name, None)


def _problem_media_types(operation: dict[str, Any]) -> None:
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if status[0] in "45" and content:
            # Errors are problem+json whatever the operation's own media type (an SSE or
            # CSV operation documents its 422 under that type otherwise), and a Problem
            # whatever FastAPI assumed (its HTTPValidationError is never sent).
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}
    if "requestBody" in operation:
        # Any body can be unreadable (400), over the size limit (413), or not JSON in
        # UTF-8 (415: api/body_guard.py).
        for status in (400, 413, 415):
            operation["responses"].setdefault(str(status), _problem_response(status))
    # Any request can carry a NUL character, refused with a 422 (api/nul_guard.py).
    operation["responses"].setdefault("422", _problem_response(422))


PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


def _problem_response(status: int) -> dict[str, Any]:
    schema = {"schema": PROBLEM_SCHEMA}
    return {"description": HTTPStatus(status).phrase, "content": {PROBLEM_MEDIA_TYPE: schema}}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
