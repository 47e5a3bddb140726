"""log_head.recorded_at: recording times never go back along the log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 13:40:00.000000

`known_at` asks for the last position recorded at or before a moment. Found by
`max(position) WHERE recorded_at <= moment`, that reads every event before it.
If recording times never decrease along the log, the events recorded by a moment
are a prefix of it, and its last position is two index lookups away. From now
on an append stamps its events no earlier than the head's `recorded_at` (kept
here, read under the append lock). A log recorded before this migration whose
times went back somewhere (a clock set back) is noted in `ledger_meta`, and
`known_at` reads it the slow, exact way.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNORDERED_KEY = "recorded_at_unordered_until"  # service/projections/positions.py


def upgrade() -> None:
    with op.batch_alter_table("log_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", service.db.types.UTCDateTime(timezone=True)))
    op.execute("UPDATE log_head SET recorded_at = (SELECT max(recorded_at) FROM events)")
    op.execute(
        f"""
        INSERT INTO ledger_meta (key, value)
        SELECT '{UNORDERED_KEY}', CAST(max(later.position) AS VARCHAR(20))
        FROM events AS earlier
        JOIN events AS later ON later.position = earlier.position + 1
        WHERE later.recorded_at < earlier.recorded_at
        HAVING max(later.position) IS NOT NULL
        """
    )


def downgrade() -> None:
    op.execute(f"DELETE FROM ledger_meta WHERE key = '{UNORDERED_KEY}'")
    with op.batch_alter_table("log_head", schema=None) as batch_op:
        batch_op.drop_column("recorded_at")
