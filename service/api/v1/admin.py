"""`/v1/admin`: API keys, for holders of the `admin` scope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from service.access.keys import ApiKey, Scope
from service.api.auth import scoped
from service.api.deps import LedgerDep
from service.api.problems import problem_responses
from service.domain.moments import Timestamp

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=problem_responses(401, 403, 422))


def _in_the_future(moment: datetime | None) -> datetime | None:
    if moment is not None and moment <= datetime.now(UTC):
        raise ValueError("the expiry is in the past: a key that never works is not created")
    return moment


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=200,
        # ASCII, as the documented pattern reads: JSON Schema's `\w` is not Unicode's.
        pattern=r"^[A-Za-z0-9_.@ -]+$",
        description="Who holds the key; recorded as `recorded_by` on every event it writes.",
        examples=["seoul-desk"],
    )
    scopes: list[Scope] = Field(min_length=1, examples=[["events:write"]])
    expires_at: Annotated[Timestamp | None, AfterValidator(_in_the_future)] = Field(
        default=None,
        description="When the key stops working: a time to come, with a time zone.",
        examples=["2027-01-01T00:00:00Z"],
    )


class KeyPublic(BaseModel):
    id: UUID
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it.")
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyPublic:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            scopes=sorted(key.scopes),
            created_at=key.created_at,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


class KeyCreated(BaseModel):
    key: KeyPublic
    token: str = Field(description="The API key itself. Shown this once; it is stored hashed.")


@router.post(
    "/keys", status_code=201, summary="Create an API key", responses=problem_responses(409)
)
def create_key(body: KeyCreate, ledger: LedgerDep, _: ApiKey = scoped(Scope.admin)) -> KeyCreated:
    """A new key with the given scopes. The token in the answer is shown only now."""
    key, token = ledger.keys.create(body.name, set(body.scopes), body.expires_at)
    return KeyCreated(key=KeyPublic.of(key), token=token)


@router.get("/keys", summary="List API keys")
def list_keys(ledger: LedgerDep, _: ApiKey = scoped(Scope.admin)) -> list[KeyPublic]:
    """Every key, revoked ones included; never the tokens."""
    return [KeyPublic.of(k) for k in ledger.keys.list()]


@router.delete("/keys/{key_id}", summary="Revoke an API key", responses=problem_responses(404, 409))
def revoke_key(key_id: UUID, ledger: LedgerDep, _: ApiKey = scoped(Scope.admin)) -> KeyPublic:
    """The key stops working: at once in the process that answers, and in every other
    service process within `LEDGER_KEY_CACHE_SECONDS` (1 second by default), for
    which each process trusts a key it has just checked. Its events stay.

    The last admin key that works cannot be revoked (409): create another admin key
    first. Revoking a key twice keeps the first revocation's time."""
    return KeyPublic.of(ledger.keys.revoke(key_id, keep_an_admin=True))
