"""Signed checkpoints: the log's hash at a position, signed with the service's Ed25519 key.

The hash chain shows a change to a stored event, unless whoever changed it also
recomputed every later hash, or cut the tail and moved the head back. A checkpoint that
a reader kept outside the database catches both: the event at its position must still
have its hash, and the log must still reach it. The signature shows the checkpoint came
from this ledger (a reader cannot be handed a forged one, nor forge one to accuse it).

The key is derived with HKDF from the service's secret (`LEDGER_SECRET_KEY`, the one API
keys are hashed under), so every process of one ledger signs with the same key and nothing
more has to be kept. Set that secret outside the database: a secret the service generated
for itself is kept in the database, where whoever could rewrite the log could read it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, ConfigDict, Field

ALGORITHM: Literal["Ed25519"] = "Ed25519"
_KEY_INFO = b"labor-ledger checkpoint signing key v1"


class Checkpoint(BaseModel):
    """The log's hash at a position, signed by this ledger: keep it, and later check the
    log against it (`labor-ledger verify --checkpoint FILE`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int = Field(ge=0, description="The last event the checkpoint covers (0: none).")
    hash: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="That event's chained SHA-256: it covers every event before it.",
    )
    signed_at: datetime
    algorithm: Literal["Ed25519"] = ALGORITHM
    public_key: str = Field(description="The ledger's signing key, base64 (raw Ed25519).")
    key_id: str = Field(description="The first 16 hex digits of the key's SHA-256.")
    signature: str = Field(
        description="Base64 Ed25519 signature of the canonical JSON of `purpose` "
        '("labor-ledger checkpoint"), `position`, `hash` and `signed_at`.'
    )


def message(position: int, hash: str, signed_at: datetime) -> bytes:
    """What is signed: canonical JSON of the three fields, with a purpose tag."""
    return json.dumps(
        {
            "purpose": "labor-ledger checkpoint",
            "position": position,
            "hash": hash,
            "signed_at": signed_at.isoformat(),
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def key_id(public_key: str) -> str:
    """A short name of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]


@dataclass(frozen=True)
class CheckpointSigner:
    """Signs checkpoints with the key derived from the service's secret."""

    private_key: Ed25519PrivateKey

    @classmethod
    def from_secret(cls, secret: bytes) -> CheckpointSigner:
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(secret)
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode()

    def sign(self, position: int, hash: str, signed_at: datetime) -> Checkpoint:
        signature = self.private_key.sign(message(position, hash, signed_at))
        return Checkpoint(
            position=position,
            hash=hash,
            signed_at=signed_at,
            public_key=self.public_key,
            key_id=key_id(self.public_key),
            signature=base64.b64encode(signature).decode(),
        )


def signature_holds(checkpoint: Checkpoint) -> bool:
    """Was `checkpoint` signed, as it reads, by the key it names?"""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoint.public_key))
        key.verify(
            base64.b64decode(checkpoint.signature),
            message(checkpoint.position, checkpoint.hash, checkpoint.signed_at),
        )
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
