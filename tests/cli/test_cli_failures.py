"""The CLI run where or how it cannot work (issue 16): one line and a hint, exit 2, never
a traceback, and nothing made on disk; keys listed whole; flags shown as flags."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from service.access.keys import Scope
from service.ledger import Ledger

CLI = Path(sys.executable).with_name("labor-ledger")


def run(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(settings, COLUMNS="80")
    return subprocess.run(
        [str(CLI), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def said_in_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    first, hint = result.stderr.strip().splitlines()
    assert first.startswith("labor-ledger: ") and hint.strip().startswith("hint: ")
    for word in words:
        assert word in first


@pytest.mark.parametrize("command", [["verify"], ["export"], ["keys", "list"], ["checkpoint"]])
def test_outside_the_ledgers_folder_a_command_says_so_and_makes_no_file(
    tmp_path: Path, command: list[str]
) -> None:
    result = run(*command, cwd=tmp_path)

    said_in_one_line(result, "no ledger at", str(tmp_path / "data" / "ledger.db"))
    assert not (tmp_path / "data").exists()


def test_an_empty_database_url_is_one_line(tmp_path: Path) -> None:
    said_in_one_line(run("verify", cwd=tmp_path, LEDGER_DATABASE_URL=""), "is not a database URL")


def test_a_database_that_does_not_answer_is_one_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://someone:secret@127.0.0.1:9/nowhere"
    result = run("verify", cwd=tmp_path, LEDGER_DATABASE_URL=url)
    said_in_one_line(result, "cannot use the database", "127.0.0.1:9")
    assert "secret" not in result.stderr  # the password is never printed


def test_a_database_without_the_ledgers_tables_says_to_migrate(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "empty.db").close()
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = run("verify", cwd=tmp_path, LEDGER_DATABASE_URL=url)
    said_in_one_line(result, "holds no ledger tables")
    assert "labor-ledger migrate" in result.stderr


def test_restoring_an_empty_file_is_refused(tmp_path: Path, database_url: str) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    result = run("restore", str(empty), cwd=tmp_path, LEDGER_DATABASE_URL=database_url)
    assert result.returncode == 2
    assert "holds no events" in result.stderr


def test_keys_are_listed_whole_at_80_columns_and_as_json(
    tmp_path: Path, ledger: Ledger, database_url: str
) -> None:
    name = "desk-of-the-korean-service-for-regional-reporting"
    key, _ = ledger.keys.create(name, {Scope.events_write})
    env = {"LEDGER_DATABASE_URL": database_url, "LEDGER_SECRET_KEY": "test-secret"}

    table = run("keys", "list", cwd=tmp_path, **env)
    listed = run("keys", "list", "--json", cwd=tmp_path, **env)

    assert table.returncode == 0, table.stderr
    assert str(key.id) in table.stdout and name in table.stdout
    [line] = listed.stdout.splitlines()
    assert json.loads(line)["id"] == str(key.id)
    assert json.loads(line)["scopes"] == ["events:write"]
    revoked = run("keys", "revoke", str(key.id), cwd=tmp_path, **env)
    assert revoked.returncode == 0 and name in revoked.stdout


def test_flags_read_as_flags_and_every_serve_option_is_explained(tmp_path: Path) -> None:
    rebuild = run("rebuild", "--help", cwd=tmp_path)
    serve = run("serve", "--help", cwd=tmp_path)
    assert "<bool>" not in rebuild.stdout and "--check" in rebuild.stdout
    for option in ("--host", "--port", "--workers"):
        line = next(x for x in serve.stdout.splitlines() if option in x)
        assert len(line.split(option, 1)[1].strip(" │")) > 10, line  # a help text follows
