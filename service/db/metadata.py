"""The one metadata every table joins, with names that fit both backends."""

from __future__ import annotations

from sqlalchemy import Index, MetaData, Table, text
from sqlmodel import SQLModel

# Deterministic constraint names, so one migration set fits SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def partial_index(name: str, column: str, *, where: str) -> Index:
    """An index of the rows matching `where`, on both backends. A query meant to use it
    spells `where` out with literals: a planner cannot count on a bound value (a
    prepared statement's generic plan on PostgreSQL never does)."""
    condition = text(where)
    return Index(name, column, sqlite_where=condition, postgresql_where=condition)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel class, typed (queries use the Core tables)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table
