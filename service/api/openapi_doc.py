"""The app's OpenAPI document, with problem responses typed as problem+json."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service.api.problems import PROBLEM_MEDIA_TYPE

DESCRIPTION = """
Labor Ledger records what is **reported** about North Korean workers sent abroad —
first of all to Russia — as an append-only log of events, each with its source and
the words it was taken from.

* **Read** freely: every `GET` is public.
* **Write** with an API key (`Authorize` above): `POST /v1/events`.
* **Errors** are RFC 9457 `application/problem+json` and name the field at fault.

### Counts: what was said, and honest bounds
A count keeps the report's words (`text`) and a `qualifier`. Give the stated `number`
and the ledger fills `min`, `best` and `max` by one rule per qualifier, naming it in
`bounds_rule`; or give the bounds yourself (`bounds_rule: given`). An open bound is
`null`. Vague words never become one false-exact number.

| qualifier | rule |
|---|---|
{rules}
"""


def build_openapi(app: FastAPI) -> dict[str, Any]:
    from service.domain.counts import BOUNDS_RULES

    rules = "\n".join(f"| `{q.value}` | {text} |" for q, text in BOUNDS_RULES.items())
    document = get_openapi(
        title="Labor Ledger",
        version=app.version,
        summary="Reported facts about North Korean overseas workers, with provenance.",
        description=DESCRIPTION.replace("{rules}", rules),
        routes=app.routes,
        tags=[
            {"name": "events", "description": "Record reported facts; read the log."},
            {"name": "streams", "description": "The events of one source document."},
            {
                "name": "deployments",
                "description": "How many workers were reported sent where: flows with honest "
                "bounds, stocks, changes, a timeline.",
            },
            {"name": "remittances", "description": "Quotas workers must send home, in USD."},
            {"name": "statements", "description": "Official statements, quoted verbatim."},
            {"name": "sources", "description": "Source documents and the facts taken from them."},
            {"name": "places", "description": "The gazetteer: place names in four languages."},
            {"name": "audit", "description": "Tamper evidence."},
            {"name": "admin", "description": "API keys (scope `admin`)."},
            {
                "name": "webhooks",
                "description": "Subscribers that get each new event by signed POST "
                "(scope `admin`).",
            },
            {"name": "health", "description": "For load balancers."},
        ],
    )
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and content:
                    # Errors are problem+json whatever the operation's own media type
                    # (an SSE or CSV operation documents its 422 under that type otherwise).
                    schema = content.get("application/json") or next(iter(content.values()))
                    response["content"] = {PROBLEM_MEDIA_TYPE: schema}
            if "requestBody" in operation:
                # Any body can be unreadable (400) or over the size limit (413).
                for status in (400, 413):
                    operation["responses"].setdefault(str(status), _problem_response(status))
            # Any request can carry a NUL character, refused with a 422 (api/nul_guard.py).
            operation["responses"].setdefault("422", _problem_response(422))
    return document


def _problem_response(status: int) -> dict[str, Any]:
    schema = {"schema": {"$ref": "#/components/schemas/Problem"}}
    return {"description": HTTPStatus(status).phrase, "content": {PROBLEM_MEDIA_TYPE: schema}}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
