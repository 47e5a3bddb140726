"""The generated OpenAPI document, refined for its two kinds of reader.

Journalists read it in Swagger UI: optional parameters read as their type ("string",
not "string | (string | null)"), no 64-bit maxima, every parameter described, and
"Try it out" filled with a question the seed answers. Client generators read it as a
contract: public operations say `security: []`, response headers are declared, and
the 304 of a view carries no body to type. Each step below is one such refinement of
the document FastAPI generates; the result stays valid OpenAPI 3.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Document = dict[str, Any]
Operation = dict[str, Any]

METHODS = ("get", "put", "post", "patch", "delete", "head", "options")

LARGEST_ADVERTISED = 2**53
"""Maxima above this (the 64-bit bounds the code enforces so that SQLite never sees an
oversized integer) are machine limits, not anything a reader could reach: not shown."""

PARAMETER_DESCRIPTIONS: dict[str, str] = {
    "limit": "How many to return at most.",
    "source_id": "A source's id, e.g. `dailynk-2023-05-nk-workers-russia`.",
    "stream": "A stream's name: `source:` and the source's id.",
    "recorded_after": "Only events recorded after this time, e.g. `2023-05-01T00:00:00Z`.",
    "recorded_before": "Only events recorded before this time, e.g. `2023-06-01T00:00:00Z`.",
    "event_id": "The event's id, as `GET /v1/events` lists it.",
    "after_version": "The stream's events after this version (0: from its first).",
    "kind": "Only places of this kind.",
    "place_id": "A place's gazetteer id, e.g. `ru-vladivostok`.",
    "affiliation": "Only workers of this affiliation: `military` (military-affiliated "
    "trading companies), `civilian`, or `unknown` (the report does not say).",
    "interval": "`month` or `year`: the periods the flows are summed by.",
    "group_by": "Any of `country`, `place`, `affiliation`, comma-separated.",
    "place": "Any name the gazetteer knows, in any of its languages; a region includes its cities.",
    "from_position": "The log position you published at (a view's `position`).",
    "speaker": "Words of the speaker's name, role or organisation.",
    "issued_from": "Statements issued on or after this date.",
    "issued_to": "Statements issued on or before this date.",
    "basis": "Only wages reported as `promised` or as `paid`.",
    "purpose": "Statistics giving a figure of this purpose (`total`: a total).",
    "key_id": "The key's id, as `GET /v1/admin/keys` lists it.",
    "webhook_id": "The subscription's id, as `GET /v1/admin/webhooks` lists it.",
    "idempotency-key": "Any string unique to this request: sent again with the same body, "
    "it records nothing twice and answers as the first time did.",
}

TRY_IT_OUT: dict[tuple[str, str], dict[str, str | int]] = {
    # "How many workers were reported sent to Russia in 2023, city by city?"
    ("get", "/v1/deployments"): {
        "country": "Russia",
        "period_from": "2023-01-01",
        "period_to": "2023-12-31",
    },
    # "What was said, and by whom, about the workers sent to Moscow?"
    ("get", "/v1/deployments/events"): {"place": "ru-moscow", "affiliation": "civilian"},
    ("get", "/v1/deployments/timeline"): {"country": "Russia", "interval": "month"},
    ("get", "/v1/estimates"): {"country": "Russia"},
    ("get", "/v1/statements"): {"country": "North Korea", "speaker": "Im Chon-il"},
    ("get", "/v1/remittances"): {"affiliation": "civilian"},
    ("get", "/v1/places"): {"q": "블라디보스토크"},
    ("get", "/v1/places/{place_id}"): {"place_id": "ru-vladivostok"},
    ("get", "/v1/sources/{source_id}"): {"source_id": "dailynk-2023-05-nk-workers-russia"},
    ("get", "/v1/streams/{stream}"): {"stream": "source:dailynk-2023-05-nk-workers-russia"},
    ("get", "/v1/changes"): {"from_position": 0},  # an integer, as its schema says
    ("get", "/v1/events"): {"source_id": "dailynk-2023-05-nk-workers-russia"},
}
""""Try it out" starts from these values: each a question the seed report answers."""

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The version of this answer: send it back as `If-None-Match` to get "
        "a 304 with no body while nothing changed.",
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "The address of the (first) event recorded.",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'The next page, as `<https://…>; rel="next"` (RFC 8288), when there '
        "is one: the same address as the body's `next`.",
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this answer repeats the first answer to the same "
        "`Idempotency-Key`: nothing was recorded again.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before asking again.",
        "schema": {"type": "integer"},
    },
}


def operations(document: Document) -> Iterator[tuple[str, str, Operation]]:
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def mark_public_operations(document: Document) -> None:
    """An operation that needs no key says so (`security: []`), as linters and generators
    expect, rather than leaving it to be guessed from a missing field."""
    for _, _, operation in operations(document):
        operation.setdefault("security", [])


def collapse_optional_parameters(document: Document) -> None:
    """A query parameter is absent or has a value: it cannot be sent as null. FastAPI
    writes an optional one as `anyOf: [X, {type: null}]`, which Swagger UI shows as
    "string | (string | null)"; it is X."""
    for _, _, operation in operations(document):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            collapsed = _without_null(schema)
            if collapsed is not None:
                parameter["schema"] = collapsed


def _without_null(schema: dict[str, Any]) -> dict[str, Any] | None:
    variants = schema.get("anyOf")
    if not isinstance(variants, list) or len(variants) != 2 or {"type": "null"} not in variants:
        return None
    (kept,) = [v for v in variants if v != {"type": "null"}]
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**kept, **rest}


def hide_machine_maxima(document: Document) -> None:
    """Drop `maximum`s no reader could reach (2**63 - 1 on positions); still enforced."""
    _walk_dropping_maxima(document)


def _walk_dropping_maxima(node: object) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("maximum"), int) and node["maximum"] >= LARGEST_ADVERTISED:
            del node["maximum"]
        for value in node.values():
            _walk_dropping_maxima(value)
    elif isinstance(node, list):
        for value in node:
            _walk_dropping_maxima(value)


def describe_parameters(document: Document) -> None:
    """Every parameter says what it is: the common ones from one table, where the
    endpoint gave no description of its own."""
    for _, _, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if not parameter.get("description"):
                text = PARAMETER_DESCRIPTIONS.get(parameter["name"].lower())
                if text:
                    parameter["description"] = text


def fill_try_it_out(document: Document) -> None:
    """Parameter `example`s: the value Swagger UI's "Try it out" starts from."""
    paths = document.get("paths", {})
    for (method, path), values in TRY_IT_OUT.items():
        operation = paths.get(path, {}).get(method)
        if operation is None:
            continue
        for parameter in operation.get("parameters", []):
            if parameter["name"] in values:
                parameter["example"] = values[parameter["name"]]
                parameter["schema"].pop("examples", None)  # one example, not two


def declare_response_headers(document: Document) -> None:
    """The headers an answer carries, where it carries them: Link on every page that has
    a `next`, Location and Idempotent-Replayed on a recording, Retry-After on a 503 or
    429 (a view's ETag is declared with its conditional reads)."""
    components = document.setdefault("components", {})
    components.setdefault("headers", {}).update(HEADERS)
    schemas = components.get("schemas", {})
    for method, _, operation in operations(document):
        responses = operation.get("responses", {})
        ok = responses.get("200", {})
        if method == "get" and _has_next(ok, schemas):
            _add_header(ok, "Link")
        if method == "post" and operation.get("operationId") == "record_events":
            for status in ("200", "201"):
                if status in responses:
                    _add_header(responses[status], "Location")
                    _add_header(responses[status], "Idempotent-Replayed")
        for status in ("429", "503"):
            if status in responses:
                _add_header(responses[status], "Retry-After")


def _add_header(response: dict[str, Any], name: str) -> None:
    response.setdefault("headers", {})[name] = {"$ref": f"#/components/headers/{name}"}


def _has_next(response: dict[str, Any], schemas: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    reference = schema.get("$ref", "")
    model = schemas.get(reference.rsplit("/", 1)[-1], {}) if reference else schema
    return "next" in model.get("properties", {})


NOT_MODIFIED = (
    "\n\nAsked again with this answer's `ETag` in `If-None-Match`, it answers "
    "`304 Not Modified`, with no body, while nothing changed."
)


def conditional_reads_in_words(document: Document) -> None:
    """A view answers 304 only to a client that sent `If-None-Match`, which such a client
    expects. Declared as a response, a bodiless 304 makes generators type every view as
    `Any | View | Problem | None`: it is said in the operation's words and with its ETag
    header instead, and the view is typed `View | Problem`."""
    for _, _, operation in operations(document):
        responses = operation.get("responses", {})
        if responses.pop("304", None) is not None:
            _add_header(responses["200"], "ETag")
            operation["description"] = operation.get("description", "") + NOT_MODIFIED


def refine(document: Document) -> Document:
    collapse_optional_parameters(document)
    hide_machine_maxima(document)
    describe_parameters(document)
    fill_try_it_out(document)
    mark_public_operations(document)
    declare_response_headers(document)
    conditional_reads_in_words(document)
    return document
