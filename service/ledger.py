"""The Ledger container: everything a running service holds, built once from settings.

The app factory (`service.app`) and the command line both build it here, so neither
reaches into the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from service.access.keys import KeyRing, ensure_secret
from service.db.engine import make_engine
from service.db.migrate import upgrade_to_head
from service.follow.outbox import OutboxRules
from service.gazetteer import Gazetteer, default_gazetteer
from service.ingest.checks import FactChecks
from service.log.append import AppendRules, EventStore
from service.log.head import HeadReader
from service.log.statistics import SqliteStatistics
from service.settings import DEFAULTS, Settings
from service.views.cache import ViewCache
from service.views.deployments.incremental import IncrementalFolds
from service.views.deployments.row_json import RowFragments
from service.views.deployments.updater import ProjectionRules
from service.views.entries.updater import EntriesUpdater
from service.views.facts.updater import FactsUpdater


@dataclass
class Ledger:
    """Everything a running service holds; built once by `create_app`."""

    settings: Settings
    engine: Engine
    store: EventStore
    keys: KeyRing
    gazetteer: Gazetteer
    views: ViewCache
    """Rendered responses (bytes), by head and request: many, each a few objects."""
    computed: ViewCache = field(default_factory=lambda: ViewCache(size=DEFAULTS.computed_views))
    """Computed views (models), by head and question: each holds tens of thousands of
    objects, which the garbage collector walks on every full collection, so few."""
    folds: IncrementalFolds = field(default_factory=IncrementalFolds)
    row_fragments: RowFragments = field(default_factory=RowFragments)
    """Deployments rows as JSON, while `folds` holds their groups."""
    head: HeadReader = field(init=False)
    warming_up: str | None = None
    """What the process is warming at start (`service.app`), until it is done: `/readyz`
    answers 503 with it meanwhile."""

    def __post_init__(self) -> None:
        self.head = HeadReader(self.engine)


def derived_table_rules() -> list[AppendRules]:
    """The rules that keep the derived tables (the views); `rebuild` replays exactly these."""
    return [FactsUpdater(), ProjectionRules(), EntriesUpdater()]


def build_ledger(settings: Settings) -> Ledger:
    engine = make_engine(settings)
    if settings.migrate_on_start:
        upgrade_to_head(engine)
    gazetteer = default_gazetteer()
    store = EventStore(
        engine,
        rules=[
            FactChecks(gazetteer, duplicates_compared=settings.duplicates_compared),
            *derived_table_rules(),
            OutboxRules(),
            SqliteStatistics(),
        ],
        idempotency_ttl=timedelta(hours=settings.idempotency_ttl_hours),
    )
    keys = KeyRing(
        engine,
        ensure_secret(engine, settings.secret_key),
        cache_seconds=settings.key_cache_seconds,
    )
    return Ledger(
        settings=settings,
        engine=engine,
        store=store,
        keys=keys,
        gazetteer=gazetteer,
        views=ViewCache(weigh=_bytes_held, max_weight=settings.view_cache_mb * 2**20),
        computed=ViewCache(size=settings.computed_views),
        folds=IncrementalFolds(
            max_step=settings.fold_carried_max_events,
            max_changed=settings.fold_carried_max_groups,
            kept_per_question=settings.folds_kept_per_question,
            kept_questions=settings.folds_kept_questions,
            gazetteer=gazetteer,
        ),
    )


def _bytes_held(rendered: Any) -> int:
    # The rendered responses (`api.serving.representations.Rendered`) say their size.
    return int(rendered.size())
