"""The database engine, configured per backend."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from service.json_codec import dumps_text, loads
from service.settings import Settings

SQLITE_BEGIN = "sqlite_begin"
"""Execution option: `IMMEDIATE` makes a SQLite transaction take the write lock at BEGIN."""


KEEPALIVE = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}
"""TCP keepalives: a connection whose server vanished is found dead within about 25 s,
not after the kernel's two hours."""


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        return _sqlite_engine(settings)
    return create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=10,
        pool_pre_ping=True,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args=_postgresql_timeouts(settings),
        json_serializer=dumps_text,
        json_deserializer=loads,
    )


def _postgresql_timeouts(settings: Settings) -> dict[str, Any]:
    """libpq's connect timeout (whole seconds, at least 2: libpq's own floor), keepalives,
    and the server-side statement timeout, set once per connection."""
    timeouts: dict[str, Any] = {
        "connect_timeout": max(2, math.ceil(settings.db_connect_timeout_seconds)),
        **KEEPALIVE,
    }
    if settings.db_statement_timeout_seconds > 0:
        milliseconds = round(settings.db_statement_timeout_seconds * 1000)
        timeouts["options"] = f"-c statement_timeout={milliseconds}"
    return timeouts


def without_statement_timeout(settings: Settings) -> Settings:
    """Settings for a long job of the CLI (a rebuild, a verify of the whole log): its
    statements may rightly run for minutes."""
    return settings.model_copy(update={"db_statement_timeout_seconds": 0.0})


def _sqlite_engine(settings: Settings) -> Engine:
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        settings.database_url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if path is None else None,
        json_serializer=dumps_text,
        json_deserializer=loads,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own
        # transaction handling cannot take the write lock up front).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if path is not None:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Appends ask for IMMEDIATE: the write lock is taken before the head is
        # read, so two writers can never both read the same head position.
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
