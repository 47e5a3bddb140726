"""SQLite's own SQL (see `service.db.backend.Backend`), and how it is tuned for a
transaction that rewrites whole tables (a rebuild of the derived tables)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Column, ColumnElement, Connection, Engine, Index, Select, Table, func
from sqlalchemy.types import Date

S = TypeVar("S", bound=Select[Any])

ANALYSIS_LIMIT = 2000
"""Rows sampled per index when the planner's statistics are refreshed: milliseconds."""

REWRITE_CACHE_KIB = 256 * 1024
"""SQLite's page cache while a rewrite runs (per connection; its default is 2 MiB). A
replay writes a row into every index of the derived tables at once, a few hundred places
in each: with 2 MiB, pages go to the WAL and come back again and again. Measured on the
1M bench database (first 200k events): 256 MiB made the replay 15% faster."""
INDEX_BUILD_CACHE_KIB = 2000
"""The page cache while the deferred indexes are made: SQLite's default. SQLite sorts an
index's keys in runs as large as the cache, and its helper threads (`threads`) sort one
run while the next is read; with the rewrite's large cache a table's keys made one run,
sorted by one thread. The 1M bench database's indexes: 4.5 s against 6.6 s."""
REWRITE_PRAGMAS = {
    "cache_size": -REWRITE_CACHE_KIB,
    "secure_delete": 0,
    "threads": 2,
}
"""A rewrite's connection runs with these, and with its own again afterwards (it goes
back to the pool). The cache: see `REWRITE_CACHE_KIB`. `secure_delete`, which Debian's
SQLite turns on, writes zeros over every page a DELETE frees: emptying the derived tables
of a million events took 1.3-2.4 s with it, 0.2 s without. Their rows are copies of what
the log holds for good; there is nothing to wipe. `threads`: helper threads for the sorts
that make the deferred indexes (see `INDEX_BUILD_CACHE_KIB`); the rewrite's own
statements sort nothing."""


class SQLite:
    name = "sqlite"
    sorts_for_group_by = True
    joins_by_nested_loop = True
    stores_dates_as_text = True
    analyzes_by_itself = False
    notifies_commits = False

    def prepare_large_fold(self, conn: Connection) -> None:
        pass

    def year_month(self, day: ColumnElement[date] | Column[date]) -> ColumnElement[str]:
        return func.strftime("%Y-%m", day)

    def utc_day(self, moment: ColumnElement[datetime] | Column[datetime]) -> ColumnElement[date]:
        return func.date(moment, type_=Date)  # stored as UTC text

    def comma_joined(self, text: ColumnElement[Any]) -> ColumnElement[str]:
        return func.group_concat(text)

    def locked_for_append(self, query: S) -> S:
        return query  # appends BEGIN IMMEDIATE: the write lock is theirs already

    def claimed(self, query: S, table: Table) -> S:
        return query  # as appends: BEGIN IMMEDIATE

    def insert_values(
        self, conn: Connection, table: Table, columns: Sequence[str], values: Sequence[Any]
    ) -> None:
        quote = conn.dialect.identifier_preparer.quote
        target = f"{quote(table.name)} ({', '.join(quote(c) for c in columns)})"
        placeholders = ", ".join(["?"] * len(columns))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(f"INSERT INTO {target} VALUES ({placeholders})", values)
        finally:
            cursor.close()

    def refresh_statistics(self, conn: Connection, tables: Sequence[str]) -> None:
        conn.exec_driver_sql(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        if tables:
            for name in tables:
                conn.exec_driver_sql(f"ANALYZE {name}")
        else:
            conn.exec_driver_sql("ANALYZE")

    @contextmanager
    def rewriting(self, conn: Connection, deferred_indexes: Sequence[Index]) -> Iterator[None]:
        """`REWRITE_PRAGMAS` while it lasts; `deferred_indexes` dropped at the start and
        made again at the end, inside the transaction: readers go on seeing the old tables
        whole until it commits. Sorting the finished rows into an index once costs less
        than a B-tree insert per row into each index as the rows arrive (200k flow rows:
        1.7 s against 2.6 s; a replay of the 1M bench log, 79 s against 103 s)."""
        before = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in REWRITE_PRAGMAS}
        for name, rewriting in REWRITE_PRAGMAS.items():
            conn.exec_driver_sql(f"PRAGMA {name} = {rewriting}")
        try:
            for index in deferred_indexes:
                index.drop(conn)
            yield
            conn.exec_driver_sql(f"PRAGMA cache_size = -{INDEX_BUILD_CACHE_KIB}")
            for index in deferred_indexes:
                index.create(conn)
        finally:
            for name, own in before.items():
                conn.exec_driver_sql(f"PRAGMA {name} = {int(own or 0)}")

    def after_rewrite(self, engine: Engine) -> None:
        """Copy the rewrite's pages into the database and empty the WAL file. A rewrite of
        every derived table in one transaction grows the WAL to about their size (1.2 GB
        for a million events), and SQLite never shrinks it on its own; until it is
        checkpointed, every read also looks for its pages in it. (Readers still at work
        make the checkpoint stop short, harmlessly: SQLite's own checkpoints finish it.)"""
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


SQLITE = SQLite()
