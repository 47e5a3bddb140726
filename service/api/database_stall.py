"""A request waiting on a stalled PostgreSQL gets its 503 within seconds, not at the
statement timeout.

When the server stops answering but its host still acknowledges every packet, no
timeout of the connection fires (keepalives, `tcp_user_timeout`), and the statement
timeout runs only on a server that has the statement: a query waits out the stall.
Lowering the statement timeout would not help, and would cut queries that are only slow
(a cold fold of a million events takes 10-30 s). So a request still unanswered after
`LEDGER_DB_STALL_CHECK_SECONDS` asks the probe (`service/db/probe.py`) whether the
database answers at all. If it does, the request waits on, and asks again after as long;
if it does not, the client is answered now.

FastAPI runs a sync endpoint in a worker thread that cannot be stopped (anyio's
`to_thread.run_sync`, without `abandon_on_cancel`, waits for the thread even when
cancelled). So the app runs in a task of its own, and a request answered here is left
to end on its own: its query completes when the database answers again, or fails at the
statement timeout or a connection error; its connection goes back to the pool or is
discarded; whatever it sends then is dropped. A write left so may still be committed:
it is answered 503 outcome-unknown, and a retry with the same Idempotency-Key records it
once.
"""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.problems import (
    SAFE_METHODS,
    database_unavailable_problem,
    outcome_unknown_problem,
)
from service.db.probe import DatabaseProbe
from service.settings import Settings

log = logging.getLogger(__name__)

STALLED_WRITE = (
    "The database stopped answering while your write waited on it. The write is left to "
    "finish on its own and may still be recorded when the database answers again. Retry "
    "with the same Idempotency-Key and the ledger records it once (a retry answers with the "
    "first result if it was); without one, look for it in GET /v1/events before you send it "
    "again."
)


def answer_when_database_stalls(app: FastAPI, settings: Settings) -> None:
    """On PostgreSQL only: a SQLite file has no server to stall."""
    if settings.is_sqlite or settings.db_stall_check_seconds <= 0:
        return
    app.add_middleware(
        AnswerWhenDatabaseStalls,
        probe=DatabaseProbe(settings.database_url),
        wait_seconds=settings.db_stall_check_seconds,
    )


class _Answer:
    """The app's messages, passed on to the client until the middleware answers instead."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False
        self.dropping = False

    async def from_app(self, message: Message) -> None:
        if self.dropping:
            return  # the client has had its 503
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


class AnswerWhenDatabaseStalls:
    def __init__(self, app: ASGIApp, probe: DatabaseProbe, wait_seconds: float) -> None:
        self.app = app
        self.probe = probe
        self.wait_seconds = wait_seconds
        self._left_running: set[asyncio.Future[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        asked_at = time.monotonic()
        answer = _Answer(send)
        serving = asyncio.ensure_future(self.app(scope, receive, answer.from_app))
        try:
            while not await self._answered_within_wait(serving, answer):
                # No await between this check and `dropping`: the app cannot start its
                # answer in between.
                if await self.probe.answers() or answer.started:
                    continue  # slow, not stalled: wait on
                answer.dropping = True
                self._leave_running(serving)
                log.warning(
                    "the database does not answer: %s %s answered 503 after %.1f s",
                    scope["method"],
                    scope["path"],
                    time.monotonic() - asked_at,
                )
                await _stalled(scope["method"])(scope, receive, send)
                return
        except BaseException:
            serving.cancel()
            raise
        await serving

    async def _answered_within_wait(self, serving: asyncio.Future[None], answer: _Answer) -> bool:
        await asyncio.wait({serving}, timeout=self.wait_seconds)
        return serving.done() or answer.started

    def _leave_running(self, serving: asyncio.Future[None]) -> None:
        self._left_running.add(serving)  # a task nobody holds may be collected mid-run
        serving.add_done_callback(self._ended)

    def _ended(self, serving: asyncio.Future[None]) -> None:
        self._left_running.discard(serving)
        if not serving.cancelled() and (error := serving.exception()) is not None:
            log.warning(
                "a request answered 503 while the database stalled ended later in %s",
                type(error).__name__,
            )


def _stalled(method: str) -> JSONResponse:
    if method in SAFE_METHODS:
        return database_unavailable_problem(nothing_recorded=False)
    return outcome_unknown_problem(STALLED_WRITE)
