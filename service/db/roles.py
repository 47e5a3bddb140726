"""The PostgreSQL role the service runs as: it owns nothing, so it cannot lift the log's
guard.

The append-only trigger on `events` stops UPDATE and DELETE, but the owner of a table
(or a superuser) can disable its triggers. So the tables are owned by the role that runs
the migrations, and the service connects as another role granted only what it uses:
SELECT and INSERT on the log, and reading and writing on the tables derived from it.
A service role can never ALTER, TRUNCATE or DROP a table, nor disable a trigger.
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

APPEND_ONLY_TABLES = frozenset({"events"})
"""Tables the service may only read and add to."""
READ_ONLY_TABLES = frozenset({"alembic_version"})
"""Tables the service only reads (the migration it is at)."""


def grant_service_role(engine: Engine, role: str) -> list[str]:
    """Grant `role` what the service needs on every table (run as the tables' owner, after
    the migrations; again after a migration that adds tables). The statements run."""
    quoted = engine.dialect.identifier_preparer.quote(role)
    statements = [f"GRANT USAGE ON SCHEMA public TO {quoted}"]
    for table in sorted(inspect(engine).get_table_names()):
        name = engine.dialect.identifier_preparer.quote(table)
        if table in APPEND_ONLY_TABLES:
            rights = "SELECT, INSERT"
        elif table in READ_ONLY_TABLES:
            rights = "SELECT"
        else:
            rights = "SELECT, INSERT, UPDATE, DELETE"
        statements.append(f"GRANT {rights} ON {name} TO {quoted}")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    return statements
