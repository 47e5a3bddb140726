"""Who is calling: reads are public, writes need a key with the right scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from service.access.keys import ApiKey
from service.api.deps import LedgerDep

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="ll_…",
    description="An API key (`ll_…`) from `labor-ledger keys create` or an admin. "
    "Paste the key alone: Swagger adds `Bearer `.",
)

MISSING_KEY_DETAIL = "This needs an API key: Authorization: Bearer ll_…"
MISSING_KEY_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="labor-ledger"'}


def require_key(
    security: SecurityScopes,
    ledger: LedgerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    if credentials is None:
        raise HTTPException(401, MISSING_KEY_DETAIL, MISSING_KEY_CHALLENGE)
    key = ledger.keys.authenticate(credentials.credentials)
    if key is None:
        raise HTTPException(
            401,
            "The API key is not valid: unknown, revoked or expired.",
            {"WWW-Authenticate": 'Bearer realm="labor-ledger", error="invalid_token"'},
        )
    missing = [s for s in security.scopes if s not in key.scopes]
    if missing:
        raise HTTPException(403, f"The key {key.name!r} lacks the scope {missing[0]!r}.")
    return key


def scoped(*scopes: str) -> ApiKey:
    """`key: ApiKey = scoped("admin")` in an endpoint's signature."""
    key: ApiKey = Security(require_key, scopes=list(scopes))
    return key
