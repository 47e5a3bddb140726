"""notify followers from a trigger on log_head, not a statement per append

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 12:55:00.000000

Every append moves `log_head`. A trigger on that row sends the NOTIFY that
tells other service processes the log moved (PostgreSQL delivers it at commit,
never for an append that rolls back), so an append no longer pays a round trip
for a separate `SELECT pg_notify(...)`, and whatever else moves the head (a
restore) notifies too. SQLite has no such channel: nothing to do there.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "ledger_events"  # service/follow/notify.py; a migration keeps its own copy


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION log_head_notify() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', NEW.position::text);
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER log_head_moved AFTER UPDATE OF position ON log_head FOR EACH ROW "
        "WHEN (NEW.position IS DISTINCT FROM OLD.position) EXECUTE FUNCTION log_head_notify()"
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER log_head_moved ON log_head")
    op.execute("DROP FUNCTION log_head_notify()")
