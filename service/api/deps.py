"""What an endpoint can ask for: the ledger's parts, a connection, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection

from service.ledger import Ledger


async def get_ledger(request: Request) -> Ledger:
    # async: a dependency that only looks something up should not cost a thread hop
    ledger: Ledger = request.app.state.ledger
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


def get_connection(ledger: LedgerDep) -> Iterator[Connection]:
    with ledger.engine.connect() as conn:
        yield conn


ConnectionDep = Annotated[Connection, Depends(get_connection, scope="function")]
