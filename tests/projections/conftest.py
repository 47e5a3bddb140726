from __future__ import annotations

import pytest

from service.ingest.importing import SEED_PRINCIPAL, import_events, read_seed
from service.ledger import Ledger


@pytest.fixture
def seeded(ledger: Ledger) -> Ledger:
    """A ledger holding only the founding report."""
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    return ledger
