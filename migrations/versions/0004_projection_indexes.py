"""projection indexes: how each flow row shares its count; stocks by date

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:50:00.000000

Adds to `flow_contributions` what a fold otherwise computes with a window over
every fact on every read (distinct places and countries per fact version, and
the first row of each place, country and fact), fills it for the rows already
there, and indexes the stocks (kind "estimate") by date.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SAME_VERSION = (
    "f.fact_id = flow_contributions.fact_id AND f.position = flow_contributions.position"
)


def upgrade() -> None:
    with op.batch_alter_table("flow_contributions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("distinct_places", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("distinct_countries", sa.Integer(), nullable=False, server_default="1")
        )
        for name in ("first_of_place", "first_of_country", "first_of_fact"):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.true())
            )
        batch_op.create_index(
            "ix_flow_stocks",
            ["period_start"],
            unique=False,
            sqlite_where=sa.text("kind = 'estimate'"),
            postgresql_where=sa.text("kind = 'estimate'"),
        )
    # Rows already there: a fact version's rows were written in the order of its
    # places, so the first of a place (country, fact) is the one with the lowest id.
    op.execute(
        f"""
        UPDATE flow_contributions SET
          distinct_places = (
            SELECT COUNT(DISTINCT f.place_id) FROM flow_contributions f WHERE {_SAME_VERSION}),
          distinct_countries = (
            SELECT COUNT(DISTINCT f.country) FROM flow_contributions f WHERE {_SAME_VERSION}),
          first_of_place = (id = (
            SELECT MIN(f.id) FROM flow_contributions f
            WHERE {_SAME_VERSION} AND f.place_id = flow_contributions.place_id)),
          first_of_country = (id = (
            SELECT MIN(f.id) FROM flow_contributions f
            WHERE {_SAME_VERSION} AND f.country = flow_contributions.country)),
          first_of_fact = (id = (
            SELECT MIN(f.id) FROM flow_contributions f WHERE {_SAME_VERSION}))
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("flow_contributions", schema=None) as batch_op:
        batch_op.drop_index("ix_flow_stocks")
        for name in (
            "first_of_fact",
            "first_of_country",
            "first_of_place",
            "distinct_countries",
            "distinct_places",
        ):
            batch_op.drop_column(name)
