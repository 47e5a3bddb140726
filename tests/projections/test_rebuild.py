"""A rebuild pauses the cyclic garbage collector for its replay, and always restarts it."""

from __future__ import annotations

import gc
from collections.abc import Sequence

import pytest
from sqlalchemy import Connection

from service.api.deps import Ledger
from service.domain.envelope import RecordedEvent
from service.main import derived_table_rules
from service.projections.rebuild import rebuild_projections
from service.store.append import WriteOnlyRules


class Failing(WriteOnlyRules):
    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        assert not gc.isenabled(), "the replay runs with the collector paused"
        raise RuntimeError("a rule failed halfway")


def test_the_collector_runs_again_after_a_rebuild_and_after_a_failed_one(
    seeded: Ledger,
) -> None:
    assert gc.isenabled()
    report = rebuild_projections(seeded.engine, derived_table_rules(seeded.gazetteer))
    assert report.events > 0 and gc.isenabled()

    with pytest.raises(RuntimeError, match="halfway"):
        rebuild_projections(seeded.engine, [Failing()])

    assert gc.isenabled()
