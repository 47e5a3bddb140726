"""Fresh benchmark databases, filled with envelope rows in bulk.

The store appends one batch per transaction and checks every fact against the
facts before it; for a million events that is far slower than the benchmark
can wait. So the log's rows are written straight into `events` (executemany on
SQLite, COPY on PostgreSQL), the head and the streams are set to match, and
`rebuild_projections` fills the derived tables, the same code the service's
`labor-ledger rebuild` runs. Values take the columns' own bind processing, so
what is stored is what SQLAlchemy would have stored.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, func, insert, select, text, update
from sqlalchemy.engine import make_url

from service.db.engine import make_engine
from service.db.migrate import upgrade_to_head
from service.log.tables import EVENTS, LOG_HEAD, STREAMS
from service.settings import Settings
from tests.bench.synthetic_log import EnvelopeRow, SyntheticLog

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-secret"
COLUMNS = (
    "position",
    "id",
    "stream",
    "stream_version",
    "type",
    "schema_version",
    "source_id",
    "data",
    "provenance",
    "recorded_at",
    "recorded_by",
    "hash",
    "prev_hash",
)


@dataclass
class BenchDatabase:
    backend: str
    name: str
    url: str
    engine: Engine

    @classmethod
    def fresh(cls, backend: str, name: str, workdir: Path) -> BenchDatabase:
        """An empty, migrated database (dropped and made again if it existed)."""
        if backend == "postgres":
            admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            url = make_url(POSTGRES_SERVER).set(database=name).render_as_string(False)
        else:
            path = workdir / f"{name}.db"
            for leftover in workdir.glob(f"{name}.db*"):
                leftover.unlink()
            url = f"sqlite:///{path}"
        engine = make_engine(Settings(database_url=url, db_pool_size=5))
        upgrade_to_head(engine)
        return cls(backend, name, url, engine)

    def settings(self) -> Settings:
        return Settings(
            database_url=self.url,
            migrate_on_start=False,
            load_seed=False,
            bootstrap_admin=False,
            secret_key=SECRET,
            deliver_webhooks=False,
        )

    def server_env(self) -> dict[str, str]:
        """`settings()` as the LEDGER_* variables of a served uvicorn."""
        return {
            "LEDGER_DATABASE_URL": self.url,
            "LEDGER_MIGRATE_ON_START": "false",
            "LEDGER_LOAD_SEED": "false",
            "LEDGER_BOOTSTRAP_ADMIN": "false",
            "LEDGER_SECRET_KEY": SECRET,
            "LEDGER_DELIVER_WEBHOOKS": "false",
        }

    def write(self, rows: list[EnvelopeRow]) -> None:
        with self.engine.begin() as conn:
            dbapi = conn.connection.driver_connection
            assert dbapi is not None
            if self.backend == "postgres":
                with dbapi.cursor() as cursor:  # type: ignore[attr-defined]
                    columns = ", ".join(COLUMNS)
                    with cursor.copy(f"COPY events ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(_values(row))
                return
            processors = _bind_processors(self.engine)
            placeholders = ", ".join("?" for _ in COLUMNS)
            conn.exec_driver_sql(
                f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                [_processed(_values(row), processors) for row in rows],
            )

    def set_head(self, log: SyntheticLog) -> None:
        """The head and the streams as an append of the same events would leave them."""
        with self.engine.begin() as conn:
            conn.execute(
                update(LOG_HEAD)
                .where(LOG_HEAD.c.id == 1)
                .values(
                    position=log.position,
                    hash=log.head_hash,
                    recorded_at=select(func.max(EVENTS.c.recorded_at)).scalar_subquery(),
                )
            )
            conn.execute(delete(STREAMS))
            conn.execute(insert(STREAMS), log.streams())

    def settle(self, timeout: float = 300.0) -> None:
        """Leave the database idle before anything is timed on this machine's two cores.

        After a bulk load or a rebuild PostgreSQL's autovacuum may take a core for minutes
        (visibility map, statistics), starting when it likes: most likely one run timed
        the ledger while it ran and the baseline after it had ended. So vacuum and
        analyse here, then wait until no autovacuum worker is left. SQLite runs nothing; its WAL
        is emptied into the database, so that what is read first and what is read later
        find the pages in the same place."""
        if self.backend != "postgres":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
            deadline = time.monotonic() + timeout
            while (
                time.monotonic() < deadline
                and conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
                ).scalar()
            ):
                time.sleep(1)

    def size(self) -> str:
        with self.engine.connect() as conn:
            if self.backend == "postgres":
                size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
            else:
                path = self.settings().sqlite_path()
                assert path is not None
                size = path.stat().st_size
        return f"{int(size or 0) / 2**20:,.0f} MiB"

    def drop(self) -> None:
        self.engine.dispose()
        if self.backend == "postgres":
            admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            admin.dispose()
        else:
            path = self.settings().sqlite_path()
            assert path is not None
            for leftover in path.parent.glob(path.name + "*"):
                leftover.unlink()


def _values(row: EnvelopeRow) -> tuple[Any, ...]:
    return (
        row.position,
        row.id,
        row.stream,
        row.stream_version,
        row.type,
        row.schema_version,
        row.source_id,
        row.data,
        row.provenance,
        row.recorded_at,
        row.recorded_by,
        row.hash,
        row.prev_hash,
    )


def _bind_processors(engine: Engine) -> list[Callable[[Any], Any] | None]:
    """Each column's own conversion (UUID to hex, UTC time to text) minus JSON encoding,
    since the rows carry their JSON already serialised."""
    dialect = engine.dialect
    found: list[Callable[[Any], Any] | None] = []
    for name in COLUMNS:
        if name in ("data", "provenance"):
            found.append(None)
            continue
        found.append(EVENTS.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    return found


def _processed(
    values: Iterable[Any], processors: list[Callable[[Any], Any] | None]
) -> tuple[Any, ...]:
    return tuple(
        value if process is None else process(value)
        for value, process in zip(values, processors, strict=True)
    )


def fresh_workdir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
