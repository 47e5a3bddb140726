"""The log's head for a read: fresh on every request, at the least cost.

Views are cached by head position, so a cached read costs what reading the
head costs. Each caller gets the result of a read that *began after it asked*,
so a view is never older than a write that returned before the request came
in, whichever process made the write (a head pushed by NOTIFY could lag behind
one). Callers that arrive while a read runs share the next one: under load one
query serves many requests, and the event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy import Engine

from service.log.append import read_head


@dataclass
class _Batch:
    waiting: asyncio.Future[int] | None = None  # the read that callers arriving now share
    reading: asyncio.Task[None] | None = None


class HeadReader:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # One thread for head reads: at most one runs at a time, so a burst of
        # requests costs one query, not one thread hop and one query each. (Its
        # thread ends when the reader is collected.)
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="head-reader")
        self._batches: WeakKeyDictionary[asyncio.AbstractEventLoop, _Batch] = WeakKeyDictionary()

    def read(self) -> int:
        with self._engine.connect() as conn:
            return read_head(conn).position

    async def position(self) -> int:
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
                    position = await loop.run_in_executor(self._reader, self.read)
                except Exception as failed:  # every caller of this read sees the error
                    answer.set_exception(failed)
                else:
                    answer.set_result(position)
        finally:
            batch.reading = None
