"""Recompute every derived table from the log, or check that they equal a recomputation.

The check rebuilds inside a transaction, compares, and rolls back: what is
compared is exactly what a rebuild would write.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, select

from service.db.backend import backend
from service.db.engine import SQLITE_BEGIN
from service.domain.envelope import LoggedEvent
from service.log.append import AppendRules, lock_head
from service.log.head import bump_views_generation
from service.log.replayed import recorded_events
from service.log.statistics import refresh_statistics
from service.settings import DEFAULTS, Settings
from service.views.built_ahead import BuiltAhead, built_ahead, can_build_ahead
from service.views.deployments.tables import CORROBORATIONS, FLOWS
from service.views.entries.tables import ENTRIES
from service.views.facts.tables import FACTS

DERIVED: tuple[Table, ...] = (FACTS, FLOWS, CORROBORATIONS, ENTRIES)
SHOWN_DIFFERENCES = 20
READ_DURING_REPLAY = frozenset({"ix_flow_fact", "ix_facts_sources"})
"""The derived tables' indexes a replay reads by: a correction ends a stored fact's rows
(by `fact_id`), and each chunk looks up its sources' dates (the sources' facts). Where
the backend finds it quicker (SQLite: `service.db.sqlite`), every other index is made
once the rows are written rather than kept up to date as they arrive."""


@dataclass(frozen=True)
class ReplayPlan:
    """How a replay reads the log: the `rebuild_*` settings (see `Settings`)."""

    chunk_events: int = DEFAULTS.rebuild_chunk_events
    rows_built_ahead: bool = DEFAULTS.rebuild_rows_built_ahead
    rows_built_ahead_from: int = DEFAULTS.rebuild_rows_built_ahead_from

    @classmethod
    def of(cls, settings: Settings) -> ReplayPlan:
        return cls(
            chunk_events=settings.rebuild_chunk_events,
            rows_built_ahead=settings.rebuild_rows_built_ahead,
            rows_built_ahead_from=settings.rebuild_rows_built_ahead_from,
        )


@dataclass
class RebuildReport:
    events: int
    seconds: float
    differences: list[str] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _replay(
    conn: Connection,
    rules: Sequence[AppendRules],
    head: int,
    plan: ReplayPlan,
    progress: Callable[[int], None] | None = None,
) -> int:
    replayed, analyzed_at = 0, 0
    deferred = [
        index
        for table in DERIVED
        for index in sorted(table.indexes, key=lambda each: str(each.name))  # a set: in order
        if index.name not in READ_DURING_REPLAY
    ]
    with (
        _cyclic_gc_paused(),
        backend(conn).rewriting(conn, deferred),
        _chunks(conn, rules, head, plan) as chunks,  # a second process, if any, starts meanwhile
    ):
        for table in DERIVED:
            conn.execute(delete(table))
        for chunk in chunks:
            chunk.apply(conn, rules)
            replayed += chunk.events
            if progress is not None:
                progress(chunk.events)
            if replayed >= 4 * analyzed_at:
                _analyze(conn)
                analyzed_at = replayed
    _analyze(conn)
    return replayed


@dataclass
class _LogChunk:
    """Events of the log, for the rules to apply."""

    logged: list[LoggedEvent]

    @property
    def events(self) -> int:
        return len(self.logged)

    def apply(self, conn: Connection, rules: Sequence[AppendRules]) -> None:
        for rule in rules:
            rule.apply(conn, self.logged)


@contextmanager
def _chunks(
    conn: Connection, rules: Sequence[AppendRules], head: int, plan: ReplayPlan
) -> Iterator[Iterator[_LogChunk] | Iterator[BuiltAhead]]:
    """The log in chunks of `plan.chunk_events` events: read here; or, when the plan
    allows it, for a long log in a SQLite file and rules that all have their plain rows
    built ahead (`can_build_ahead`), with those rows built by a second process."""
    if plan.rows_built_ahead and can_build_ahead(
        conn, rules, head, from_events=plan.rows_built_ahead_from
    ):
        with built_ahead(conn, head, plan.chunk_events) as chunks:
            yield chunks
        return
    yield _log_chunks(conn, head, plan.chunk_events)


def _log_chunks(conn: Connection, head: int, chunk: int) -> Iterator[_LogChunk]:
    after = 0
    while events := recorded_events(conn, after, head, chunk):
        yield _LogChunk([event.logged() for event in events])
        after = events[-1].position


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A replay holds a chunk of events (tens of thousands of dicts) alive while it makes
    as many rows: the cyclic collector would walk them all again and again, for nothing
    (they are freed by reference counting). Measured: a third of a replay's time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _analyze(conn: Connection) -> None:
    """Tell the planner how big the tables have grown (PostgreSQL sees the transaction's
    own rows). Planning with the emptied tables' statistics, it takes an index on
    `superseded_at` for each correction's UPDATE and reads every current row: a replay
    of a million events then never ends. SQLite keeps none unless asked."""
    refresh_statistics(conn, [t.name for t in DERIVED])


def rebuild_projections(
    engine: Engine,
    rules: Sequence[AppendRules],
    plan: ReplayPlan = ReplayPlan(),
    progress: Callable[[int, int], None] | None = None,
) -> RebuildReport:
    """Replace the derived tables by a replay of the log, holding off appends meanwhile.
    It moves the views' generation on in the same transaction: every running process
    computes its next view afresh, though the log's head has not moved. `progress(events,
    head)` is told after each chunk replayed."""
    started = time.perf_counter()
    writer = engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    with writer as conn, conn.begin():
        head = lock_head(conn)
        done = 0

        def replayed(events: int) -> None:
            nonlocal done
            done += events
            if progress is not None:
                progress(done, head.position)

        count = _replay(conn, rules, head.position, plan, replayed)
        bump_views_generation(conn)
    backend(engine).after_rewrite(engine)
    return RebuildReport(count, time.perf_counter() - started)


def check_projections(
    engine: Engine, rules: Sequence[AppendRules], plan: ReplayPlan = ReplayPlan()
) -> RebuildReport:
    """Name every difference between the derived tables and a fresh replay; change nothing."""
    started = time.perf_counter()
    with engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) as conn:
        transaction = conn.begin()
        try:
            head = lock_head(conn)
            live = {t.name: _contents(conn, t) for t in DERIVED}
            count = _replay(conn, rules, head.position, plan)
            rebuilt = {t.name: _contents(conn, t) for t in DERIVED}
        finally:
            transaction.rollback()
    differences = []
    for name in live:
        for row in sorted((live[name] - rebuilt[name]).elements(), key=repr):
            differences.append(f"{name}: live has a row a rebuild would not: {_show(row)}")
        for row in sorted((rebuilt[name] - live[name]).elements(), key=repr):
            differences.append(f"{name}: a rebuild has a row the live view lacks: {_show(row)}")
    return RebuildReport(count, time.perf_counter() - started, differences)


def _contents(conn: Connection, table: Table) -> Counter[tuple[Any, ...]]:
    """Rows as comparable tuples, without surrogate ids (a replay renumbers them), each
    with how many times it is stored: a row stored twice is a difference too."""
    columns = [c for c in table.columns if c.name != "id"]
    rows = conn.execute(select(*columns))
    return Counter(tuple(_hashable(value) for value in row) for row in rows)


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def _show(row: tuple[Any, ...]) -> str:
    text = repr(row)
    return text if len(text) < 300 else text[:297] + "..."
