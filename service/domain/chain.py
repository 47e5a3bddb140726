"""The hash chain: tamper evidence over the whole log.

hash(n) = sha256(hash(n-1) + canonical JSON of event n). Changing any stored
event, or removing one, breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import orjson

GENESIS_HASH = "0" * 64

HASHED_FIELDS = (
    "id",
    "position",
    "stream",
    "stream_version",
    "type",
    "schema_version",
    "data",
    "provenance",
    "recorded_at",
    "recorded_by",
    "idempotency_key",
    "correlation_id",
    "causation_id",
)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same value always gives the same bytes.

    The form is the standard library's `json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`, which the first events were hashed with. orjson writes the
    same bytes for every value an event holds (strings, integers, booleans, null: no
    payload field is a float; tests/domain/test_chain_form.py checks) several times
    faster; what it refuses (an integer beyond 64 bits) the standard library writes."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    """`event` holds the HASHED_FIELDS as JSON values (ids and times as strings)."""
    body = {name: event[name] for name in HASHED_FIELDS}
    return hashlib.sha256(prev_hash.encode() + canonical_json(body)).hexdigest()
