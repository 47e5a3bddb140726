"""Signed checkpoints (issue 17): the chain alone misses a log rewritten with every later
hash recomputed, or a tail cut off with the head moved back; a checkpoint a reader kept
catches both, and its signature shows it came from this ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text, update
from typer.testing import CliRunner

from service.cli.commands import app as cli
from service.domain.chain import event_hash
from service.ingest.importing import import_events, read_seed
from service.ledger import Ledger
from service.log.read import EventFilter, read_events
from service.log.tables import EVENTS
from service.log.tables import LOG_HEAD as HEAD
from service.settings import get_settings


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SECRET_KEY", "test-secret")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def seeded(ledger: Ledger) -> int:
    return import_events(ledger.store, ledger.gazetteer, read_seed(), principal="seed")


def kept_checkpoint(client: TestClient, tmp_path: Path, **params: int) -> Path:
    """What a reader does: fetch a checkpoint and keep the JSON as it came."""
    response = client.get("/v1/audit/checkpoints", params=params)
    assert response.status_code == 200, response.text
    path = tmp_path / "checkpoint.json"
    path.write_bytes(response.content)
    return path


def verify(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["verify", *args])
    return result.exit_code, " ".join(result.output.split())  # as one line, unwrapped


def lift_the_guard(conn: Connection) -> None:
    """What an intruder with the owner's rights does first."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
    else:
        conn.execute(text("DROP TRIGGER events_no_update"))
        conn.execute(text("DROP TRIGGER events_no_delete"))


def rewrite_and_rechain(ledger: Ledger, position: int) -> None:
    """Change one event and recompute every later hash and the head: the chain verifies."""
    with ledger.engine.begin() as conn:
        lift_the_guard(conn)
        events = read_events(conn, EventFilter(), 10_000)
        prev = events[position - 2].hash if position > 1 else "0" * 64
        for event in events[position - 1 :]:
            data = (
                {**event.data, "notes": "quietly changed"}
                if event.position == position
                else event.data
            )
            changed = event.model_copy(update={"data": data, "prev_hash": prev})
            prev = event_hash(prev, changed.hashed_fields())
            conn.execute(
                update(EVENTS)
                .where(EVENTS.c.position == event.position)
                .values(data=data, prev_hash=changed.prev_hash, hash=prev)
            )
        conn.execute(update(HEAD).values(hash=prev))


def cut_the_tail(ledger: Ledger, keep: int) -> None:
    """Remove every event after `keep` and move the head back to it: the chain verifies."""
    with ledger.engine.begin() as conn:
        lift_the_guard(conn)
        last = read_events(conn, EventFilter(after=keep - 1), 1)[0]
        conn.execute(text(f"DELETE FROM events WHERE position > {keep}"))
        conn.execute(update(HEAD).values(position=keep, hash=last.hash))


def test_a_kept_checkpoint_verifies_while_the_log_holds_it(
    client: TestClient, seeded: int, cli_env: None, tmp_path: Path
) -> None:
    path = kept_checkpoint(client, tmp_path)
    checkpoint = json.loads(path.read_text())
    assert (checkpoint["position"], checkpoint["algorithm"]) == (seeded, "Ed25519")

    code, output = verify("--checkpoint", str(path))

    assert code == 0, output
    assert f"holds the checkpoint at position {seeded}" in output


def test_a_rewritten_log_with_recomputed_hashes_passes_the_chain_but_not_the_checkpoint(
    client: TestClient, ledger: Ledger, seeded: int, cli_env: None, tmp_path: Path
) -> None:
    # given a reader kept a checkpoint of the head
    path = kept_checkpoint(client, tmp_path)
    # when an intruder changes event 2 and recomputes every later hash
    rewrite_and_rechain(ledger, 2)
    # then the chain alone sees nothing
    assert client.get("/v1/audit/verify").json()["ok"] is True
    assert verify()[0] == 0
    # but the kept checkpoint does
    code, output = verify("--checkpoint", str(path))
    assert code == 1
    assert f"checkpoint at {seeded}" in output and "rewritten" in output


def test_a_cut_tail_with_the_head_moved_back_is_caught_by_the_checkpoint(
    client: TestClient, ledger: Ledger, seeded: int, cli_env: None, tmp_path: Path
) -> None:
    path = kept_checkpoint(client, tmp_path)
    cut_the_tail(ledger, seeded - 2)
    assert client.get("/v1/audit/verify").json()["ok"] is True

    code, output = verify("--checkpoint", str(path))

    assert code == 1
    assert f"ends at position {seeded - 2}" in output and "tail was removed" in output


def test_an_earlier_checkpoint_still_holds_after_new_events_and_a_changed_one_does_not(
    client: TestClient, seeded: int, cli_env: None, tmp_path: Path
) -> None:
    path = kept_checkpoint(client, tmp_path, at_position=3)
    assert verify("--checkpoint", str(path))[0] == 0
    # a checkpoint edited by hand (another position) no longer carries a valid signature
    edited = json.loads(path.read_text())
    edited["position"] = 4
    path.write_text(json.dumps(edited))
    code, output = verify("--checkpoint", str(path))
    assert code == 1 and "signature" in output
    # and a file that is no checkpoint is one line, exit 2
    path.write_text("{}")
    code, output = verify("--checkpoint", str(path))
    assert code == 2 and "is not a checkpoint" in output


def test_the_cli_signs_the_same_checkpoint_as_the_api(
    client: TestClient, seeded: int, cli_env: None, tmp_path: Path
) -> None:
    result = CliRunner().invoke(cli, ["checkpoint"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    served = client.get("/v1/audit/checkpoints").json()
    assert (printed["position"], printed["hash"]) == (served["position"], served["hash"])
    assert printed["public_key"] == served["public_key"]
    path = tmp_path / "cli.json"
    path.write_text(result.output)
    assert verify("--checkpoint", str(path))[0] == 0
    beyond = CliRunner().invoke(cli, ["checkpoint", "--at-position", str(seeded + 5)])
    assert beyond.exit_code == 2


def test_a_checkpoint_beyond_the_head_is_a_404_problem(client: TestClient, seeded: int) -> None:
    response = client.get("/v1/audit/checkpoints", params={"at_position": seeded + 1})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert f"position {seeded + 1}" in response.json()["detail"]
