"""Does PostgreSQL answer at all? Asked on a new connection, on the event loop.

A request waiting on a query cannot tell a slow query from a stalled server: the socket
is quiet either way. A new connection that runs `SELECT 1` can. It is opened on the event
loop (psycopg's async connection), so it needs no worker thread and no pooled connection:
when every thread and every connection waits on the stalled server, the probe still runs.
"""

from __future__ import annotations

import asyncio
import time

import anyio
import psycopg
from sqlalchemy.engine import make_url

PROBE_WITHIN_SECONDS = 2.0
"""The database answers within this long, or it is taken not to answer (libpq's own
connect timeout cannot be shorter)."""

ANSWER_KEPT_SECONDS = 1.0
"""A probe's answer is given to whoever asks this long after it; then one is asked again."""


class DatabaseProbe:
    """One probe at a time, its answer shared by every request that asks meanwhile: a
    stall with hundreds of waiting requests opens one connection a second, not hundreds."""

    def __init__(self, database_url: str) -> None:
        # psycopg takes the URL libpq takes: SQLAlchemy's without its `+psycopg`.
        url = make_url(database_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._asking: asyncio.Task[bool] | None = None
        self._answered_at = 0.0

    async def answers(self) -> bool:
        """True when the database opened a connection and ran `SELECT 1` within
        `PROBE_WITHIN_SECONDS` (now, or at most `ANSWER_KEPT_SECONDS` ago)."""
        asking = self._asking
        if asking is None or (
            asking.done() and time.monotonic() - self._answered_at > ANSWER_KEPT_SECONDS
        ):
            asking = self._asking = asyncio.create_task(self._ask())
        # Shielded: a request that stops waiting (its query answered) leaves the probe
        # running for the others.
        return await asyncio.shield(asking)

    async def _ask(self) -> bool:
        connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        try:
            with anyio.fail_after(PROBE_WITHIN_SECONDS):
                connection = await psycopg.AsyncConnection.connect(
                    self._conninfo,
                    connect_timeout=max(2, round(PROBE_WITHIN_SECONDS)),
                    autocommit=True,
                    application_name="labor-ledger probe",
                )
                await connection.execute("SELECT 1")
            return True
        except (TimeoutError, OSError, psycopg.Error):
            return False
        finally:
            self._answered_at = time.monotonic()
            if connection is not None:
                await connection.close()
