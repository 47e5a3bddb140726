"""The service's PostgreSQL role owns nothing (issue 17): with the grants of
`labor-ledger grant-service-role` it records and reads as usual, but cannot disable the
log's append-only trigger, nor change, delete or truncate the log."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from service.access.keys import Scope
from service.app import create_app
from service.cli.commands import app as cli
from service.ledger import build_ledger
from service.settings import Settings, get_settings
from tests.factories import dispatch_body, source_body

pytestmark = pytest.mark.postgres_only

ROLE = f"ll_service_{os.getpid()}"


@pytest.fixture
def service_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The test's database as the service role sees it, after the owner granted it."""
    owner = create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with owner.connect() as conn:
        conn.execute(text(f"DROP ROLE IF EXISTS {ROLE}"))
        conn.execute(text(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"))
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    granted = CliRunner().invoke(cli, ["grant-service-role", ROLE])
    assert granted.exit_code == 0, granted.output
    try:
        yield make_url(database_url).set(username=ROLE).render_as_string(hide_password=False)
    finally:
        get_settings.cache_clear()
        with owner.connect() as conn:
            conn.execute(text(f"DROP OWNED BY {ROLE}"))
            conn.execute(text(f"DROP ROLE {ROLE}"))
        owner.dispose()


def test_the_service_role_records_and_reads_as_usual(service_url: str) -> None:
    settings = Settings(
        database_url=service_url,
        migrate_on_start=False,
        load_seed=False,
        bootstrap_admin=False,
        secret_key="test-secret",
        db_pool_size=2,
        warm_views_on_start=False,
    )
    ledger = build_ledger(settings)
    try:
        _, token = ledger.keys.create("desk", {Scope.events_write})
        writer = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(settings, ledger)) as client:
            for body in (source_body(), dispatch_body()):
                response = client.post("/v1/events", json=body, headers=writer)
                assert response.status_code == 201, response.text
            rows = client.get("/v1/deployments", params={"group_by": "country"}).json()["rows"]
            assert rows[0]["dispatched"]["max"] == 385
            assert client.get("/v1/audit/verify").json()["ok"] is True
            assert client.get("/readyz").status_code == 200
    finally:
        ledger.engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE events DISABLE TRIGGER events_append_only",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "TRUNCATE events",
        "UPDATE events SET recorded_by = 'someone else'",
        "DELETE FROM events",
        "DROP TABLE events",
        "UPDATE alembic_version SET version_num = 'x'",
    ],
)
def test_the_service_role_cannot_unguard_or_change_the_log(
    service_url: str, statement: str
) -> None:
    engine = create_engine(service_url, poolclass=NullPool)
    try:
        with pytest.raises(ProgrammingError) as refused, engine.begin() as conn:
            conn.execute(text(statement))
        assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)
    finally:
        engine.dispose()
