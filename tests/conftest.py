"""Fixtures: every test gets its own freshly migrated database.

`pytest --db sqlite` (default) or `pytest --db postgres` (the server at
LEDGER_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432).
A template database is migrated once per run; each test gets a copy of it, so
tests run on real migrations, not `create_all`, and never see each other's data.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from service.access.keys import Scope
from service.app import create_app
from service.db.engine import make_engine
from service.db.migrate import upgrade_to_head
from service.domain.chain import GENESIS_HASH
from service.ledger import Ledger, build_ledger
from service.settings import Settings

POSTGRES_URL = os.environ.get(
    "LEDGER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgres"],
        default=os.environ.get("LEDGER_TEST_DB", "sqlite"),
        help="The backend every database test runs on.",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests for one backend are deselected (not skipped) on the other's pass;
    # `make test` always runs both passes.
    other = "sqlite_only" if config.getoption("--db") == "postgres" else "postgres_only"
    kept = [i for i in items if other not in i.keywords]
    dropped = [i for i in items if other in i.keywords]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--db"))


class DatabaseFactory:
    """Hands out fresh databases copied from one migrated template."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self.counter = itertools.count()
        self.prefix = f"ll_test_{os.getpid()}"
        self.created: list[str] = []
        self.idle: list[str] = []
        if backend == "postgres":
            self.admin = create_engine(
                make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT", pool_size=1
            )
            self._drop(self.prefix + "_template")
            self._create(self.prefix + "_template")
            template_url = self._url(self.prefix + "_template")
        else:
            template_url = f"sqlite:///{workdir / 'template.db'}"
        engine = make_engine(Settings(database_url=template_url))
        upgrade_to_head(engine)
        with engine.connect() as conn:
            self.head_revision = conn.execute(
                text("SELECT version_num FROM alembic_version")
            ).scalar_one()
        engine.dispose()

    def _url(self, name: str) -> str:
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> None:
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)

    def _drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def new(self) -> str:
        number = next(self.counter)
        if self.backend == "postgres":
            # CREATE DATABASE costs about half a second; a database handed back
            # is emptied to its just-migrated state and handed out again.
            if self.idle:
                return self._url(self.idle.pop())
            name = f"{self.prefix}_{number}"
            self._create(name, template=self.prefix + "_template")
            return self._url(name)
        path = self.workdir / f"ledger-{number}.db"
        shutil.copyfile(self.workdir / "template.db", path)
        return f"sqlite:///{path}"

    def discard(self, url: str) -> None:
        if self.backend == "postgres":
            name = make_url(url).database
            assert name is not None
            if self._reset(name):
                self.idle.append(name)
            else:
                self._drop(name)
                self.created.remove(name)
        else:
            Path(make_url(url).database or "").unlink(missing_ok=True)

    def _reset(self, name: str) -> bool:
        """Empty every table back to the state the migrations leave; False if it can't."""
        engine = create_engine(make_url(self._url(name)), poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                tables = conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'alembic_version'"
                    )
                ).scalars()
                conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                conn.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))
                conn.execute(
                    text(
                        f"INSERT INTO log_head (id, position, hash) VALUES (1, 0, '{GENESIS_HASH}')"
                    )
                )
                # A test may have moved the schema's recorded revision; put it back.
                conn.execute(text("DELETE FROM alembic_version"))
                conn.execute(
                    text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                    {"head": self.head_revision},
                )
            return True
        except SQLAlchemyError:
            return False
        finally:
            engine.dispose()

    def close(self) -> None:
        if self.backend == "postgres":
            for name in list(self.created):
                self._drop(name)
            self.admin.dispose()


@pytest.fixture(scope="session")
def databases(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp("databases"))
    yield factory
    factory.close()


@pytest.fixture
def database_url(databases: DatabaseFactory) -> Iterator[str]:
    url = databases.new()
    yield url
    databases.discard(url)


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest) -> Settings:
    """The test's settings; `@pytest.mark.settings(name=value, ...)` sets some of them."""
    marked = request.node.get_closest_marker("settings")
    # Rate limits are off unless a test turns them on: the suite is one busy client.
    chosen = {"rate_limits_enabled": False, **(marked.kwargs if marked else {})}
    return Settings(
        **chosen,
        database_url=database_url,
        migrate_on_start=False,
        load_seed=False,
        bootstrap_admin=False,
        secret_key="test-secret",
        db_pool_size=5,
        # Each test asks its own first questions; warming is tested on its own
        # (tests/api/test_warm_start.py).
        warm_views_on_start=False,
    )


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Ledger]:
    built = build_ledger(settings)
    yield built
    built.engine.dispose()


@pytest.fixture
def app(settings: Settings, ledger: Ledger) -> FastAPI:
    return create_app(settings, ledger)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


TokenFactory = Callable[..., dict[str, str]]


@pytest.fixture
def make_key(ledger: Ledger) -> TokenFactory:
    """`make_key(Scope.events_write)` → headers carrying a new key with those scopes."""
    counter = itertools.count()

    def make(*scopes: Scope, name: str | None = None) -> dict[str, str]:
        _, token = ledger.keys.create(name or f"key-{next(counter)}", set(scopes))
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def writer(make_key: TokenFactory) -> dict[str, str]:
    return make_key(Scope.events_write, name="desk")


@pytest.fixture
def corrector(make_key: TokenFactory) -> dict[str, str]:
    return make_key(Scope.events_write, Scope.events_correct, name="editor")


@pytest.fixture
def admin(make_key: TokenFactory) -> dict[str, str]:
    return make_key(Scope.admin, name="admin")
