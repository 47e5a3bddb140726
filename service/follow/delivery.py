"""The webhook delivery worker: POST what the outbox owes, in order, signed, retried.

Claims are leases, taken in a short transaction and released before the POST:
no transaction stays open while a receiver thinks, so appends never wait on
one. Only a subscription's lowest owed position can be claimed, so one
subscription's events go out one at a time, in position order, whatever the
number of workers (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: a write lock
taken at BEGIN). A worker that dies mid-delivery leaves a lease that expires:
the event is delivered again. That is the at-least-once contract.

One receiver's trouble is its own. Each subscription has at most one delivery in
flight (which keeps its order), and receivers in good standing get their own pool of
`concurrency` threads: a receiver that hangs holds one thread for at most the
attempt's deadline, never another subscription's. A receiver that has failed
`breaker_failures` times in a row is tripped: its attempts go through a narrow lane of
`failing_concurrency` threads, and between them it waits out its backoff holding
none. Its first success closes the breaker again.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from uuid import UUID, uuid4

import httpx
from sqlalchemy import ColumnElement, Connection, Engine, Select, delete, or_, select, update

from service.access.keys import ensure_secret
from service.db.backend import backend
from service.db.engine import SQLITE_BEGIN
from service.domain.clock import utc_now
from service.domain.envelope import RecordedEvent
from service.follow.guarded_http import deadline, guarded_client
from service.follow.secret_box import SecretBox, SecretUnreadable, seal_plain_secrets
from service.follow.signing import SIGNATURE_HEADER, signature_header, standard_headers
from service.follow.tables import ACTIVE, FAILING, OUTBOX, SUBSCRIPTIONS
from service.follow.targets import RefusedTarget, TargetRules, UnresolvedTarget
from service.log.export import envelope_json
from service.log.read import EventFilter, read_events
from service.settings import Settings

log = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "labor-ledger-webhooks/1"


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout_seconds: float = 5.0
    """A whole attempt, from connecting to the answer's status."""
    connect_timeout_seconds: float = 2.0
    lease_seconds: float = 30.0
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 600.0
    poll_seconds: float = 0.25
    concurrency: int = 16
    """Deliveries in flight to receivers in good standing (one per subscription)."""
    failing_concurrency: int = 4
    """Deliveries in flight to tripped receivers, all of them together."""
    breaker_failures: int = 3
    """Failures in a row that trip a receiver's breaker."""
    allow_private_targets: bool = False
    secret_key: str | None = field(default=None, repr=False)
    """The service's secret (`LEDGER_SECRET_KEY`), which webhook secrets are sealed under;
    None: the one generated and kept in the database."""

    @classmethod
    def of(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            timeout_seconds=settings.webhook_timeout_seconds,
            connect_timeout_seconds=settings.webhook_connect_timeout_seconds,
            lease_seconds=max(settings.webhook_lease_seconds, settings.webhook_timeout_seconds),
            backoff_seconds=settings.webhook_backoff_seconds,
            backoff_max_seconds=settings.webhook_backoff_max_seconds,
            poll_seconds=settings.webhook_poll_seconds,
            concurrency=settings.webhook_concurrency,
            failing_concurrency=settings.webhook_failing_concurrency,
            breaker_failures=settings.webhook_breaker_failures,
            allow_private_targets=settings.webhooks_allow_private_targets,
            secret_key=settings.secret_key,
        )

    def timeout(self) -> httpx.Timeout:
        connect = min(self.connect_timeout_seconds, self.timeout_seconds)
        return httpx.Timeout(self.timeout_seconds, connect=connect)

    def backoff(self, attempts: int, jitter: float) -> timedelta:
        """Doubling from `backoff_seconds`, capped; `jitter` in [0, 1) takes off up to half,
        so receivers coming back are not hit by every retry at once."""
        delay = min(self.backoff_seconds * 2 ** (attempts - 1), self.backoff_max_seconds)
        return timedelta(seconds=delay * (1 - jitter / 2))


@dataclass(frozen=True)
class Claim:
    outbox_id: int
    subscription_id: UUID
    position: int
    attempts: int
    url: str
    secret: str
    """As stored: sealed (`secret_box.py`), or in clear from an earlier version."""
    max_attempts: int


class Verdict(Enum):
    delivered = "delivered"
    retry = "retry"
    park = "park"


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    error: str | None = None


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine,
        policy: DeliveryPolicy,
        *,
        targets: TargetRules | None = None,
        secrets: SecretBox | None = None,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = utc_now,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.client = client or guarded_client(
            targets or TargetRules(allow_private=policy.allow_private_targets),
            policy.timeout(),
            headers={"User-Agent": USER_AGENT},
            max_connections=policy.concurrency + policy.failing_concurrency,
        )
        self.secrets = secrets or SecretBox(ensure_secret(engine, policy.secret_key))
        self.clock = clock
        self.jitter = jitter
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"

    def close(self) -> None:
        self.client.close()

    # -- claiming ---------------------------------------------------------

    def claim(self, limit: int, *, tripped: bool | None = None) -> list[Claim]:
        """Lease up to `limit` due deliveries, each the oldest owed to its subscription;
        `tripped` takes only receivers whose breaker is tripped (True) or not (False)."""
        now = self.clock()
        due = _due(now, limit, self._standing(tripped))
        with self.engine.connect() as conn:
            if not conn.execute(due.limit(1)).first():  # a read: costs writers nothing
                return []
        immediate = self.engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with immediate as conn, conn.begin():
            rows = conn.execute(backend(conn).claimed(due, OUTBOX)).all()
            if not rows:
                return []
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_([r.id for r in rows]))
                .values(
                    leased_until=now + timedelta(seconds=self.policy.lease_seconds),
                    lease_owner=self.owner,
                )
            )
        return [
            Claim(
                outbox_id=r.id,
                subscription_id=r.subscription_id,
                position=r.position,
                attempts=r.attempts,
                url=r.url,
                secret=r.secret,
                max_attempts=r.max_attempts,
            )
            for r in rows
        ]

    def _standing(self, tripped: bool | None) -> ColumnElement[bool] | None:
        if tripped is None:
            return None
        failures = SUBSCRIPTIONS.c.failures
        threshold = self.policy.breaker_failures
        return failures >= threshold if tripped else failures < threshold

    # -- delivering -------------------------------------------------------

    def deliver(self, claim: Claim) -> Outcome:
        """POST one claimed event and record what came of it."""
        event = self._event(claim.position)
        # No event cannot happen while the log is append-only; never block on it.
        outcome = Outcome(Verdict.delivered) if event is None else self._post(claim, event)
        self._record(claim, outcome)
        return outcome

    def _event(self, position: int) -> RecordedEvent | None:
        with self.engine.connect() as conn:
            found = read_events(
                conn, EventFilter(after=position - 1, up_to_position=position), limit=1
            )
        return found[0] if found else None

    def _post(self, claim: Claim, event: RecordedEvent) -> Outcome:
        try:
            secret = self.secrets.open(claim.secret)
        except SecretUnreadable as unreadable:  # asking again will not help
            return Outcome(Verdict.park, unreadable.detail)
        body = envelope_json(event).encode()
        timestamp = int(self.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            **standard_headers(secret, str(event.id), timestamp, body),
            SIGNATURE_HEADER: signature_header(secret, timestamp, body),
            "Ledger-Event-Id": str(event.id),
            "Ledger-Event-Type": event.type,
            "Ledger-Position": str(event.position),
            "Ledger-Subscription-Id": str(claim.subscription_id),
            "Ledger-Attempt": str(claim.attempts + 1),
        }
        try:
            with deadline(self.policy.timeout_seconds):
                response = self.client.post(claim.url, content=body, headers=headers)
        except UnresolvedTarget as unresolved:  # DNS may answer again: retried
            return Outcome(Verdict.retry, unresolved.reason)
        except RefusedTarget as refused:  # nothing was sent; an admin must look at it
            return Outcome(Verdict.park, f"{refused.reason} (not connected, not retried)")
        except httpx.TimeoutException as timeout:
            return Outcome(Verdict.retry, f"timed out: {type(timeout).__name__}")
        except httpx.TransportError as failed:
            # The kind of failure only: the operating system's words (connection
            # refused or reset) would tell an admin which ports are open where.
            return Outcome(Verdict.retry, f"{type(failed).__name__}: the receiver was not reached")
        if response.is_success:
            return Outcome(Verdict.delivered)
        error = f"HTTP {response.status_code} from the receiver"
        if response.status_code >= 500 or response.status_code in RETRIED_STATUSES:
            return Outcome(Verdict.retry, error)
        # Any other answer will not change by asking again; order forbids skipping it.
        return Outcome(Verdict.park, error + " (not retried)")

    def _record(self, claim: Claim, outcome: Outcome) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            if outcome.verdict is Verdict.delivered:
                conn.execute(delete(OUTBOX).where(OUTBOX.c.id == claim.outbox_id))
                conn.execute(
                    update(SUBSCRIPTIONS)
                    .where(SUBSCRIPTIONS.c.id == claim.subscription_id)
                    .values(failures=0, last_delivered_at=now)
                )
                conn.execute(
                    update(SUBSCRIPTIONS)
                    .where(
                        SUBSCRIPTIONS.c.id == claim.subscription_id,
                        or_(
                            SUBSCRIPTIONS.c.last_delivered_position.is_(None),
                            SUBSCRIPTIONS.c.last_delivered_position < claim.position,
                        ),
                    )
                    .values(last_delivered_position=claim.position)
                )
                return
            attempts = claim.attempts + 1
            park = outcome.verdict is Verdict.park or attempts >= claim.max_attempts
            retry_at = now if park else now + self.policy.backoff(attempts, self.jitter())
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == claim.outbox_id)
                .values(
                    attempts=attempts,
                    next_attempt_at=retry_at,
                    leased_until=None,
                    lease_owner=None,
                    last_error=outcome.error,
                )
            )
            conn.execute(
                update(SUBSCRIPTIONS)
                .where(SUBSCRIPTIONS.c.id == claim.subscription_id)
                .values(
                    failures=SUBSCRIPTIONS.c.failures + 1,
                    last_error=outcome.error,
                    last_error_at=now,
                )
            )
            if park:
                _park(conn, claim.subscription_id)
                log.warning(
                    "webhook %s parked after %d attempts: %s",
                    claim.subscription_id,
                    attempts,
                    outcome.error,
                )

    # -- running ----------------------------------------------------------

    def run_pending(self) -> int:
        """Deliver, in this thread, everything due now; the number of attempts made."""
        made = 0
        while claims := self.claim(self.policy.concurrency):
            for claim in claims:
                self.deliver(claim)
                made += 1
        return made

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set: receivers in good standing and tripped ones each
        in their own lane, so that hanging receivers never hold up the others. Secrets
        an earlier version stored in clear are sealed first."""
        try:
            if sealed := seal_plain_secrets(self.engine, self.secrets):
                log.info("sealed %d webhook secrets kept in clear", sealed)
        except Exception:  # delivering matters more; the next start tries again
            log.warning("could not seal the webhook secrets kept in clear", exc_info=True)
        lanes = [
            _Lane(tripped=False, capacity=self.policy.concurrency),
            _Lane(tripped=True, capacity=self.policy.failing_concurrency),
        ]
        threads = self.policy.concurrency + self.policy.failing_concurrency
        with ThreadPoolExecutor(threads, "ledger-webhook") as pool:
            while not stop.is_set():
                for lane in lanes:
                    try:
                        claims = self.claim(lane.free, tripped=lane.tripped) if lane.free else []
                    except Exception:  # the database is away: try again later, never die
                        log.warning("could not claim webhook deliveries", exc_info=True)
                        claims = []
                    lane.in_flight |= {pool.submit(self._deliver_logged, c) for c in claims}
                in_flight = set().union(*(lane.in_flight for lane in lanes))
                if in_flight:
                    done, _ = wait(
                        in_flight, timeout=self.policy.poll_seconds, return_when=FIRST_COMPLETED
                    )
                    for lane in lanes:
                        lane.in_flight -= done
                else:
                    stop.wait(self.policy.poll_seconds)
            wait(set().union(*(lane.in_flight for lane in lanes)))

    def _deliver_logged(self, claim: Claim) -> Outcome:
        try:
            return self.deliver(claim)
        except Exception as failed:  # its lease runs out and another attempt follows
            log.warning("webhook delivery failed to record", exc_info=True)
            return Outcome(Verdict.retry, str(failed))


@dataclass
class _Lane:
    """Deliveries in flight for receivers of one standing, up to `capacity`."""

    tripped: bool
    capacity: int
    in_flight: set[Future[Outcome]] = field(default_factory=set)

    @property
    def free(self) -> int:
        return self.capacity - len(self.in_flight)


def _due(now: datetime, limit: int, standing: ColumnElement[bool] | None = None) -> Select[Any]:
    """Each active subscription's oldest owed event, when it is due and not leased."""
    head_of_line = (
        select(OUTBOX.c.id)
        .where(OUTBOX.c.subscription_id == SUBSCRIPTIONS.c.id)
        .order_by(OUTBOX.c.position)
        .limit(1)
        .correlate(SUBSCRIPTIONS)
        .scalar_subquery()
    )
    heads = select(head_of_line).where(SUBSCRIPTIONS.c.status == ACTIVE)
    if standing is not None:
        heads = heads.where(standing)
    return (
        select(
            OUTBOX.c.id,
            OUTBOX.c.subscription_id,
            OUTBOX.c.position,
            OUTBOX.c.attempts,
            SUBSCRIPTIONS.c.url,
            SUBSCRIPTIONS.c.secret,
            SUBSCRIPTIONS.c.max_attempts,
        )
        .join(SUBSCRIPTIONS, SUBSCRIPTIONS.c.id == OUTBOX.c.subscription_id)
        .where(
            OUTBOX.c.id.in_(heads),
            OUTBOX.c.next_attempt_at <= now,
            or_(OUTBOX.c.leased_until.is_(None), OUTBOX.c.leased_until <= now),
        )
        .order_by(OUTBOX.c.next_attempt_at)
        .limit(limit)
    )


def _park(conn: Connection, subscription_id: UUID) -> None:
    conn.execute(
        update(SUBSCRIPTIONS)
        .where(SUBSCRIPTIONS.c.id == subscription_id, SUBSCRIPTIONS.c.status == ACTIVE)
        .values(status=FAILING)
    )


class BackgroundDelivery:
    """The worker on a daemon thread, for the service's lifespan."""

    def __init__(self, worker: DeliveryWorker) -> None:
        self.worker = worker
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=worker.run, args=(self._stop,), name="ledger-webhooks", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.worker.close()


def start_background_delivery(engine: Engine, settings: Settings) -> BackgroundDelivery | None:
    """The service's own worker, unless `LEDGER_DELIVER_WEBHOOKS=false` leaves it to
    `labor-ledger deliver` processes."""
    if not settings.deliver_webhooks:
        return None
    background = BackgroundDelivery(DeliveryWorker(engine, DeliveryPolicy.of(settings)))
    background.start()
    return background
