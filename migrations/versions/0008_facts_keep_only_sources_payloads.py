"""facts keep a payload only for sources

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 18:10:00.000000

`facts.current_data` held a copy of every fact's payload, and the only one ever
read is a source's (its publication date dates the facts citing it). At a
million events the copies were two thirds of the derived tables: 500 MB that a
rebuild wrote and an append encoded, for nothing. Now the column is empty for
every fact but a source, as the rules that keep the table write it (so a check
of the projections finds the rows a rebuild would make). The downgrade puts the
copies back from the log: each fact's own payload, or its last correction's.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa
from alembic import op

from service.db.types import JSONDocument

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCE = "source.recorded"
FACTS = sa.table(
    "facts",
    sa.column("event_id", sa.Uuid()),
    sa.column("type", sa.String()),
    sa.column("current_data", JSONDocument),
)
EVENTS = sa.table(
    "events",
    sa.column("id", sa.Uuid()),
    sa.column("position", sa.BigInteger()),
    sa.column("type", sa.String()),
    sa.column("data", JSONDocument),
)


def upgrade() -> None:
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.alter_column("current_data", existing_type=JSONDocument, nullable=True)
    op.execute(sa.update(FACTS).where(FACTS.c.type != SOURCE).values(current_data=sa.null()))


def downgrade() -> None:
    bind = op.get_bind()
    op.execute(
        sa.update(FACTS)
        .where(FACTS.c.current_data.is_(None))
        .values(
            current_data=sa.select(EVENTS.c.data)
            .where(EVENTS.c.id == FACTS.c.event_id)
            .scalar_subquery()
        )
    )
    # A corrected fact's payload was its last correction's replacement.
    last_replacement: dict[str, object] = {}
    for data in bind.execute(
        sa.select(EVENTS.c.data)
        .where(EVENTS.c.type == "fact.corrected")
        .order_by(EVENTS.c.position)
    ).scalars():
        last_replacement[data["target_event_id"]] = data["replacement"]
    if last_replacement:
        bind.execute(
            sa.update(FACTS)
            .where(FACTS.c.event_id == sa.bindparam("target"), FACTS.c.type != SOURCE)
            .values(current_data=sa.bindparam("replacement")),
            [
                {"target": UUID(str(target)), "replacement": replacement}
                for target, replacement in last_replacement.items()
            ],
        )
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.alter_column("current_data", existing_type=JSONDocument, nullable=False)
