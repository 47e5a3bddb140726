"""What an endpoint can ask for: the ledger's parts, a connection, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine

from service.api.row_fragments import RowFragments
from service.gazetteer import Gazetteer
from service.projections.cache import ViewCache
from service.projections.incremental import IncrementalFolds
from service.settings import Settings
from service.store.append import EventStore
from service.store.head import HeadReader
from service.store.keys import KeyRing

COMPUTED_VIEWS = 16


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
    computed: ViewCache = field(default_factory=lambda: ViewCache(size=COMPUTED_VIEWS))
    """Computed views (models), by head and question: each holds tens of thousands of
    objects, which the garbage collector walks on every full collection, so few."""
    folds: IncrementalFolds = field(default_factory=IncrementalFolds)
    row_fragments: RowFragments = field(default_factory=RowFragments)
    """Deployments rows as JSON, while `folds` holds their groups."""
    head: HeadReader = field(init=False)

    def __post_init__(self) -> None:
        self.head = HeadReader(self.engine)


async def get_ledger(request: Request) -> Ledger:
    # async: a dependency that only looks something up should not cost a thread hop
    ledger: Ledger = request.app.state.ledger
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


def get_connection(ledger: LedgerDep) -> Iterator[Connection]:
    with ledger.engine.connect() as conn:
        yield conn


ConnectionDep = Annotated[Connection, Depends(get_connection, scope="function")]
