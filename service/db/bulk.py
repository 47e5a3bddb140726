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
from operator import attrgetter
from typing import Any

import sqlalchemy
from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.types import TypeEngine

COPY_FROM_ROWS = 10
"""From this many rows, COPY; below, psycopg's executemany, which pipelines the rows in one
round trip (a COPY costs round trips to start and end). Measured here: 1 row 140 µs vs 205,
8 rows 225 vs 245, 20 rows 370 vs 290. A multi-row INSERT is slower than both from 4 rows:
psycopg parses its query anew each time (over 50 parameters, it is not cached)."""


_UUID_AS_HEX = attrgetter("hex")  # 32 hex digits, as its processor stores a UUID in text


@lru_cache(maxsize=64)  # per table, columns and dialect (an engine has one)
def row_values(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function from a row to the values the driver takes, in `columns`' order, each
    value not None passed through its column's bind processing (`_processor`).

    Written out as one expression per column and compiled once, as dataclasses and
    SQLAlchemy write their own hot functions: a rebuild of a million events turns two
    million rows through here, and a loop over each row's columns and their processors
    cost half as much again (2.9 µs against 2.0 µs a flow row, measured)."""
    namespace: dict[str, Any] = {}
    values = []
    for index, name in enumerate(columns):
        process = _processor(table.c[name].type.dialect_impl(dialect), dialect)
        value = f"row[{name!r}]"
        if process is None:
            values.append(value)
            continue
        if process is _UUID_AS_HEX:
            processed = f"'%032x' % v{index}.int"  # what UUID.hex returns, without its call
        else:
            namespace[f"process{index}"] = process
            processed = f"process{index}(v{index})"
        values.append(f"(None if (v{index} := {value}) is None else {processed})")
    source = f"def row_values(row):\n    return ({', '.join(values)},)\n"
    exec(compile(source, f"<row values of {table.name}>", "exec"), namespace)
    row_values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = namespace["row_values"]
    return row_values


def _processor(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column's bind processing as SQLAlchemy's INSERT applies it to a value that is
    not None; where a C function gives the same value, that one."""
    if isinstance(column_type, sqlalchemy.Date) and dialect.name == "sqlite":
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
    if not values:
        return
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    target = f"{quote(table.name)} ({', '.join(quote(c) for c in columns)})"
    driver_connection: Any = conn.connection.driver_connection
    if dialect.name != "postgresql":
        placeholders = ", ".join(["?"] * len(columns))
        cursor = driver_connection.cursor()
        try:
            cursor.executemany(f"INSERT INTO {target} VALUES ({placeholders})", values)
        finally:
            cursor.close()
        return
    with driver_connection.cursor() as cursor:
        if len(values) >= COPY_FROM_ROWS:
            with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(columns))
        # bytes: psycopg caches the parsed form of a bytes query, not of a str.
        cursor.executemany(f"INSERT INTO {target} VALUES ({placeholders})".encode(), values)
