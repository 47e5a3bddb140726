"""API keys: random, prefixed `ll_`, shown once, stored as an HMAC under a server secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from uuid6 import uuid7

from service.access.tables import API_KEYS as KEYS
from service.db.engine import SQLITE_BEGIN
from service.domain.clock import Clock, utc_now
from service.domain.errors import LedgerError
from service.log.tables import META

KEY_PREFIX = "ll_"
SECRET_NAME = "api_key_secret"
# last_used_at is written at most this often per key, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class Scope(StrEnum):
    events_write = "events:write"
    events_correct = "events:correct"
    admin = "admin"


class KeyNameTaken(LedgerError):
    pass


class UnknownKey(LedgerError):
    pass


class LastAdminKey(LedgerError):
    """Revoking this key would leave no usable admin key: only the CLI could get back in."""


@dataclass(frozen=True)
class ApiKey:
    id: UUID
    name: str
    prefix: str
    scopes: frozenset[Scope]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def usable_at(self, moment: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > moment


def ensure_secret(engine: Engine, configured: str | None) -> bytes:
    """The HMAC secret: the configured one, else one generated once and kept in the database."""
    if configured:
        return configured.encode()
    with engine.begin() as conn:
        value = conn.execute(select(META.c.value).where(META.c.key == SECRET_NAME)).scalar()
        if value is None:
            try:
                with conn.begin_nested():
                    value = secrets.token_hex(32)
                    conn.execute(insert(META).values(key=SECRET_NAME, value=value))
            except IntegrityError:  # another process generated it first
                value = conn.execute(
                    select(META.c.value).where(META.c.key == SECRET_NAME)
                ).scalar_one()
    return str(value).encode()


@dataclass(frozen=True)
class KeyRing:
    """Creates, lists, revokes and checks keys.

    A key that checked out is trusted again for `cache_seconds` without asking the
    database: every write would otherwise pay a connection and a query before its
    own transaction. Expiry is still checked on every use, and a revocation through
    this process is seen at once; one through another process within `cache_seconds`.
    """

    engine: Engine
    secret: bytes
    cache_seconds: float = 1.0
    clock: Clock = utc_now
    """The time keys are created, revoked, used and checked for expiry at."""
    monotonic_clock: Callable[[], float] = time.monotonic
    """What `cache_seconds` is measured on."""
    _checked: dict[str, tuple[ApiKey, float]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _digest(self, token: str) -> str:
        return hmac.new(self.secret, token.encode(), hashlib.sha256).hexdigest()

    def create(
        self, name: str, scopes: set[Scope], expires_at: datetime | None = None
    ) -> tuple[ApiKey, str]:
        """Returns the key's record and the token, which is never shown again."""
        token = KEY_PREFIX + secrets.token_urlsafe(32)
        row = {
            "id": uuid7(),
            "name": name,
            "prefix": token[:11],
            "key_hash": self._digest(token),
            "scopes": " ".join(sorted(s.value for s in scopes)),
            "created_at": self.clock(),
            "expires_at": expires_at,
            "last_used_at": None,
            "revoked_at": None,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(KEYS).values(**row))
        except IntegrityError:
            raise KeyNameTaken(f"A key named {name!r} exists already.", pointer=("name",)) from None
        key = self.get(row["id"])  # type: ignore[arg-type]
        assert key is not None
        return key, token

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            return [_key(r) for r in conn.execute(select(KEYS).order_by(KEYS.c.created_at))]

    def get(self, key_id: UUID) -> ApiKey | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(KEYS).where(KEYS.c.id == key_id)).one_or_none()
        return _key(row) if row is not None else None

    def find(self, id_or_name: str) -> ApiKey | None:
        with self.engine.connect() as conn:
            query = select(KEYS).where(KEYS.c.name == id_or_name)
            row = conn.execute(query).one_or_none()
        if row is None:
            try:
                return self.get(UUID(id_or_name))
            except ValueError:
                return None
        return _key(row)

    def revoke(self, key_id: UUID, *, keep_an_admin: bool = False) -> ApiKey:
        """Revoke a key: refused here at once; other processes trust a key they checked
        for `cache_seconds` more. `keep_an_admin` refuses to revoke the last usable admin
        key (`LastAdminKey`), as the API does; the CLI, which can always make a new one,
        need not."""
        with self._lock:
            self._checked.clear()
        # IMMEDIATE on SQLite, row locks on PostgreSQL: two admins revoking each other's
        # keys at once cannot both see the other's key still standing.
        immediate = self.engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with immediate as conn, conn.begin():
            if keep_an_admin:
                self._refuse_revoking_the_last_admin(conn, key_id)
            conn.execute(
                update(KEYS)
                .where(KEYS.c.id == key_id, KEYS.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            )
        key = self.get(key_id)
        if key is None:
            raise UnknownKey(f"No key has the id {key_id}.", pointer=("key_id",))
        return key

    def _refuse_revoking_the_last_admin(self, conn: Connection, key_id: UUID) -> None:
        standing = conn.execute(
            select(KEYS).where(KEYS.c.revoked_at.is_(None)).with_for_update()
        ).all()
        now = self.clock()
        admins = {k.id for k in map(_key, standing) if Scope.admin in k.scopes and k.usable_at(now)}
        if admins == {key_id}:
            raise LastAdminKey(
                "This is the last admin key that works: revoking it would lock every admin "
                "out. Create another admin key first, then revoke this one.",
                pointer=("key_id",),
            )

    def authenticate(self, token: str) -> ApiKey | None:
        """The key behind a token if it is known, unrevoked and unexpired."""
        if not token.startswith(KEY_PREFIX):
            return None
        now = self.clock()
        digest = self._digest(token)
        cached = self._checked.get(digest)
        if cached is not None and self.monotonic_clock() - cached[1] < self.cache_seconds:
            return cached[0] if cached[0].usable_at(now) else None
        with self.engine.connect() as conn:
            row = conn.execute(select(KEYS).where(KEYS.c.key_hash == digest)).one_or_none()
            if row is None:
                return None
            key = _key(row)
            if not key.usable_at(now):
                return None
            with self._lock:
                self._checked[digest] = (key, self.monotonic_clock())
            if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
                # End the read first: SQLite refuses at once (no busy wait) to turn a
                # read into a write when another process has written since it began.
                conn.rollback()
                _touch(conn, key.id, now)
        return key

    def has_admin(self) -> bool:
        return any(Scope.admin in k.scopes and k.usable_at(self.clock()) for k in self.list())


def _touch(conn: Connection, key_id: UUID, now: datetime) -> None:
    conn.execute(update(KEYS).where(KEYS.c.id == key_id).values(last_used_at=now))
    conn.commit()


def _key(row: object) -> ApiKey:
    return ApiKey(
        id=row.id,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        prefix=row.prefix,  # type: ignore[attr-defined]
        scopes=frozenset(Scope(s) for s in row.scopes.split()),  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        expires_at=row.expires_at,  # type: ignore[attr-defined]
        last_used_at=row.last_used_at,  # type: ignore[attr-defined]
        revoked_at=row.revoked_at,  # type: ignore[attr-defined]
    )
