"""Webhook signatures, two of them on every delivery.

Standard Webhooks (https://www.standardwebhooks.com), which receivers can check with
the standard libraries (`standardwebhooks` on PyPI, Svix's, and others):
`webhook-id` (the event's id, the same on every retry), `webhook-timestamp` (unix
seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`,
keyed with the bytes the secret's base64 part (after `whsec_`) decodes to.

The ledger's own, kept beside it for the receivers written against it:
`Ledger-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with
the whole secret string as UTF-8.

Both sign the body exactly as sent and the time, so a receiver can refuse old replays.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SIGNATURE_HEADER = "Ledger-Signature"
SECRET_PREFIX = "whsec_"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def standard_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one delivery."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii"),
    }


def standard_key(secret: str) -> bytes:
    """The HMAC key the standard libraries derive from a `whsec_` secret: its base64
    part, decoded as they decode it (lenient, padding added)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded + "==")
    except binascii.Error:
        # A secret made before the standard scheme (URL-safe alphabet) that the lenient
        # reading cannot decode: the URL-safe reading, as documented for those secrets.
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


def new_secret_value(random_bytes: bytes) -> str:
    """A secret in the Standard Webhooks form: `whsec_` and standard base64."""
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode("ascii")
