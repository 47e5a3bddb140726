"""index one group's rows, and corroborations by position

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 13:35:00.000000

A view carried forward after an append folds only the groups the append changed
(service/projections/incremental.py). Without an index on a group's columns a
planner reads every row made by the position asked for; and finding which groups
changed reads the corroborations made in a range of positions.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flow_contributions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_flow_place_affiliation", ["place_id", "affiliation"], unique=False
        )
    with op.batch_alter_table("corroborations", schema=None) as batch_op:
        batch_op.create_index("ix_corroborations_position", ["position"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("corroborations", schema=None) as batch_op:
        batch_op.drop_index("ix_corroborations_position")
    with op.batch_alter_table("flow_contributions", schema=None) as batch_op:
        batch_op.drop_index("ix_flow_place_affiliation")
