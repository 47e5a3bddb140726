"""`labor-ledger import FILE.jsonl`: a good file lands whole; a bad line stops the
import, names its line, and leaves nothing of its batch behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from service.cli.commands import app
from service.domain.examples import seed_bodies
from service.ledger import Ledger
from service.log.tables import EVENTS
from service.settings import get_settings
from tests.factories import SOURCE_ID, dispatch_body, source_body


@pytest.fixture(autouse=True)
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command reads its settings from the environment: point it at this test's database."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")  # keep rich from wrapping the messages
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run_import(path: Path) -> Result:
    return CliRunner().invoke(app, ["import", str(path)])


def jsonl(path: Path, bodies: list[dict[str, Any] | str]) -> Path:
    lines = [b if isinstance(b, str) else json.dumps(b, ensure_ascii=False) for b in bodies]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def recorded(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        count: int = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
    return count


def test_a_good_file_is_imported_whole(tmp_path: Path, ledger: Ledger) -> None:
    # given the seed report as a file of event bodies
    path = jsonl(tmp_path / "seed.jsonl", list(seed_bodies()))
    # when it is imported
    result = run_import(path)
    # then every line is recorded, in order, under the file's name
    assert result.exit_code == 0, result.output
    assert "imported 9 events" in result.output
    assert recorded(ledger) == 9
    with ledger.engine.connect() as conn:
        types = conn.execute(
            select(EVENTS.c.type, EVENTS.c.recorded_by).order_by(EVENTS.c.position)
        )
        rows = list(types)
    assert [r.type for r in rows] == [b["type"] for b in seed_bodies()]
    assert {r.recorded_by for r in rows} == {"import:seed.jsonl"}


def test_blank_lines_are_skipped(tmp_path: Path, ledger: Ledger) -> None:
    path = jsonl(tmp_path / "spaced.jsonl", [source_body(), "", "   ", dispatch_body()])
    result = run_import(path)
    assert result.exit_code == 0, result.output
    assert recorded(ledger) == 2


@pytest.mark.parametrize(
    ("third_line", "said"),
    [
        ('{"type": "workers.dispatched", ', "not JSON"),
        ({**dispatch_body(), "type": "workers.teleported"}, "workers.teleported"),
        (dispatch_body(count={"text": "about 350", "qualifier": "lots"}), "data.count.qualifier"),
        (dispatch_body(destinations=["Atlantis"]), "No place called 'Atlantis'"),
        (dispatch_body(destinations=["Jilin"]), "'Jilin' names several places"),
        (dispatch_body(source_id="unrecorded-source"), "No source 'unrecorded-source'"),
        (source_body(title="The same report, retitled"), "is recorded already"),
    ],
    ids=[
        "not-json",
        "unknown-type",
        "invalid-field",
        "unknown-place",
        "ambiguous-place",
        "unknown-source",
        "source-twice",
    ],
)
def test_a_bad_line_stops_the_import_naming_its_line_and_nothing_is_kept(
    tmp_path: Path, ledger: Ledger, third_line: dict[str, Any] | str, said: str
) -> None:
    # given a file whose third line is bad, after two good ones
    path = jsonl(tmp_path / "report.jsonl", [source_body(), dispatch_body(), third_line])
    # when it is imported
    result = run_import(path)
    # then the import stops, says where and why, and records nothing of the batch
    assert result.exit_code == 1
    assert "report.jsonl:line 3: " in result.output
    assert said in result.output
    assert recorded(ledger) == 0


def test_a_missing_file_is_refused_before_anything_happens(tmp_path: Path, ledger: Ledger) -> None:
    result = run_import(tmp_path / "absent.jsonl")
    assert result.exit_code != 0
    assert recorded(ledger) == 0


# --- what the desk is told about its file --------------------------------------------------

VLADIVOSTOK = {"text": "less than 100", "qualifier": "fewer_than", "number": 100}


def vladivostok_dispatch(locator: str, source_id: str = SOURCE_ID) -> dict[str, Any]:
    body = dispatch_body(source_id, destinations=["Vladivostok"], count=VLADIVOSTOK)
    body["provenance"]["locator"] = locator
    return body


def event_ids(ledger: Ledger) -> list[str]:
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(EVENTS.c.id).order_by(EVENTS.c.position))
        return [str(row.id) for row in rows]


def test_each_warning_is_printed_with_its_line(tmp_path: Path, ledger: Ledger) -> None:
    # given a file with the same report's Vladivostok dispatch twice, in other words
    path = jsonl(
        tmp_path / "report.jsonl",
        [
            source_body(),
            vladivostok_dispatch("less than 100 went to Vladivostok"),
            "",
            vladivostok_dispatch("fewer than 100 workers arrived in Vladivostok"),
        ],
    )
    # when it is imported
    result = run_import(path)
    # then both are recorded, and the second's warning names its line and the first fact
    assert result.exit_code == 0, result.output
    ids = event_ids(ledger)
    assert len(ids) == 3
    assert f"line 4: possible duplicate of {ids[1]} (a fact of the same source)" in result.output
    assert "imported 3 events" in result.output


def test_warnings_of_a_later_batch_name_their_own_lines(tmp_path: Path, ledger: Ledger) -> None:
    # given the warned line in the second batch (batches of 1,000), against another source
    other = "rfa-2023-06-workers-far-east"
    sources = [source_body(f"filler-{n}") for n in range(999)]
    path = jsonl(
        tmp_path / "report.jsonl",
        [
            source_body(),
            *sources,
            source_body(other),
            vladivostok_dispatch("less than 100 went to Vladivostok"),
            vladivostok_dispatch("under 100 soldiers reached Vladivostok", other),
        ],
    )
    result = run_import(path)
    assert result.exit_code == 0, result.output
    first = event_ids(ledger)[1001]
    assert f"line 1003: possible duplicate of {first} (a fact of another source)" in (result.output)


def test_an_identical_line_is_imported_once_and_reported(tmp_path: Path, ledger: Ledger) -> None:
    # given a file where a dispatch was pasted twice (key order aside)
    dispatch = vladivostok_dispatch("less than 100 went to Vladivostok")
    reordered = json.dumps(dict(reversed(list(dispatch.items()))))
    path = jsonl(tmp_path / "report.jsonl", [source_body(), dispatch, reordered])
    # when it is imported
    result = run_import(path)
    # then it is recorded once, and the repeat is named with its line
    assert result.exit_code == 0, result.output
    assert recorded(ledger) == 2
    assert "line 3 is identical to line 2: sent once" in result.output
    assert "imported 2 events; identical lines sent once: 1" in result.output
