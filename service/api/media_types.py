"""What a request body must be: JSON (`application/json`) in UTF-8.

RFC 8259 says JSON exchanged between systems is UTF-8. Python's JSON parsers read
UTF-16 and UTF-32 bytes too, and FastAPI parsed a body labelled `charset=latin-1` or
`application/merge-patch+json` as plain JSON: a body then meant something other than
what its sender said, and a UTF-16 body slipped a NUL past the check that looks for
its UTF-8 escape. Anything but JSON in UTF-8 is refused with a 415 that says what to
send instead.
"""

from __future__ import annotations

JSON_MEDIA_TYPE = "application/json"
UTF8_NAMES = frozenset({"utf-8", "utf8"})

# The first four bytes of a JSON text tell its encoding (RFC 4627 §3): its first two
# characters are ASCII, so UTF-16 and UTF-32 put NUL bytes beside them.
_BYTE_ORDER_MARKS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)


def content_type_refusal(content_type: str | None) -> str | None:
    """Why a body with this Content-Type is refused; None when it is JSON in UTF-8."""
    if content_type is None:
        return "The body is sent without a Content-Type; send it as 'application/json'."
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    if media_type.lower() != JSON_MEDIA_TYPE:
        return (
            f"The body is sent as {content_type!r}; the API reads only 'application/json' (UTF-8)."
        )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in UTF8_NAMES:
            return (
                f"The body is sent as {content_type!r}; JSON is read in UTF-8 only: "
                "send 'application/json' (charset utf-8, or none)."
            )
    return None


def encoding_refusal(body: bytes, content_type: str) -> str | None:
    """Why these bytes are refused: they are UTF-16 or UTF-32, or no text at all."""
    encoding = _wide_encoding(body[:4])
    if encoding is not None:
        return f"The body ({content_type}) is {encoding}; send JSON in UTF-8."
    try:
        body.decode()  # in C: about a millisecond a MiB
    except UnicodeDecodeError as error:
        return f"The body ({content_type}) is not UTF-8 (byte {error.start}); send JSON in UTF-8."
    return None


def _wide_encoding(head: bytes) -> str | None:
    for mark, encoding in _BYTE_ORDER_MARKS:
        if head.startswith(mark):
            return encoding
    if len(head) == 4 and b"\x00\x00\x00" in (head[:3], head[1:]):
        return "UTF-32"
    if len(head) >= 2 and (head[0] == 0) != (head[1] == 0):
        return "UTF-16"
    return None
