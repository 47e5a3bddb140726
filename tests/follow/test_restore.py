"""Export → restore: the same log, link for link, and the same views."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from service.app import create_app
from service.cli.commands import app as cli
from service.domain.chain import event_hash
from service.domain.envelope import RecordedEvent
from service.ledger import Ledger, build_ledger, derived_table_rules
from service.log.append import read_head
from service.log.export import export_lines
from service.log.positions import position_known_at
from service.log.restore import RestoreRefused, restore
from service.log.tables import EVENTS
from service.log.verify import verify_chain
from service.settings import Settings, get_settings
from service.views.rebuild import check_projections
from tests.conftest import DatabaseFactory
from tests.factories import dispatch_body, meta_body, source_body

READ_VIEWS = (
    "/v1/events?limit=1000",
    "/v1/deployments",
    "/v1/deployments?group_by=place,affiliation",
    "/v1/deployments/timeline",
)


@pytest.fixture
def empty_ledger(databases: DatabaseFactory, settings: Settings) -> Iterator[Ledger]:
    """A second, freshly migrated, empty ledger beside the test's own."""
    url = databases.new()
    built = build_ledger(settings.model_copy(update={"database_url": url}))
    yield built
    built.engine.dispose()
    databases.discard(url)


def record_a_history(client: TestClient, corrector: dict[str, str]) -> None:
    """Facts, a corroboration, a correction and a retraction: every derived table moves."""

    def post(body: dict[str, Any]) -> dict[str, Any]:
        response = client.post("/v1/events", json=body, headers=corrector)
        assert response.status_code == 201, response.text
        event: dict[str, Any] = response.json()["events"][0]
        return event

    post(source_body())
    post(source_body("rfa-2023-04"))
    moscow = post(dispatch_body(destinations=["Moscow"]))
    wrong = post(dispatch_body(destinations=["Vladivostok"], affiliation="military"))
    post(meta_body("fact.corroborated", moscow["id"], source_id="rfa-2023-04"))
    replacement = dispatch_body(destinations=["Moscow", "Kazan"])["data"]
    post(meta_body("fact.corrected", moscow["id"], reason="misread", replacement=replacement))
    post(meta_body("fact.retracted", wrong["id"], reason="the source withdrew it"))


def test_an_export_restored_into_an_empty_ledger_is_the_same_log_with_the_same_views(
    client: TestClient, corrector: dict[str, str], ledger: Ledger, empty_ledger: Ledger
) -> None:
    # given a ledger with a history
    record_a_history(client, corrector)
    exported = list(export_lines(ledger.engine))

    # when its export is restored into an empty ledger
    assert restore(empty_ledger.store, exported) == 7

    # then the restored log is the same, envelope for envelope, and its chain verifies
    assert list(export_lines(empty_ledger.engine)) == exported
    with empty_ledger.engine.connect() as conn:
        report = verify_chain(conn)
        assert (report.ok, report.checked) == (True, 7)
        assert read_head(conn).hash == json.loads(exported[-1])["hash"]
    # and every view answers the same, and equals a replay of the log
    with TestClient(create_app(empty_ledger.settings, empty_ledger)) as restored:
        for path in READ_VIEWS:
            original, copy = client.get(path), restored.get(path)
            assert original.status_code == copy.status_code == 200, path
            assert copy.json() == original.json(), path
    rules = derived_table_rules()
    assert check_projections(empty_ledger.engine, rules).differences == []


def test_restoring_into_a_ledger_that_has_events_is_refused(
    client: TestClient, corrector: dict[str, str], ledger: Ledger
) -> None:
    record_a_history(client, corrector)
    exported = list(export_lines(ledger.engine))

    with pytest.raises(RestoreRefused, match="not empty"):
        restore(ledger.store, exported)

    assert list(export_lines(ledger.engine)) == exported


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda lines: lines[:3] + lines[4:], "position 4: expected position 4, found 5"),
        (lambda lines: [line.replace("about 350", "about 3500") for line in lines], "hash"),
    ],
    ids=["a line removed", "a count changed"],
)
def test_a_broken_chain_is_refused_and_nothing_of_it_is_written(
    client: TestClient,
    corrector: dict[str, str],
    ledger: Ledger,
    empty_ledger: Ledger,
    tamper: Any,
    reason: str,
) -> None:
    record_a_history(client, corrector)
    tampered = tamper(list(export_lines(ledger.engine)))

    with pytest.raises(RestoreRefused, match=reason):
        restore(empty_ledger.store, tampered)

    with empty_ledger.engine.connect() as conn:
        assert read_head(conn).position == 0
        assert conn.execute(select(func.count()).select_from(EVENTS)).scalar_one() == 0


def test_the_export_and_restore_commands_round_trip(
    client: TestClient,
    corrector: dict[str, str],
    database_url: str,
    empty_ledger: Ledger,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_a_history(client, corrector)
    runner = CliRunner()
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("LEDGER_MIGRATE_ON_START", "false")  # both are migrated already

    def as_ledger(url: str) -> None:
        monkeypatch.setenv("LEDGER_DATABASE_URL", url)
        get_settings.cache_clear()

    as_ledger(database_url)
    exported = runner.invoke(cli, ["export"])
    assert exported.exit_code == 0, exported.output
    path = tmp_path / "log.jsonl"
    path.write_text(exported.stdout, encoding="utf-8")
    after_five = runner.invoke(cli, ["export", "--after", "5"]).stdout.splitlines()

    as_ledger(empty_ledger.engine.url.render_as_string(hide_password=False))
    restored = runner.invoke(cli, ["restore", str(path)])
    again = runner.invoke(cli, ["restore", str(path)])
    get_settings.cache_clear()

    assert restored.exit_code == 0, restored.output
    assert "restored 7 events; hash chain verified" in restored.output
    assert list(export_lines(empty_ledger.engine)) == exported.stdout.splitlines()
    assert [json.loads(line)["position"] for line in after_five] == [6, 7]
    assert again.exit_code == 1
    assert "not empty" in again.output


def test_a_log_whose_recording_times_go_back_is_restored_as_it_was_and_noted(
    client: TestClient, corrector: dict[str, str], ledger: Ledger, empty_ledger: Ledger
) -> None:
    """An export from a ledger older than ordered recording times (migration 0006) may
    have a time that goes back; restored, it keeps it, and `known_at` stays exact."""
    record_a_history(client, corrector)
    events = [RecordedEvent.model_validate_json(line) for line in export_lines(ledger.engine)]
    moved_back = events[0].recorded_at - timedelta(days=1)
    events[3] = events[3].model_copy(update={"recorded_at": moved_back})
    prev_hash = events[2].hash
    for index in range(3, len(events)):  # the chain re-linked over the changed time
        linked = events[index].model_copy(update={"prev_hash": prev_hash})
        linked.hash = event_hash(prev_hash, linked.hashed_fields())
        events[index], prev_hash = linked, linked.hash

    assert restore(empty_ledger.store, [e.model_dump_json() for e in events]) == 7

    with empty_ledger.engine.connect() as conn:
        assert read_head(conn).recorded_at == max(e.recorded_at for e in events)
        # recorded by the time of the third event: the first three, and the fourth
        assert position_known_at(conn, events[2].recorded_at) == 4
