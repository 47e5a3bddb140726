"""The desk's tests: pages asked through the app (both backends), and a real browser
on a real server (tests/desk/browser.py)."""

from __future__ import annotations

import pytest

from service.ingest.importing import SEED_PRINCIPAL, import_events, read_seed
from service.ledger import Ledger


@pytest.fixture
def seeded(ledger: Ledger) -> Ledger:
    """The test's ledger with the seed report in it, as `labor-ledger serve` loads it."""
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    return ledger


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.desk.browser import SCREENSHOTS

    if SCREENSHOTS.folder is not None:
        terminalreporter.write_line(f"desk screenshots: {SCREENSHOTS.folder}")
