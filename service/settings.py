"""Every setting of the service, read from `LEDGER_*` variables in this one place."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./data/ledger.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, ge=1, description="uvicorn worker processes.")
    migrate_on_start: bool = True
    load_seed: bool = Field(default=True, description="Load the seed report into an empty ledger.")
    bootstrap_admin: bool = Field(
        default=True, description="Print a new admin key on first start when there is none."
    )
    secret_key: str | None = Field(
        default=None,
        description="Keys are stored as HMAC-SHA256 under this secret; by default a random "
        "secret is generated once and kept in the database.",
    )
    idempotency_ttl_hours: int = Field(default=48, ge=24)
    view_cache_mb: int = Field(
        default=256,
        ge=1,
        description="Rendered views kept per process, in MiB (at a million events one "
        "view of every city is about 1.6 MB with its gzip copy).",
    )
    warm_views_on_start: bool = Field(
        default=True,
        description="At start, fold the default views (`/v1/deployments` and the desk's "
        "landing page) before `/readyz` answers ready, so that the first reader does not "
        "wait for a fold of the whole log.",
    )
    key_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description="A key that checked out is trusted this long without a database read; "
        "a key revoked through another process stops working within this time.",
    )
    max_body_bytes: int = 1024 * 1024
    db_pool_size: int = Field(default=40, description="Connections per process (PostgreSQL).")
    # A stalled or stopped database is answered with a 503 within seconds, never a hang.
    db_connect_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Give up opening a database connection after this long."
    )
    db_pool_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="A request waits this long for a free connection, then gets a 503.",
    )
    db_statement_timeout_seconds: float = Field(
        default=30.0,
        ge=0,
        description="PostgreSQL cancels a statement of the service after this long (a 503); "
        "0 for none. The CLI's long jobs (import, rebuild, verify, export, restore) run "
        "without it.",
    )
    db_stall_check_seconds: float = Field(
        default=5.0,
        ge=0,
        description="A request still unanswered after this long asks whether PostgreSQL "
        "answers at all (a new connection, `SELECT 1`, within 2 s); if it does not, the "
        "request is answered now with a 503 (a write: outcome unknown) and its query ends "
        "on its own. A slow query on a database that answers is never cut. 0: off.",
    )
    public_url: str | None = Field(
        default=None,
        description="Where clients reach the service, e.g. https://ledger.example.org: the "
        "base of absolute links (`next`, `Link` headers, a deployments row's `events_url`) "
        "and the contract's `servers`. Unset: links use the address each request was sent to.",
    )
    # Limits on what one client may ask (api/rate_limits.py, the event stream). Budgets
    # are in `limits` notation and counted per process: with N workers, N times each.
    rate_limits_enabled: bool = Field(
        default=True, description="Count requests against the budgets below (429 beyond)."
    )
    rate_limit_reads: str = Field(
        default="1200/minute",
        description="Reads (GET, HEAD) per client address, and per key when one is sent.",
    )
    rate_limit_writes: str = Field(
        default="300/minute",
        description="Writes per client address, and per key (a batch of 1,000 events is one).",
    )
    rate_limit_failed_authentication: str = Field(
        default="30/minute",
        description="Answers of 401 per client address; beyond, requests from it that "
        "need or present a key are refused until the window resets.",
    )
    streams_per_address: int = Field(
        default=8, ge=1, description="Open event streams one client address may hold."
    )
    streams_total: int = Field(
        default=500, ge=1, description="Open event streams this process holds in all."
    )
    max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        description="A request's head (request line and headers) may be this large; "
        "beyond, `serve` answers 400 and closes the connection.",
    )
    request_head_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A connection must send a whole request head within this long of "
        "opening (or of its last answer), or `serve` closes it.",
    )
    keep_alive_seconds: float = Field(
        default=5.0, gt=0, description="An idle connection is closed after this long."
    )
    # The web: browsers on other origins.
    cors_allow_origins: list[str] = Field(
        default=["*"],
        description='Origins whose browser apps may call the API, as JSON: `["*"]` (any, '
        "the default: keys travel as bearer tokens, never cookies) or e.g. "
        '`["https://desk.example.org"]`; `[]` turns cross-origin access off.',
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="`json`: one JSON object a line, each with the request id it was "
        "written for (`labor-ledger serve`); `text` for reading in a terminal.",
    )
    otel_enabled: bool = Field(
        default=False,
        description="Trace each request with OpenTelemetry (FastAPI's own support); spans "
        "and HTTP metrics are sent over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set "
        "(api/telemetry.py).",
    )
    # Following the log: the event stream and webhooks (service/follow).
    stream_heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="A comment line on an idle event stream this often."
    )
    stream_poll_seconds: float = Field(
        default=0.2, gt=0, description="How often a SQLite-backed process looks for new commits."
    )
    deliver_webhooks: bool = Field(
        default=True, description="Run the webhook delivery worker inside the service."
    )
    webhook_max_attempts: int = Field(
        default=10, ge=1, description="Failed attempts before a subscription is parked (default)."
    )
    webhook_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="A whole delivery attempt, connecting, sending and reading the answer's "
        "status, ends after this.",
    )
    webhook_connect_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Connecting to a receiver ends after this."
    )
    webhooks_allow_private_targets: bool = Field(
        default=False,
        description="Let webhooks target loopback, private, link-local and other non-public "
        "addresses: for development and tests only (otherwise a 422 at registration, and a "
        "refused delivery if a name comes to resolve to one).",
    )
    webhook_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A claimed delivery is another worker's to retry after this; "
        "keep it above the timeout.",
    )
    webhook_backoff_seconds: float = Field(default=1.0, gt=0, description="First retry delay.")
    webhook_backoff_max_seconds: float = Field(default=600.0, gt=0)
    webhook_poll_seconds: float = Field(
        default=0.25, gt=0, description="How often the worker looks for due deliveries."
    )
    webhook_concurrency: int = Field(
        default=16,
        ge=1,
        description="Deliveries in flight to receivers in good standing, at most one per "
        "subscription: a hanging receiver holds one of these for one attempt at most.",
    )
    webhook_failing_concurrency: int = Field(
        default=4,
        ge=1,
        description="Deliveries in flight, all together, to receivers whose breaker is "
        "tripped (they wait out their backoff holding none).",
    )
    webhook_breaker_failures: int = Field(
        default=3,
        ge=1,
        description="Failed attempts in a row that trip a receiver's breaker, moving it to "
        "the narrow lane until it succeeds again.",
    )

    # Tuning: chunk sizes, caches and thresholds. Each is read where its object is built
    # (`service.ledger`); the defaults are the measured choices.
    computed_views: int = Field(
        default=16,
        ge=1,
        description="Computed views (models) kept per process. Each holds tens of thousands "
        "of objects, which the garbage collector walks on every full collection: few.",
    )
    folds_kept_questions: int = Field(
        default=64,
        ge=1,
        description="Deployments questions whose folds are kept to carry forward, the last "
        "asked (a client walking `as_of` day by day asks a new question each time).",
    )
    folds_kept_per_question: int = Field(
        default=4,
        ge=1,
        description="Folds kept per question: the head's, and a few past positions asked.",
    )
    fold_carried_max_events: int = Field(
        default=10_000,
        ge=0,
        description="A kept fold is carried forward over at most this many events; further, "
        "a full fold is as quick.",
    )
    fold_carried_max_groups: int = Field(
        default=500,
        ge=0,
        description="A kept fold is carried forward when at most this many of its groups "
        "changed; more, and the view is folded whole.",
    )
    duplicates_compared: int = Field(
        default=1000,
        ge=1,
        description="Stored facts a new flow is compared with, at most, when looking for "
        "possible duplicates (the warnings are hints, not a census).",
    )
    rebuild_chunk_events: int = Field(
        default=10_000,
        ge=1,
        description="Events a rebuild reads from the log and replays at a time.",
    )
    rebuild_rows_built_ahead: bool = Field(
        default=True,
        description="On a SQLite file, let a second process build the plain facts' rows of a "
        "long rebuild while the replay writes (the tables come out the same; at a million "
        "events the replay took 29-30 s this way against 41-44 s).",
    )
    rebuild_rows_built_ahead_from: int = Field(
        default=100_000,
        ge=0,
        description="The log length from which rows are built ahead: the second process "
        "takes about 0.75 s to start, a replay of 100k events about 4 s.",
    )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        return sqlite_file(self.database_url)


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database URL; None for any other database, an in-memory one,
    or a SQLite URI (`file:...`)."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or ":memory:" in database_url:
        return None
    database = database_url.removeprefix(prefix)
    return None if database.startswith("file:") else Path(database)


DEFAULTS = Settings.model_construct()
"""Every setting at its default, read from no environment: the defaults of the objects
that take a setting as a parameter, so that each default is written once, above."""


@cache
def get_settings() -> Settings:
    return Settings()
