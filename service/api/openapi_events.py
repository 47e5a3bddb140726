"""The recorded event in the contract: one shape per event type, joined in a union
discriminated on `type`, so that a generated client reads `event.data` as that type's
payload (a `WorkersDispatched`, with `event.data.count`) rather than as a dict.

Declared in the document only. At run time an envelope stays one `RecordedEvent` with
its stored `data` (validating every served payload again would cost each page of the
log); tests/api/test_recorded_event_union.py checks that what is served validates
against the union declared here.

A stored event keeps the payload, and the `schema_version`, it was recorded in. Each
type's `data` is its payload model's schema as the request side declares it, which
admits every version's shape: each later version only added fields, each with a default
(`readers.py` fills them in for an older one), so an older payload is the current schema
without them. Where a type has had several versions, the envelope names the fields an
older one lacks; `?schema=current` serves them filled. A version that renamed or
retyped a field would need `data` to be an `anyOf` of the versions' schemas instead:
the union's test (stored version 1 payloads of each type) fails first.
"""

from __future__ import annotations

import copy
from typing import Any

from service.domain.events import PAYLOAD_TYPES, EventType
from service.domain.readers import UPCASTERS, current_version

Document = dict[str, Any]
ENVELOPE = "RecordedEvent"


def variant_name(event_type: EventType) -> str:
    """The component of one type's envelope: `RecordedWorkersDispatched`."""
    return f"Recorded{PAYLOAD_TYPES[event_type].__name__}"


def declare_recorded_event_union(document: Document) -> None:
    """Replace the `RecordedEvent` component (`type` a string, `data` any object) by a
    union of one envelope per event type: every answer that refers to it (pages of the
    log, a stream's, the changes, a source's facts, the live stream) gets the union."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    envelope = schemas[ENVELOPE]
    mapping: dict[str, str] = {}
    for event_type, payload in PAYLOAD_TYPES.items():
        name = variant_name(event_type)
        schemas[name] = _envelope_of(envelope, event_type, payload.__name__)
        mapping[event_type.value] = f"#/components/schemas/{name}"
    schemas[ENVELOPE] = {
        "oneOf": [{"$ref": reference} for reference in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
        "title": ENVELOPE,
        "description": envelope.get("description", "")
        + " One shape per `type`, its `data` that type's payload.",
    }


def _envelope_of(envelope: dict[str, Any], event_type: EventType, payload: str) -> dict[str, Any]:
    variant = copy.deepcopy(envelope)
    properties = variant["properties"]
    properties["type"] = {"type": "string", "const": event_type.value, "title": "Type"}
    properties["schema_version"] = {
        "type": "integer",
        "minimum": 1,
        "maximum": current_version(event_type.value),
        "title": "Schema Version",
        "description": "The version `data` was recorded in (with `schema=current`: the "
        "current one, read from it).",
    }
    properties["data"] = {"$ref": f"#/components/schemas/{payload}"}
    # Recorded as sent and validated then by the same model, never changed since: typed,
    # and one class in a generated client rather than one per type.
    properties["provenance"] = {"$ref": "#/components/schemas/Provenance"}
    variant["title"] = variant_name(event_type)
    variant["description"] = f"A recorded `{event_type.value}` event." + _older_versions(event_type)
    return variant


def _older_versions(event_type: EventType) -> str:
    """What an older version's `data` lacks, from the upcasters that fill it in."""
    notes = []
    for version in range(1, current_version(event_type.value)):
        added = UPCASTERS[(event_type.value, version)]({})
        fields = ", ".join(f"`{name}`" for name in added)
        notes.append(f"version {version} lacks {fields} (added in version {version + 1})")
    if not notes:
        return ""
    return (
        " Its `data` is as recorded: "
        + "; ".join(notes)
        + ". Read with `schema=current`, it is in the current version, those fields filled."
    )
