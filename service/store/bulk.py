"""Insert many rows at once: straight through the driver on PostgreSQL.

An append writes a row to `events` per event and as many to the derived
tables. Through SQLAlchemy's executemany, psycopg sends them in pipeline mode,
and for PostgreSQL preparing and pipelining the parameters costs more than
storing the rows: a handful of rows goes as one multi-row INSERT, many rows as
one COPY. Each value still passes through its column's own bind processing
(UTC times, JSON), so what is stored is exactly what an INSERT would store.
SQLite, in-process, gets SQLAlchemy's executemany.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert

COPY_FROM_ROWS = 100
"""From this many rows, COPY; below, one INSERT (a COPY costs round trips to start and end)."""


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT every row (each with the same keys) into `table`, inside the caller's
    transaction."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    dialect = conn.dialect
    columns = list(rows[0])
    processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    values = [
        [
            value if process is None or value is None else process(value)
            for value, process in zip((row[c] for c in columns), processors, strict=True)
        ]
        for row in rows
    ]
    quote = dialect.identifier_preparer.quote
    target = f"{quote(table.name)} ({', '.join(quote(c) for c in columns)})"
    driver_connection: Any = conn.connection.driver_connection
    with driver_connection.cursor() as cursor:
        if len(rows) >= COPY_FROM_ROWS:
            with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for row_values in values:
                    copy.write_row(row_values)
            return
        placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
        cursor.execute(
            f"INSERT INTO {target} VALUES {', '.join([placeholders] * len(rows))}",
            [value for row_values in values for value in row_values],
        )
