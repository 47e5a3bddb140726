"""index the sources among the facts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 21:30:00.000000

Every append and every chunk of a rebuild looks up the publication dates of the
sources it cites: facts of type `source.recorded`, by `source_id`. That went by
`ix_facts_type_period`, an index on every fact, which a rebuild on SQLite then
had to keep up row by row (a random insert per fact). A partial index holds
just the sources: a few rows however long the log, and the only index on
`facts` besides its key that a rebuild reads by.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES_ONLY = sa.text("type = 'source.recorded'")


def upgrade() -> None:
    op.create_index(
        "ix_facts_sources",
        "facts",
        ["source_id"],
        unique=False,
        sqlite_where=SOURCES_ONLY,
        postgresql_where=SOURCES_ONLY,
    )


def downgrade() -> None:
    op.drop_index("ix_facts_sources", table_name="facts")
