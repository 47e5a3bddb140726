"""Schema version 2 of the flows, folded: stored version 1 logs read through the upcaster
fold as they did, and a log with plans folds as the reference says (DESIGN §1b).

A version 1 log is made the way an old ledger holds one: a log written through the API,
exported, each flow's payload taken back to version 1 (no `status`, no `via`, …) and the
chain recomputed over it, then restored into an empty ledger. Its hashes are then those
of the version 1 payloads, which the service must never touch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import hypothesis.strategies as st
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from service.domain.chain import GENESIS_HASH, event_hash
from service.domain.envelope import RecordedEvent
from service.ledger import Ledger
from service.log.export import export_lines
from service.log.restore import restore
from service.views.rebuild import check_projections
from tests.conftest import DatabaseFactory
from tests.factories import SOURCE_ID, dispatch_body, meta_body, source_body
from tests.follow.servers import ThreadedServer, events_of, read_stream
from tests.projections import reference_fold as reference
from tests.projections.test_properties import (
    FIRST_DAY,
    GROUPINGS,
    LogWriter,
    Question,
    ask,
    expected,
    fresh_service,
    logs,
    sent_log,
    source_dates,
)
from tests.projections.test_properties import (
    source_body as random_source_body,
)

EXAMPLES = 15
"""Random logs per backend and property (the full reference property runs 100)."""
V2_FIELDS = {
    "workers.dispatched": ("status", "via"),
    "workers.repatriated": ("status", "via", "sector", "transport"),
}
EXACT_400 = {"text": "400", "qualifier": "exact", "number": 400}
PROPERTY = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- a version 1 log, as an old ledger holds it ---------------------------------------------


def as_version_1(lines: Iterator[str]) -> list[str]:
    """The exported log with every flow (and every correction's replacement of a flow) in
    schema version 1, chained anew: what a ledger recorded before version 2 existed."""
    types: dict[str, str] = {}
    prev, out = GENESIS_HASH, []
    for line in lines:
        envelope = json.loads(line)
        types[envelope["id"]] = envelope["type"]
        data = envelope["data"]
        if envelope["type"] in V2_FIELDS:
            assert envelope["schema_version"] == 2
            envelope["data"] = _v1(envelope["type"], data)
            envelope["schema_version"] = 1
        elif envelope["type"] == "fact.corrected":
            target = types[data["target_event_id"]]
            if target in V2_FIELDS:
                data["replacement"] = _v1(target, data["replacement"])
        envelope["prev_hash"] = prev
        envelope["hash"] = prev = event_hash(
            prev, RecordedEvent.model_validate(envelope).hashed_fields()
        )
        out.append(json.dumps(envelope))
    return out


def _v1(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    defaults = {"status": "completed", "via": [], "sector": None, "transport": "unknown"}
    for name in V2_FIELDS[event_type]:
        assert data[name] == defaults[name], "a version 1 log holds no plan and no route"
    return {k: v for k, v in data.items() if k not in V2_FIELDS[event_type]}


@contextmanager
def restored(databases: DatabaseFactory, lines: list[str]) -> Iterator[tuple[Ledger, TestClient]]:
    with fresh_service(databases) as (ledger, client):
        restore(ledger.store, lines)
        yield ledger, client


# --- a stored version 1 event ----------------------------------------------------------------


def test_a_stored_version_1_dispatch_reads_as_version_2_and_its_hash_still_verifies(
    databases: DatabaseFactory,
) -> None:
    # given a ledger that recorded a dispatch in schema version 1
    with fresh_service(databases) as (ledger, client):
        writer = LogWriter(ledger)
        writer.batch = [(source_body(), None), (dispatch_body(destinations=["Moscow"]), None)]
        writer.commit()
        before = ask(client, Question(("place",)))
        lines = as_version_1(export_lines(ledger.engine))
    with restored(databases, lines) as (ledger, client):
        # then the log shows it as stored, in version 1
        [stored] = client.get("/v1/events", params={"type": "workers.dispatched"}).json()["events"]
        assert stored["schema_version"] == 1
        assert "status" not in stored["data"] and "via" not in stored["data"]
        # and, asked for the current schema, as version 2: it happened, by no route
        current = client.get(
            "/v1/events", params={"type": "workers.dispatched", "schema": "current"}
        ).json()["events"][0]
        assert current["schema_version"] == 2
        assert (current["data"]["status"], current["data"]["via"]) == ("completed", [])
        assert current["hash"] == stored["hash"]
        one = client.get(f"/v1/events/{stored['id']}", params={"schema": "current"}).json()
        assert one["data"]["status"] == "completed"
        assert client.get(f"/v1/events/{stored['id']}").json() == stored
        # the chain over the stored payloads is intact
        assert client.get("/v1/audit/verify").json()["ok"] is True
        # and the views count it as they did
        assert ask(client, Question(("place",))) == before
        assert before["rows"][0]["dispatched"]["best"] == 350
        assert before["rows"][0]["planned"] is None  # no plan reported
        assert check_projections(ledger.engine, ledger.store.rules).differences == []


def test_every_way_of_reading_the_log_gives_a_version_1_correction_in_the_current_schema(
    databases: DatabaseFactory, client: TestClient, corrector: dict[str, str]
) -> None:
    # given a version 1 ledger holding a dispatch and a correction of it (its replacement,
    # a dispatch payload, recorded in version 1 as well)
    assert client.post("/v1/events", json=source_body(), headers=corrector).status_code == 201
    dispatch = client.post("/v1/events", json=dispatch_body(), headers=corrector).json()
    target = dispatch["events"][0]["id"]
    replacement = {**dispatch_body(count=EXACT_400)["data"]}
    fixed = meta_body("fact.corrected", target, reason="a typo", replacement=replacement)
    assert client.post("/v1/events", json=fixed, headers=corrector).status_code == 201
    lines = as_version_1(export_lines(client.app.state.ledger.engine))
    with restored(databases, lines) as (_, old):
        stored = old.get("/v1/events").json()["events"]
        assert stored[2]["data"]["replacement"].keys().isdisjoint({"status", "via"})

        # when read in the current schema, from the log, a source's stream and the live stream
        listed = old.get("/v1/events", params={"schema": "current"}).json()["events"]
        one = old.get(f"/v1/events/{stored[2]['id']}", params={"schema": "current"}).json()
        page = old.get(f"/v1/streams/source:{SOURCE_ID}", params={"schema": "current"}).json()
        server = ThreadedServer(old.app).start()
        try:
            messages = read_stream(
                server.url + "/v1/events/stream?after=0&schema=current",
                until=lambda m: len(events_of(m)) == 3,
            )
        finally:
            server.stop()
        followed = [m.data for m in events_of(messages)]

        # then each gives the dispatch and the correction's replacement in version 2
        for events in (listed, page["events"], followed):
            assert events is not None
            dispatched, correction = events[1], events[2]
            assert (dispatched["schema_version"], dispatched["data"]["status"]) == (2, "completed")
            assert correction["data"]["replacement"]["status"] == "completed"
            assert correction["data"]["replacement"]["via"] == []
            assert correction["data"]["replacement"]["count"]["best"] == 400
            # and the hashes are those of the stored payloads
            assert [e["hash"] for e in events] == [e["hash"] for e in stored]
        assert one == listed[2]
        # while the stored form is what the log holds
        assert old.get(f"/v1/streams/source:{SOURCE_ID}").json()["events"] == stored


def test_the_schema_parameter_takes_only_stored_or_current(client: TestClient) -> None:
    response = client.get("/v1/events", params={"schema": "v3"})
    assert response.status_code == 422
    assert "schema" in response.json()["errors"][0]["pointer"]


# --- random version 1 logs -------------------------------------------------------------------


@PROPERTY
@given(plan=logs, published=source_dates)
def test_random_version_1_logs_fold_through_the_upcaster_as_they_did(
    databases: DatabaseFactory,
    plan: list[tuple[dict[str, Any], bool]],
    published: list[date | None],
) -> None:
    questions = [Question(names) for names in GROUPINGS]
    # given a random log without plans, and the views the service gives of it
    with fresh_service(databases) as (ledger, client):
        writer = LogWriter(ledger)
        writer.batch = [(random_source_body(n, day), None) for n, day in enumerate(published)]
        writer.commit()
        for step, ends_batch in plan:
            writer.write(step)
            if ends_batch:
                writer.commit()
        writer.commit()
        log = sent_log(client, writer)
        before = {q: ask(client, q) for q in questions}
        lines = as_version_1(export_lines(ledger.engine))
    # when the same log is held in schema version 1
    with restored(databases, lines) as (ledger, client):
        assert client.get("/v1/audit/verify").json()["ok"] is True
        for question in questions:
            view = ask(client, question)
            # then it folds to the same figures, the reference's, and plans nothing
            assert view == before[question], question
            assert reference.normalised_view(view) == expected(log, question), question
            assert all(row["planned"] is None for row in view["rows"])
        assert check_projections(ledger.engine, ledger.store.rules).differences == []


# --- random logs with plans ------------------------------------------------------------------

STATUSES = ("completed", "underway", "planned", "announced", None)


class PlanningWriter(LogWriter):
    """Writes the drawn log with a drawn status on each flow; a plan may have no date."""

    statuses: list[tuple[str | None, bool]]

    def _fact(self, step: dict[str, Any]) -> None:
        super()._fact(step)
        if step["op"] not in ("dispatch", "repatriate") or not self.statuses:
            return
        status, undated = self.statuses.pop()
        data = self.batch[-1][0]["data"]  # the fact's own payload, kept for corrections too
        if status is not None:
            data["status"] = status
        if status in ("planned", "announced") and undated:
            del data["period"]


@PROPERTY
@given(
    plan=logs,
    published=source_dates,
    statuses=st.lists(st.tuples(st.sampled_from(STATUSES), st.booleans()), max_size=30),
    data=st.data(),
)
def test_plans_fold_apart_from_the_flows_as_the_reference_says(
    databases: DatabaseFactory,
    plan: list[tuple[dict[str, Any], bool]],
    published: list[date | None],
    statuses: list[tuple[str | None, bool]],
    data: st.DataObject,
) -> None:
    with fresh_service(databases) as (ledger, client):
        writer = PlanningWriter(ledger)
        writer.statuses = statuses
        writer.batch = [(random_source_body(n, day), None) for n, day in enumerate(published)]
        writer.commit()
        for step, ends_batch in plan:
            writer.write(step)
            if ends_batch:
                writer.commit()
                midway = Question(data.draw(st.sampled_from(GROUPINGS)))
                assert reference.normalised_view(ask(client, midway)) == expected(
                    sent_log(client, writer), midway
                ), midway
        writer.commit()
        log = sent_log(client, writer)
        days = sorted(
            {FIRST_DAY + timedelta(days=n) for n in (0, 200, 400, 700, 1100)} | {date(2030, 1, 1)}
        )
        questions = [Question(names) for names in GROUPINGS]
        questions += [Question(("place", "affiliation"), as_of=day) for day in days]
        questions += [
            Question(("country",), filters=(("period_from", days[2].isoformat()),)),
            Question(("place",), filters=(("period_to", days[3].isoformat()),)),
            Question(("place",), filters=(("place", "ru"),)),
        ]
        for question in questions:
            view = ask(client, question)
            assert reference.normalised_view(view) == expected(log, question), question
        assert check_projections(ledger.engine, ledger.store.rules).differences == []
