from __future__ import annotations

import pytest

from service.api.deps import Ledger
from service.importing import SEED_PRINCIPAL, import_events, read_seed


@pytest.fixture
def seeded(ledger: Ledger) -> Ledger:
    """A ledger holding only the founding report."""
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    return ledger
