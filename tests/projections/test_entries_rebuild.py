"""The entries read model is rebuilt from the log like every view: a rebuild makes exactly
the rows the appends made, in chunks, with corrections and retractions in and across
chunks, and with its plain rows built by a second process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import select

from service.domain.envelope import RecordedEvent
from service.domain.events import EventIn
from service.ingest.importing import SEED_PRINCIPAL, import_events, read_seed
from service.ingest.submit import new_events
from service.ledger import Ledger, build_ledger, derived_table_rules
from service.settings import Settings
from service.views.entries.tables import ENTRIES
from service.views.rebuild import ReplayPlan, check_projections, rebuild_projections
from tests.factories import SOURCE_ID, meta_body
from tests.projections.test_rebuild import derived_rows

IN_THREES = ReplayPlan(chunk_events=3, rows_built_ahead=False)
IN_THREES_BUILT_AHEAD = ReplayPlan(chunk_events=3, rows_built_ahead=True, rows_built_ahead_from=0)


def statistic(total: int, year: int = 2023, study: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "publisher": "FSB border service",
        "destination_country": "RU",
        "places": [{"name": "Khasan"}],
        "period": {"start": f"{year}-01-01", "end": f"{year}-12-31", "precision": "year"},
        "total": {"text": str(total), "qualifier": "approximately", "number": total},
    }
    if study is not None:
        data["by_purpose"] = [
            {
                "purpose": "study",
                "count": {"text": str(study), "qualifier": "exact", "number": study},
            }
        ]
    return {
        "type": "entries.recorded",
        "provenance": {"source_id": SOURCE_ID, "locator": "border statistics"},
        "data": data,
    }


def appended(ledger: Ledger, *bodies: dict[str, Any]) -> list[RecordedEvent]:
    events = new_events(TypeAdapter(list[EventIn]).validate_python(bodies), ledger.gazetteer)
    return ledger.store.append(events, principal="test").result.events


def append_statistics_and_their_corrections(ledger: Ledger) -> None:
    """Statistics corrected and retracted in their own append, in a later one, and twice."""
    first, second, _ = appended(
        ledger, statistic(13221, study=5000), statistic(12000), statistic(900, year=2019)
    )
    corrected = statistic(13000, study=4000)["data"]
    appended(
        ledger,
        meta_body("fact.corrected", str(first.id), reason="misread", replacement=corrected),
        meta_body("fact.retracted", str(second.id), reason="not confirmed"),
    )
    [fourth] = appended(ledger, statistic(700, year=2020))
    appended(
        ledger,
        meta_body("fact.corrected", str(fourth.id), reason="recount", replacement=corrected),
        meta_body(
            "fact.corrected", str(fourth.id), reason="again", replacement=statistic(5)["data"]
        ),
    )


@pytest.mark.parametrize("plan", [IN_THREES, IN_THREES_BUILT_AHEAD], ids=["here", "ahead"])
def test_a_rebuild_makes_the_entry_rows_the_appends_made(seeded: Ledger, plan: ReplayPlan) -> None:
    append_statistics_and_their_corrections(seeded)

    report = check_projections(seeded.engine, derived_table_rules(), plan)

    assert report.differences == []
    with seeded.engine.connect() as conn:
        rows = conn.execute(select(ENTRIES.c.purpose, ENTRIES.c.superseded_at)).all()
    # 4 statistics' rows (2 + 1 + 1 + 1), and 2 + 2 + 1 of their corrections' versions
    assert len(rows) == 10
    # standing: the first's corrected total and study, the 2019 one, the fourth's last
    assert sum(1 for _, ended in rows if ended is None) == 4


def test_entry_rows_built_ahead_are_the_plain_replays(tmp_path: Path) -> None:
    ledger = build_ledger(Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}"))
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    append_statistics_and_their_corrections(ledger)
    rules = derived_table_rules()
    live = derived_rows(ledger)

    rebuild_projections(ledger.engine, rules, IN_THREES)
    plain = derived_rows(ledger)
    rebuild_projections(ledger.engine, rules, IN_THREES_BUILT_AHEAD)

    assert derived_rows(ledger) == plain == live
    assert len(plain[ENTRIES.name]) == 10
