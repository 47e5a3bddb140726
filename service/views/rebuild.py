"""Recompute every derived table from the log, or check that they equal a recomputation.

The check rebuilds inside a transaction, compares, and rolls back: what is
compared is exactly what a rebuild would write.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, select

from service.db.engine import SQLITE_BEGIN
from service.domain.envelope import LoggedEvent
from service.log.append import AppendRules, lock_head
from service.log.head import bump_views_generation
from service.log.replayed import recorded_events
from service.log.statistics import refresh_statistics
from service.views.built_ahead import BuiltAhead, built_ahead, can_build_ahead
from service.views.deployments.tables import CORROBORATIONS, FLOWS
from service.views.facts.tables import FACTS

DERIVED: tuple[Table, ...] = (FACTS, FLOWS, CORROBORATIONS)
CHUNK = 10_000
SQLITE_REPLAY_CACHE_KIB = 256 * 1024
"""SQLite's page cache while it replays (per connection; its default is 2 MiB). A replay
writes a row into every index of the derived tables at once, a few hundred places in
each: with 2 MiB, pages go to the WAL and come back again and again. Measured on the 1M
bench database (first 200k events): 256 MiB made the replay 15% faster."""
SHOWN_DIFFERENCES = 20
READ_DURING_REPLAY = frozenset({"ix_flow_fact", "ix_facts_sources"})
"""The derived tables' indexes a replay reads by: a correction ends a stored fact's rows
(by `fact_id`), and each chunk looks up its sources' dates (the sources' facts). On
SQLite every other index is dropped before a replay and made again after it: sorting
the finished rows into an index once costs less than a B-tree insert per row into
each index as the rows arrive. Measured with 200k flow rows: 1.7 s against 2.6 s; a
replay of the 1M bench log, 79 s against 103 s."""


@dataclass
class RebuildReport:
    events: int
    seconds: float
    differences: list[str] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _replay(conn: Connection, rules: Sequence[AppendRules], head: int) -> int:
    replayed, analyzed_at = 0, 0
    with (
        _cyclic_gc_paused(),
        _sqlite_replay_pragmas(conn),
        _chunks(conn, rules, head) as chunks,  # a second process, if any, starts meanwhile
    ):
        for table in DERIVED:
            conn.execute(delete(table))
        with _sqlite_indexes_made_after(conn):
            for chunk in chunks:
                chunk.apply(conn, rules)
                replayed += chunk.events
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
    conn: Connection, rules: Sequence[AppendRules], head: int
) -> Iterator[Iterator[_LogChunk] | Iterator[BuiltAhead]]:
    """The log in chunks of `CHUNK` events: read here, or for a long log in a SQLite file
    with its plain rows built by a second process (`built_ahead`)."""
    if can_build_ahead(conn, rules, head):
        with built_ahead(conn, head, CHUNK) as chunks:
            yield chunks
        return
    yield _log_chunks(conn, head)


def _log_chunks(conn: Connection, head: int) -> Iterator[_LogChunk]:
    after = 0
    while events := recorded_events(conn, after, head, CHUNK):
        yield _LogChunk([event.logged() for event in events])
        after = events[-1].position


SQLITE_INDEX_BUILD_CACHE_KIB = 2000
"""The page cache while the deferred indexes are made: SQLite's default. SQLite sorts an
index's keys in runs as large as the cache, and its helper threads (`threads`) sort one
run while the next is read; with the replay's large cache a table's keys made one run,
sorted by one thread. The 1M bench database's indexes: 4.5 s against 6.6 s."""
SQLITE_REPLAY_PRAGMAS = {
    "cache_size": -SQLITE_REPLAY_CACHE_KIB,
    "secure_delete": 0,
    "threads": 2,
}
"""On SQLite, the replay's connection runs with these, and with its own again afterwards
(it goes back to the pool). The cache: see `SQLITE_REPLAY_CACHE_KIB`. `secure_delete`,
which Debian's SQLite turns on, writes zeros over every page a DELETE frees: emptying
the derived tables of a million events took 1.3-2.4 s with it, 0.2 s without.
Their rows are copies of what the log holds for good; there is nothing to wipe.
`threads`: helper threads for the sorts that make the deferred indexes (see
`SQLITE_INDEX_BUILD_CACHE_KIB`); the replay's own statements sort nothing."""


@contextmanager
def _sqlite_replay_pragmas(conn: Connection) -> Iterator[None]:
    if conn.dialect.name != "sqlite":
        yield
        return
    before = {
        name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in SQLITE_REPLAY_PRAGMAS
    }
    for name, replaying in SQLITE_REPLAY_PRAGMAS.items():
        conn.exec_driver_sql(f"PRAGMA {name} = {replaying}")
    try:
        yield
    finally:
        for name, own in before.items():
            conn.exec_driver_sql(f"PRAGMA {name} = {int(own or 0)}")


@contextmanager
def _sqlite_indexes_made_after(conn: Connection) -> Iterator[None]:
    """On SQLite, the derived tables' indexes a replay does not read by
    (`READ_DURING_REPLAY`) are made when it ends, inside its transaction: readers go on
    seeing the old tables whole until it commits. Not on PostgreSQL, where dropping an
    index locks its table against every reader until the commit."""
    if conn.dialect.name != "sqlite":
        yield
        return
    deferred = [
        index
        for table in DERIVED
        for index in sorted(table.indexes, key=lambda each: str(each.name))  # a set: in order
        if index.name not in READ_DURING_REPLAY
    ]
    for index in deferred:
        index.drop(conn)
    yield
    # (inside `_sqlite_replay_pragmas`, which gives the connection its own size back)
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_INDEX_BUILD_CACHE_KIB}")
    for index in deferred:
        index.create(conn)


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


def rebuild_projections(engine: Engine, rules: Sequence[AppendRules]) -> RebuildReport:
    """Replace the derived tables by a replay of the log, holding off appends meanwhile.
    It moves the views' generation on in the same transaction: every running process
    computes its next view afresh, though the log's head has not moved."""
    started = time.perf_counter()
    writer = engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    with writer as conn, conn.begin():
        head = lock_head(conn)
        count = _replay(conn, rules, head.position)
        bump_views_generation(conn)
    _shrink_sqlite_wal(engine)
    return RebuildReport(count, time.perf_counter() - started)


def _shrink_sqlite_wal(engine: Engine) -> None:
    """Copy the replay's pages into the database and empty the WAL file. A replay rewrites
    every derived table in one transaction: the WAL grows to about their size (1.2 GB for
    a million events), and SQLite never shrinks it on its own; until it is checkpointed,
    every read also looks for its pages in it. (Readers still at work make the checkpoint
    stop short, harmlessly: SQLite's own checkpoints finish it later.)"""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def check_projections(engine: Engine, rules: Sequence[AppendRules]) -> RebuildReport:
    """Name every difference between the derived tables and a fresh replay; change nothing."""
    started = time.perf_counter()
    with engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) as conn:
        transaction = conn.begin()
        try:
            head = lock_head(conn)
            live = {t.name: _contents(conn, t) for t in DERIVED}
            count = _replay(conn, rules, head.position)
            rebuilt = {t.name: _contents(conn, t) for t in DERIVED}
        finally:
            transaction.rollback()
    differences = []
    for name in live:
        for row in sorted(live[name] - rebuilt[name], key=repr):
            differences.append(f"{name}: live has a row a rebuild would not: {_show(row)}")
        for row in sorted(rebuilt[name] - live[name], key=repr):
            differences.append(f"{name}: a rebuild has a row the live view lacks: {_show(row)}")
    return RebuildReport(count, time.perf_counter() - started, differences)


def _contents(conn: Connection, table: Table) -> set[tuple[Any, ...]]:
    """Rows as comparable tuples, without surrogate ids (a replay renumbers them)."""
    columns = [c for c in table.columns if c.name != "id"]
    return {tuple(_hashable(value) for value in row) for row in conn.execute(select(*columns))}


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def _show(row: tuple[Any, ...]) -> str:
    text = repr(row)
    return text if len(text) < 300 else text[:297] + "..."
