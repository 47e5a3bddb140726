"""entry figures: official counts of arrivals

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:10:33.858988

The read model of `entries.recorded` (DESIGN §1b): one row per figure of an entry
statistic's version. No log before this revision holds an entry statistic, so the
table starts empty (a rebuild fills it the same way).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entry_figures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("fact_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("superseded_at", sa.BigInteger(), nullable=True),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("publisher", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("origin_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column(
            "destination_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False
        ),
        sa.Column("place_ids", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("count_text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("qualifier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("count_min", sa.BigInteger(), nullable=False),
        sa.Column("count_best", sa.BigInteger(), nullable=True),
        sa.Column("count_max", sa.BigInteger(), nullable=True),
        sa.Column("bounds_rule", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("precision", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("period_text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_figures")),
    )
    with op.batch_alter_table("entry_figures", schema=None) as batch_op:
        batch_op.create_index("ix_entry_figures_fact", ["fact_id"], unique=False)
        batch_op.create_index("ix_entry_figures_position", ["position"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("entry_figures", schema=None) as batch_op:
        batch_op.drop_index("ix_entry_figures_position")
        batch_op.drop_index("ix_entry_figures_fact")

    op.drop_table("entry_figures")
