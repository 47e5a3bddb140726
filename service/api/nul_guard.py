"""Find the NUL character (U+0000) wherever a request carries text.

PostgreSQL cannot store NUL in text or JSON; SQLite can. Unchecked, the same
request would be recorded on one backend and fail with a 500 on the other. No
report's words contain NUL, so a request carrying it, in its body (as the JSON
escape `\\u0000`), its path or its query, is refused up front on both, with a
422 that names where (api/body_guard.py). A body can carry NUL no other way: a raw
NUL byte is not JSON, and UTF-16 and UTF-32 bodies, whose NULs hide among the
bytes of every character, are refused before this is asked (api/media_types.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import parse_qsl

from starlette.types import Scope

NUL = "\x00"
NUL_IN_JSON = b"\\u0000"  # JSON cannot carry a raw NUL byte inside a string

Location = tuple[str | int, ...]


def nul_in_address(scope: Scope) -> Location | None:
    """Where the path or the query carries NUL, if it does."""
    if NUL in scope["path"]:
        return ("path",)
    if b"%00" in scope["query_string"]:
        for name, value in parse_qsl(scope["query_string"].decode("latin-1"), True):
            if NUL in name or NUL in value:
                return ("query", name.replace(NUL, ""))
    return None


def may_carry_nul(body: bytes) -> bool:
    """A quick look (a byte search) that rules out NUL in nearly every body."""
    return NUL_IN_JSON in body


def nul_in_body(body: bytes) -> Location | None:
    """Where a JSON body carries NUL in a string or a name: it is parsed, so call it
    off the event loop for a large body, and only when `may_carry_nul` says so."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON: the endpoint says so itself
        return None
    return _find_nul(document, ())


def _find_nul(value: object, location: Location) -> Location | None:
    if isinstance(value, str):
        return location if NUL in value else None
    items: Sequence[tuple[str | int, object]] = ()
    if isinstance(value, dict):
        for key in value:
            if NUL in key:
                return location
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, item in items:
        found = _find_nul(item, (*location, key))
        if found is not None:
            return found
    return None
