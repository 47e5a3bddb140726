"""Every table of the service, gathered into one metadata for migrations and checks."""

from __future__ import annotations

from service.access import tables as access_tables
from service.db.metadata import metadata
from service.follow import tables as follow_tables
from service.log import tables as log_tables
from service.views.deployments import tables as deployments_tables
from service.views.entries import tables as entries_tables
from service.views.facts import tables as facts_tables

MODULES = (
    log_tables,
    access_tables,
    facts_tables,
    deployments_tables,
    entries_tables,
    follow_tables,
)
"""Imported for their side effect: each table joins `metadata` when its module loads."""

__all__ = ["MODULES", "metadata"]
