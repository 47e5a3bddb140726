"""The app factory: everything the service runs is built here, from settings."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import anyio.to_thread
import httpx
from fastapi import FastAPI

from service.api.body_guard import GuardRequestBodies
from service.api.compression import compress_answers
from service.api.cors import allow_cross_origin
from service.api.database_stall import answer_when_database_stalls
from service.api.docs import mount_docs
from service.api.health import router as health_router
from service.api.limits import BodySizeLimit
from service.api.logs import configure_logging_once, use_structlog
from service.api.metrics import forget_this_process
from service.api.metrics import router as metrics_router
from service.api.openapi_doc import install_openapi, operation_id
from service.api.problems import install_problem_handlers
from service.api.rate_limits import RateLimits, budgets_of
from service.api.request_context import RequestContext
from service.api.serving.repeated_reads import RepeatedReads
from service.api.stream_slots import StreamSlots
from service.api.telemetry import RequestIdOnSpan, build_telemetry, telemetry_config
from service.api.v1 import (
    admin,
    audit,
    changes,
    deployments,
    entries,
    estimates,
    events,
    places,
    remittances,
    sources,
    statements,
    stream,
    streams,
    wages,
    webhooks,
)
from service.desk.pages import mount_desk
from service.follow.delivery import start_background_delivery
from service.follow.watch import LogWatch
from service.ledger import Ledger, build_ledger
from service.settings import Settings, get_settings

VERSION = "1.0.0"
WARMED_VIEWS = ("/v1/deployments", "/")
"""Asked at start, before the process says it is ready: the API's default view, then the
desk's landing page (which adds the view by country: 12 s more at a million events on
SQLite, which its first reader would otherwise wait)."""


GC_THRESHOLDS = (50_000, 20, 20)
"""The cyclic collector's thresholds while serving (Python's are 700, 10, 10). A request
makes objects by the ten thousand, nearly all freed by reference counting; with 700,
the collector ran a hundred times a batch POST and walked what the batch still held.
Measured (validation and place resolution of a 1,000-event batch, after `gc.freeze`):
37 -> 28 ms. Cyclic garbage waits longer for collection: at most 50k objects' worth."""


async def _warm_views(app: FastAPI) -> None:
    """Ask this process for the default views, as their first readers will: the whole log
    is folded now, not while a reader waits (seconds at a million events), and every
    cache those readers' requests look in is filled. Asked through the app itself, the
    warm-up fills exactly the caches a request uses, whatever the pipeline becomes.

    A view's links are absolute, so its rendered answer is kept per base URL: the one
    warmed is `LEDGER_PUBLIC_URL`'s. Without it, a reader on another host still finds
    the view folded, and only its rows are written again for that host."""
    ledger: Ledger = app.state.ledger
    base_url = ledger.settings.public_url or "http://warm-up"
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            for path in WARMED_VIEWS:
                response = await client.get(path, headers={"Accept-Encoding": "gzip"})
                if response.status_code != 200:
                    logging.getLogger(__name__).warning(
                        "warming %s answered %s: %s", path, response.status_code, response.text
                    )
    except Exception:  # serving cold beats not serving: ready all the same
        logging.getLogger(__name__).exception("warming %s failed", WARMED_VIEWS)
    finally:
        ledger.warming_up = None


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    ledger: Ledger = app.state.ledger
    warming: asyncio.Task[None] | None = None
    if ledger.settings.warm_views_on_start:
        warmed = ", ".join(WARMED_VIEWS)
        ledger.warming_up = f"folding the default views ({warmed}) of the whole log"
        warming = asyncio.create_task(_warm_views(app))
    delivery = start_background_delivery(ledger.engine, ledger.settings)
    # Everything built so far (routes, models, schemas, the gazetteer) lives as long as
    # the process: out of the collector's sight, a full collection no longer walks it.
    # Seen here: every other uncached view paid 100-170 ms for such a walk.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    yield
    if warming is not None:
        warming.cancel()
        with suppress(asyncio.CancelledError):
            await warming
    await app.state.log_watch.close()
    if delivery is not None:
        await anyio.to_thread.run_sync(delivery.stop)
    if app.state.telemetry is not None:
        await anyio.to_thread.run_sync(app.state.telemetry.flush)
    forget_this_process()


def create_app(settings: Settings | None = None, ledger: Ledger | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging_once(settings.log_format)  # whichever server runs the app
    telemetry = build_telemetry(settings, service_version=VERSION)  # None: off
    app = FastAPI(
        title="Labor Ledger",
        version=VERSION,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        lifespan=_lifespan,
        telemetry=telemetry_config(telemetry),
    )
    app.state.telemetry = telemetry
    app.state.ledger = ledger or build_ledger(settings)
    app.state.log_watch = LogWatch(app.state.ledger.engine, settings.stream_poll_seconds)
    app.state.stream_slots = StreamSlots(settings.streams_per_address, settings.streams_total)
    install_problem_handlers(app)
    for router in (
        stream.router,  # before events.router: "/v1/events/stream" is not an event id
        events.router,
        streams.router,
        places.router,
        deployments.router,
        changes.router,
        estimates.router,
        remittances.router,
        wages.router,
        entries.router,
        statements.router,
        sources.router,
        audit.router,
        admin.router,
        webhooks.router,
        health_router,
        metrics_router,
    ):
        app.include_router(router)
    mount_desk(app)  # the desk answers `/`; the docs, `/docs`
    mount_docs(app)
    install_openapi(app)
    # inside BodySizeLimit, which bounds what it reads
    app.add_middleware(GuardRequestBodies, max_head_bytes=settings.max_header_bytes)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RepeatedReads)  # a repeated read skips everything inside it
    compress_answers(app)  # outside the pipeline, whose gzipped views it passes through
    answer_when_database_stalls(app, settings)  # PostgreSQL stalled: a 503 within seconds
    if settings.rate_limits_enabled:  # outside the pipeline: a repeated read counts too
        app.add_middleware(RateLimits, budgets=budgets_of(settings))
    allow_cross_origin(app, settings.cors_allow_origins)  # preflights answered, not routed
    use_structlog()
    if telemetry is not None:
        app.add_middleware(RequestIdOnSpan)  # inside RequestContext, which chose the id
    app.add_middleware(RequestContext)  # outermost: every answer has an id and a log line
    return app
