"""Insert many rows at once, straight through the database driver.

An append writes a row to `events` per event and as many to the derived
tables. Through SQLAlchemy's executemany, building each row's parameters costs
more than storing the row, and psycopg adds a pipeline round trip. So the rows
go to the driver as they are: on PostgreSQL one pipelined executemany for a
handful, one COPY for more; on SQLite one executemany. Each value still passes through
its column's own bind processing (UTC times, UUIDs, JSON), so what is stored is
exactly what SQLAlchemy's INSERT would have stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import Any

import sqlalchemy
from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.types import TypeEngine

from service.db.backend import backend

_UUID_AS_HEX = attrgetter("hex")  # 32 hex digits, as its processor stores a UUID in text


@lru_cache(maxsize=64)  # per table, columns and dialect (an engine has one)
def row_values(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    """A function from a row to the values the driver takes, in `columns`' order, each
    value not None passed through its column's bind processing (`_processor`).

    A rebuild of a million events turns two million rows through here, so the row's
    values are read in one C call (`itemgetter`) and only the columns that need it are
    processed (on SQLite a flow row's id and dates; on PostgreSQL none of its columns)."""
    read = itemgetter(*columns) if len(columns) > 1 else _one_value(columns[0])
    processed = tuple(
        (index, process)
        for index, name in enumerate(columns)
        if (process := _processor(table.c[name].type.dialect_impl(dialect), dialect)) is not None
    )
    if not processed:
        return read  # the values as they are, in a tuple

    def values_of(row: Mapping[str, Any]) -> Sequence[Any]:
        values = list(read(row))
        for index, process in processed:
            if (value := values[index]) is not None:
                values[index] = process(value)
        return values

    return values_of


def _one_value(name: str) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    def value_of(row: Mapping[str, Any]) -> tuple[Any, ...]:
        return (row[name],)

    return value_of


def _processor(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column's bind processing as SQLAlchemy's INSERT applies it to a value that is
    not None; where a C function gives the same value, that one."""
    if isinstance(column_type, sqlalchemy.Date) and backend(dialect).stores_dates_as_text:
        return date.isoformat  # the ISO text SQLite's DATE processor writes
    if isinstance(column_type, sqlalchemy.Boolean):
        # None: the driver takes the bool itself. On SQLite, where SQLAlchemy's processor
        # makes it an int, the driver binds a bool as that same integer (bool is an int).
        return None
    if (
        isinstance(column_type, sqlalchemy.Uuid)
        and column_type.as_uuid
        and not (dialect.supports_native_uuid and column_type.native_uuid)
    ):
        return _UUID_AS_HEX
    return column_type.bind_processor(dialect)


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT every row (each with the same keys) into `table`, inside the caller's
    transaction."""
    if not rows:
        return
    columns = tuple(rows[0])
    convert = row_values(table, columns, conn.dialect)
    insert_values(conn, table, columns, list(map(convert, rows)))


def insert_values(
    conn: Connection, table: Table, columns: Sequence[str], values: Sequence[Sequence[Any]]
) -> None:
    """INSERT rows already turned into the driver's values (`row_values`), inside the
    caller's transaction."""
    if values:
        backend(conn).insert_values(conn, table, columns, values)
