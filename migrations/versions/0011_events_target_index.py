"""index the events about a fact by the fact they are about

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 16:30:00.000000

A source's page, a fact's page and the views of the smaller fact types (sources,
stocks, remittances, wages) fold their facts with the corrections, retractions and
corroborations of those facts. Found by reading every such event, at a million events
that was tens of thousands of rows for one page. A partial index on the target's id,
over those events alone, finds them directly. The expression is spelt as the queries
spell it (`service.log.tables.TargetOfEvent`): a planner matches it as written.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ABOUT_A_FACT = "type IN ('fact.corrected', 'fact.corroborated', 'fact.retracted')"
TARGET = {
    "sqlite": "json_extract(data, '$.target_event_id')",
    "postgresql": "(data ->> 'target_event_id')",
}


def upgrade() -> None:
    target = TARGET[op.get_bind().dialect.name]
    op.execute(f"CREATE INDEX ix_events_target ON events ({target}) WHERE {ABOUT_A_FACT}")


def downgrade() -> None:
    op.drop_index("ix_events_target", table_name="events")
