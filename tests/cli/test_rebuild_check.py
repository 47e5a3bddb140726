"""`rebuild --check` names a derived row that no longer follows from the log, and
`rebuild` repairs it: the check is only worth something if it can say "different".

Each case changes one derived table directly in the database (as a bad migration,
a hand edit or a bug in a rule would), then asks the check — as a function and as
the `labor-ledger` command an operator runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from service.ledger import Ledger
from service.views.rebuild import check_projections, rebuild_projections
from tests.factories import dispatch_body, meta_body, source_body

OTHER_SOURCE = "rfa-2023-04-nk-workers"
CLI = Path(sys.executable).with_name("labor-ledger")

# (what is changed, the SQL that changes it, a word the difference must show)
TAMPERING = {
    "a flow's count": (
        "flow_contributions",
        "UPDATE flow_contributions SET count_max = 123456 WHERE place_id = 'ru-moscow'",
        "123456",
    ),
    "a fact's places": (
        "facts",
        "UPDATE facts SET place_ids = 'ru-kazan' WHERE type = 'workers.dispatched'",
        "ru-kazan",
    ),
    "a lost corroboration": ("corroborations", "DELETE FROM corroborations", OTHER_SOURCE),
}


@pytest.fixture
def recorded_facts(client: TestClient, writer: dict[str, str]) -> None:
    """Two sources, a dispatch to Moscow and Saint Petersburg, corroborated by the second."""
    for body in (source_body(), source_body(OTHER_SOURCE, outlet="RFA"), dispatch_body()):
        response = client.post("/v1/events", json=body, headers=writer)
        assert response.status_code == 201, response.text
    dispatch_id = client.get("/v1/events").json()["events"][-1]["id"]
    body = meta_body("fact.corroborated", dispatch_id, source_id=OTHER_SOURCE)
    response = client.post("/v1/events", json=body, headers=writer)
    assert response.status_code == 201, response.text


def tamper(database_url: str, sql: str) -> None:
    engine = create_engine(make_url(database_url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            assert conn.execute(text(sql)).rowcount > 0, sql
    finally:
        engine.dispose()


def labor_ledger(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": database_url,
        "LEDGER_SECRET_KEY": "test-secret",
        "COLUMNS": "400",  # keep rich from wrapping the differences
    }
    return subprocess.run(
        [str(CLI), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("change", list(TAMPERING))
def test_check_names_a_changed_derived_row_and_rebuild_repairs_it(
    change: str, recorded_facts: None, ledger: Ledger, database_url: str
) -> None:
    table, sql, shown = TAMPERING[change]
    # given views that match the log
    assert check_projections(ledger.engine, ledger.store.rules).differences == []

    # when a derived row is changed behind the service's back
    tamper(database_url, sql)

    # then the check names the table and the changed value
    differences = check_projections(ledger.engine, ledger.store.rules).differences
    assert differences, change
    assert all(d.startswith(f"{table}: ") for d in differences), differences
    assert any(shown in d for d in differences), differences

    # and a rebuild repairs it
    rebuild_projections(ledger.engine, ledger.store.rules)
    assert check_projections(ledger.engine, ledger.store.rules).differences == []


def test_the_check_command_fails_naming_the_difference_until_rebuild_repairs_it(
    recorded_facts: None, database_url: str
) -> None:
    table, sql, shown = TAMPERING["a flow's count"]
    # given views that match the log
    before = labor_ledger(database_url, "rebuild", "--check")
    assert before.returncode == 0, before.stdout + before.stderr
    assert "views match a rebuild of 4 events" in before.stdout

    # when a derived row is changed behind the service's back
    tamper(database_url, sql)

    # then `labor-ledger rebuild --check` exits non-zero and shows the difference
    checked = labor_ledger(database_url, "rebuild", "--check")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert f"{table}: live has a row a rebuild would not" in checked.stderr
    assert f"{table}: a rebuild has a row the live view lacks" in checked.stderr
    assert shown in checked.stderr
    assert "2 differences" in checked.stderr

    # and `labor-ledger rebuild` repairs it: the check is clean again
    rebuilt = labor_ledger(database_url, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "rebuilt from 4 events" in rebuilt.stdout
    after = labor_ledger(database_url, "rebuild", "--check")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "views match a rebuild of 4 events" in after.stdout
