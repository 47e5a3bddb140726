"""The webhook signature: `Ledger-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`.

The HMAC is taken with the subscription's secret over `"<t>." + body`, the body
exactly as sent. Signing the time too lets a receiver refuse old replays.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Ledger-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"
