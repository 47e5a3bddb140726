"""The log's head for a read: fresh on every request, at the least cost.

Views are cached by the head: the log's position and the views' generation, a
number every rebuild of the derived tables moves on (`bump_views_generation`).
So a view computed before an append or a rebuild is never served after it,
whichever process made the change, and a cached read costs what reading the
head costs: one row, one query. Each caller gets the result of a read that
*began after it asked*, so a view is never older than a write that returned
before the request came in (a head pushed by NOTIFY could lag behind one).
Callers that arrive while a read runs share the next one: under load one query
serves many requests, and the event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, insert, select, update

from service.log.tables import LOG_HEAD, META

VIEWS_GENERATION_KEY = "views_generation"
"""In `ledger_meta`: how many times the derived tables were rebuilt (absent: never)."""


class ViewHead(NamedTuple):
    """What a view read from the derived tables depends on, besides its question."""

    position: int
    generation: int


_GENERATION = select(META.c.value).where(META.c.key == VIEWS_GENERATION_KEY)
_READ_VIEW_HEAD = select(LOG_HEAD.c.position, _GENERATION.scalar_subquery()).where(
    LOG_HEAD.c.id == 1
)


def read_view_head(conn: Connection) -> ViewHead:
    position, generation = conn.execute(_READ_VIEW_HEAD).one()
    return ViewHead(position, int(generation or 0))


def read_views_generation(conn: Connection) -> int:
    return int(conn.execute(_GENERATION).scalar_one_or_none() or 0)


def bump_views_generation(conn: Connection) -> int:
    """Move the views' generation on, in the caller's transaction (a rebuild's, holding
    the head's lock: no two bumps race). Every process's next head read sees it."""
    bumped = read_views_generation(conn) + 1
    if bumped == 1:
        conn.execute(insert(META).values(key=VIEWS_GENERATION_KEY, value="1"))
        return 1
    conn.execute(update(META).where(META.c.key == VIEWS_GENERATION_KEY).values(value=str(bumped)))
    return bumped


@dataclass
class _Batch:
    waiting: asyncio.Future[ViewHead] | None = None  # the read that callers arriving now share
    reading: asyncio.Task[None] | None = None


class HeadReader:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # One thread for head reads: at most one runs at a time, so a burst of
        # requests costs one query, not one thread hop and one query each. (Its
        # thread ends when the reader is collected.)
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="head-reader")
        self._batches: WeakKeyDictionary[asyncio.AbstractEventLoop, _Batch] = WeakKeyDictionary()

    def read(self) -> ViewHead:
        with self._engine.connect() as conn:
            return read_view_head(conn)

    async def current(self) -> ViewHead:
        loop = asyncio.get_running_loop()
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = _Batch()
        if batch.waiting is None:  # no read is pending that has not started yet
            batch.waiting = loop.create_future()
            if batch.reading is None:  # (the loop keeps only a weak reference to a task)
                batch.reading = loop.create_task(self._read_batches(loop, batch))
        return await asyncio.shield(batch.waiting)

    async def _read_batches(self, loop: asyncio.AbstractEventLoop, batch: _Batch) -> None:
        try:
            while batch.waiting is not None:
                # Whoever asks from here on waits for the next read: this one may
                # already be too old for them.
                answer, batch.waiting = batch.waiting, None
                try:
                    head = await loop.run_in_executor(self._reader, self.read)
                except Exception as failed:  # every caller of this read sees the error
                    answer.set_exception(failed)
                else:
                    answer.set_result(head)
        finally:
            batch.reading = None
