"""Which SQLite file a database URL names: where `make run` makes its directory, and what
a long rebuild's second process opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import sqlite_file


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///./data/ledger.db", Path("data/ledger.db")),
        ("sqlite:////var/lib/ledger/ledger.db", Path("/var/lib/ledger/ledger.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:ledger?mode=memory&cache=shared&uri=true", None),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/ledger", None),
    ],
)
def test_a_database_url_names_a_sqlite_file_or_none(url: str, path: Path | None) -> None:
    assert sqlite_file(url) == path
