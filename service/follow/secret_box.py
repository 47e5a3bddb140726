"""Webhook secrets sealed at rest: Fernet (AES-128-CBC and HMAC-SHA256, from
`cryptography`) under a key derived with HKDF-SHA256 from the service's secret
(`LEDGER_SECRET_KEY`, or the one generated once and kept in the database).

A copy of the database, a backup or a read-only SQL injection then yields no secret
that could forge a delivery, as long as the service's secret is kept elsewhere (set
`LEDGER_SECRET_KEY`: a generated secret lives in the same database). Secrets stored
in clear by earlier versions (`whsec_…`) are still read, and sealed by the delivery
worker when it starts (`seal_plain_secrets`).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine, select, update

from service.domain.errors import LedgerError
from service.follow.tables import SUBSCRIPTIONS

SEALED_PREFIX = "sealed:v1:"
# Never change: every sealed secret was sealed under a key derived with it.
_KEY_PURPOSE = b"labor-ledger webhook secrets v1"


class SecretUnreadable(LedgerError):
    """A sealed secret that this service's key does not open."""


class SecretBox:
    def __init__(self, service_secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_PURPOSE).derive(
            service_secret
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, secret: str) -> str:
        return SEALED_PREFIX + self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        """The secret a stored value holds; one stored in clear is returned as it is."""
        if not stored.startswith(SEALED_PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored.removeprefix(SEALED_PREFIX)).decode()
        except InvalidToken:
            raise SecretUnreadable(
                "the webhook's secret was sealed under another service secret: was "
                "LEDGER_SECRET_KEY changed? Re-create the webhook"
            ) from None


def seal_plain_secrets(engine: Engine, box: SecretBox) -> int:
    """Seal every secret still stored in clear; the number sealed."""
    with engine.begin() as conn:
        plain = conn.execute(
            select(SUBSCRIPTIONS.c.id, SUBSCRIPTIONS.c.secret).where(
                SUBSCRIPTIONS.c.secret.not_like(SEALED_PREFIX + "%")
            )
        ).all()
        for row in plain:
            conn.execute(
                update(SUBSCRIPTIONS)
                .where(SUBSCRIPTIONS.c.id == row.id, SUBSCRIPTIONS.c.secret == row.secret)
                .values(secret=box.seal(row.secret))
            )
    return len(plain)
