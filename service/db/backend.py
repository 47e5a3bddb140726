"""What differs between the databases, behind one small interface.

Every statement that is not the same on SQLite and PostgreSQL lives in
`service.db.sqlite` or `service.db.postgresql`, one module per backend, each an
implementation of `Backend`. Code that needs one asks `backend(conn)` (chosen by
the engine's dialect) and calls it by name, rather than testing the dialect itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Column, ColumnElement, Connection, Dialect, Engine, Index, Select, Table

from service.db.postgresql import POSTGRESQL
from service.db.sqlite import SQLITE

S = TypeVar("S", bound=Select[Any])


class Backend(Protocol):
    name: str

    def __hash__(self) -> int: ...  # one per database: a key for what is built per backend

    # -- reading ----------------------------------------------------------
    sorts_for_group_by: bool
    """A GROUP BY sorts its rows (SQLite) rather than hashing them (PostgreSQL): one
    grouping with more in its key then beats two smaller ones."""

    joins_by_nested_loop: bool
    """A join is a loop over one side that reads the other for each of its rows (SQLite).
    Joined to a few rows (a VALUES list), SQLite loops over the few and reads the large
    side once for each; a correlated lookup of the few from each large row reads the
    large side once. PostgreSQL hashes the join."""

    def prepare_large_fold(self, conn: Connection) -> None:
        """Ready the transaction for sorts and hashes of up to a row per fact."""

    def year_month(self, day: ColumnElement[date] | Column[date]) -> ColumnElement[str]:
        """The day's month as YYYY-MM text."""

    def utc_day(self, moment: ColumnElement[datetime] | Column[datetime]) -> ColumnElement[date]:
        """The day a stored moment falls on in UTC."""

    def comma_joined(self, text: ColumnElement[Any]) -> ColumnElement[str]:
        """An aggregate: the group's values joined by commas (in no set order)."""

    # -- writing ----------------------------------------------------------
    def locked_for_append(self, query: S) -> S:
        """The read of the log's head as the append lock (on SQLite the IMMEDIATE
        transaction holds the database's write lock already)."""

    def claimed(self, query: S, table: Table) -> S:
        """A read of rows this worker alone will update, skipping rows other workers
        hold (on SQLite the IMMEDIATE transaction already excludes them)."""

    def insert_values(
        self, conn: Connection, table: Table, columns: Sequence[str], values: Sequence[Any]
    ) -> None:
        """INSERT rows already made the driver's values, each a sequence in `columns`'
        order, straight through the driver (see `service.db.bulk`)."""

    stores_dates_as_text: bool
    """A DATE is ISO text (SQLite), not a date the driver sends (PostgreSQL)."""

    # -- upkeep -----------------------------------------------------------
    analyzes_by_itself: bool
    """The database keeps the planner's statistics up to date on its own (autovacuum)."""

    def refresh_statistics(self, conn: Connection, tables: Sequence[str]) -> None:
        """Analyze `tables` (every table when none are named), in the caller's transaction."""

    def rewriting(
        self, conn: Connection, deferred_indexes: Sequence[Index]
    ) -> AbstractContextManager[None]:
        """A transaction that rewrites whole tables: tuned for it while it lasts, with
        `deferred_indexes` made when it ends where that is quicker, not while rows arrive."""

    def after_rewrite(self, engine: Engine) -> None:
        """Once such a transaction has committed."""

    # -- following the log ------------------------------------------------
    notifies_commits: bool
    """Another process can be told of a commit (LISTEN/NOTIFY) rather than poll for it."""


BACKENDS: dict[str, Backend] = {"sqlite": SQLITE, "postgresql": POSTGRESQL}


def backend(bind: Connection | Engine | Dialect) -> Backend:
    """The backend of a connection's, an engine's or a dialect's database."""
    dialect = bind if isinstance(bind, Dialect) else bind.dialect
    return BACKENDS[dialect.name]
