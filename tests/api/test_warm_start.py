"""The views survive a restart: a process folds its default views (the API's, the desk's
landing page) at start, and says it is not ready (`/readyz` 503, with the reason) until
it has; it is alive all along (`/healthz` 200). The first reader after ready finds the
views folded, not the log."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine

from service.app import create_app
from service.ingest.importing import SEED_PRINCIPAL, import_events, read_seed
from service.ledger import Ledger, build_ledger
from service.settings import Settings
from service.views.deployments.fold import DeploymentGroup, DeploymentQuery, GroupKey
from service.views.deployments.incremental import IncrementalFolds

WAIT_SECONDS = 20


class GatedFolds(IncrementalFolds):
    """Folds once `open` is set; counts the folds asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()
        self.asked = 0

    def fold(
        self, conn: Connection, query: DeploymentQuery, as_of: date
    ) -> dict[GroupKey, DeploymentGroup]:
        self.asked += 1
        assert self.open.wait(WAIT_SECONDS), "the test never let the fold run"
        return super().fold(conn, query, as_of)


@pytest.fixture
def warming(settings: Settings) -> Iterator[tuple[Ledger, GatedFolds]]:
    """A seeded ledger whose process warms its views at start, held at the fold."""
    # the address its readers use (links are absolute: a view is kept per base URL)
    warm = settings.model_copy(
        update={"warm_views_on_start": True, "public_url": "http://testserver"}
    )
    ledger = build_ledger(warm)
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    folds = ledger.folds = GatedFolds()
    yield ledger, folds
    folds.open.set()
    ledger.engine.dispose()


def wait_ready(client: TestClient) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "never ready"
        time.sleep(0.02)


class Statements:
    """The SQL an engine runs while counting."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[str] = []
        self.engine = engine

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: object, cursor: object, statement: str, *_: object) -> None:
        self.seen.append(statement)


def test_readyz_is_503_while_the_default_view_warms_and_200_after(
    warming: tuple[Ledger, GatedFolds],
) -> None:
    ledger, folds = warming
    with TestClient(create_app(ledger.settings, ledger)) as client:
        # given a process folding its default view at start
        deadline = time.monotonic() + WAIT_SECONDS
        while folds.asked == 0:
            assert time.monotonic() < deadline, "the warm-up never asked for a fold"
            time.sleep(0.01)

        # then it is alive but not ready, and says why
        assert client.get("/healthz").status_code == 200
        waiting = client.get("/readyz")
        assert waiting.status_code == 503
        assert waiting.headers["content-type"] == "application/problem+json"
        assert "Warming up" in waiting.json()["detail"]
        assert "/v1/deployments" in waiting.json()["detail"]

        # when the fold is done, it is ready
        folds.open.set()
        wait_ready(client)
        assert client.get("/readyz").json() == {"status": "ready"}


def test_the_first_read_after_ready_finds_the_view_folded(
    warming: tuple[Ledger, GatedFolds],
) -> None:
    ledger, folds = warming
    folds.open.set()
    with TestClient(create_app(ledger.settings, ledger)) as client:
        wait_ready(client)
        warmed = folds.asked
        assert warmed >= 1

        # when the first reader asks for the default view
        with Statements(ledger.engine) as statements:
            first = client.get("/v1/deployments")

        # then nothing is folded again: one read of the head, and the view warmed
        assert first.status_code == 200
        assert folds.asked == warmed
        [query] = [s for s in statements.seen if s.lstrip().upper().startswith("SELECT")]
        assert "log_head" in query
        assert {r["place"]["place_id"] for r in first.json()["rows"]} >= {"ru-moscow"}

        # and the desk's first reader finds its landing page made: no fold, no read of
        # the projections
        with Statements(ledger.engine) as statements:
            landing = client.get("/")
        assert landing.status_code == 200 and "Moscow" in landing.text
        assert folds.asked == warmed
        assert not any("flow_contributions" in s for s in statements.seen), statements.seen

    # and it is the view a cold process folds on its own
    cold = ledger.settings.model_copy(update={"warm_views_on_start": False})
    other = build_ledger(cold)
    try:
        with TestClient(create_app(cold, other)) as client:
            assert client.get("/v1/deployments").json() == first.json()
    finally:
        other.engine.dispose()


def test_without_warming_a_process_is_ready_at_once_and_folds_on_the_first_read(
    settings: Settings, ledger: Ledger
) -> None:
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    folds = ledger.folds = GatedFolds()
    folds.open.set()
    assert not settings.warm_views_on_start
    with TestClient(create_app(settings, ledger)) as client:
        assert client.get("/readyz").status_code == 200
        assert folds.asked == 0
        assert client.get("/v1/deployments").status_code == 200
        assert folds.asked == 1
