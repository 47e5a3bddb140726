"""Notice new commits, once per process, and wake every stream waiting for them.

PostgreSQL: one connection LISTENs on the channel the append transaction
NOTIFYs (see `notify.py`), so every process behind a load balancer hears every
commit; a slow poll of the head covers a dropped connection. SQLite: a short
poll of `log_head`. Either way one watcher serves all of a process's clients,
and no client holds a database connection while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import anyio.to_thread
import psycopg
from sqlalchemy import Engine

from service.db.backend import backend
from service.follow.notify import CHANNEL
from service.log.append import read_head

log = logging.getLogger(__name__)

SAFETY_POLL_SECONDS = 5.0
"""With LISTEN, the head is still read this often, in case a notification went astray."""


class LogWatch:
    def __init__(self, engine: Engine, poll_seconds: float) -> None:
        self._engine = engine
        self._poll_seconds = poll_seconds
        self._head = -1
        self._changed: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def wait_beyond(self, position: int, timeout: float) -> bool:
        """True as soon as the log's head is past `position`; False after `timeout` seconds."""
        changed = self._ensure_running()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._head <= position:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return False
            changed = self._current_event()
        return True

    async def close(self) -> None:
        # A task of another event loop (an app served twice, in tests) ends with its loop.
        if self._loop is asyncio.get_running_loop() and self._task and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    def _current_event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _ensure_running(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            # A new event loop (a test client's) gets a fresh watcher task.
            self._loop, self._changed = loop, asyncio.Event()
            watch = self._listen if backend(self._engine).notifies_commits else self._poll
            self._task = loop.create_task(watch(), name="ledger-log-watch")
        return self._current_event()

    def _advance(self, head: int) -> None:
        if head > self._head:
            self._head = head
            woken, self._changed = self._current_event(), asyncio.Event()
            woken.set()

    async def _read_head(self) -> int:
        def read() -> int:
            with self._engine.connect() as conn:
                return read_head(conn).position

        return await anyio.to_thread.run_sync(read)

    async def _poll(self) -> None:
        while True:
            try:
                self._advance(await self._read_head())
            except Exception:  # a busy or restarting database: try again next tick
                log.warning("could not read the log head", exc_info=True)
            await asyncio.sleep(self._poll_seconds)

    async def _listen(self) -> None:
        conninfo = self._engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    # Listening first, then reading the head: no commit falls between.
                    self._advance(await self._read_head())
                    while True:
                        async for note in conn.notifies(timeout=SAFETY_POLL_SECONDS):
                            self._advance(int(note.payload))
                        self._advance(await self._read_head())
            except (psycopg.Error, OSError, ValueError):
                log.warning("lost the LISTEN connection; polling until it is back", exc_info=True)
                with contextlib.suppress(Exception):
                    self._advance(await self._read_head())
                await asyncio.sleep(self._poll_seconds)
