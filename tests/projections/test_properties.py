"""Property: for any valid log, `GET /v1/deployments` equals a reference fold written
straight from DESIGN §2, the interval invariants hold, corroborations never change a
number, and a rebuild from the log changes nothing.

Each example writes a random log — shared counts across cities and countries, every
qualifier incl. open bounds, out-of-order periods, corrections that move a fact or
change its count, retractions, corroborations, stock estimates — into a fresh
database, then asks the live service for several groupings and filters, on both
time axes (`as_of`, and `at_position` / `known_at`).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import hypothesis.strategies as st
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from pydantic import TypeAdapter

from service.app import create_app
from service.domain.events import EventIn, EventInBase
from service.ingest.submit import new_events
from service.ledger import Ledger, build_ledger
from service.settings import Settings
from service.views.cache import ViewCache
from service.views.deployments.incremental import IncrementalFolds
from service.views.rebuild import check_projections, rebuild_projections
from tests.conftest import DatabaseFactory
from tests.projections import reference_fold as reference

EVENT = TypeAdapter[EventInBase](EventIn)

CITIES = {
    "RU": ("ru-moscow", "ru-saint-petersburg", "ru-vladivostok"),
    "CN": ("cn-dandong", "cn-shenyang"),
    "UA": ("ua-donetsk",),  # occupied: its country stays UA
}
FLOW_PLACES = (*itertools.chain(*CITIES.values()), "ru")  # "to Russia" names only the country
STOCK_PLACES = ("ru", "ru", "cn", "ru-moscow", "ru-vladivostok", "cn-dandong")
AFFILIATIONS = ("military", "civilian", "unknown")
SOURCES = ("desk-a-report", "desk-b-report", "desk-c-report", "desk-d-translation")
GROUPINGS = [
    names
    for size in (1, 2, 3)
    for names in itertools.combinations(("country", "place", "affiliation"), size)
]
FIRST_DAY = date(2021, 1, 1)
SPAN_DAYS = 3 * 365
FIGURES = ("dispatched", "repatriated", "net_flow", "estimated_present")
SCOPES = ("ru-moscow", "ru-primorsky-krai", "ru", "cn-liaoning", "cn-dandong")  # place filters
PERIOD_FILTERS = ("period_from", "period_to")
EXAMPLES = 100
"""Random logs per backend on each `make test` pass, from a fixed seed (`derandomize`):
the same logs every run, so a failure here is one anyone can reproduce. (200 took
about 4 min on SQLite and 7 on PostgreSQL on a busy 2-core machine; 100 keeps this
test near 2 and 3.5.)"""

# --- random logs ------------------------------------------------------------------------

days = st.integers(0, SPAN_DAYS).map(lambda n: FIRST_DAY + timedelta(days=n))


@st.composite
def counts(draw: st.DrawFn, top: int = 5000) -> dict[str, Any]:
    """A count as a desk would send it: a qualifier and a number, or its own bounds.
    Stocks are drawn small (`top`), so that flows after them can empty them."""
    qualifier = draw(
        st.sampled_from(
            [
                "exact",
                "approximately",
                "at_least",
                "more_than",
                "at_most",
                "fewer_than",
                "range",
                "hundreds",
                "thousands",
                "unknown",
                "given_open",
            ]
        )
    )
    if qualifier in ("hundreds", "thousands", "unknown"):
        return {"text": qualifier, "qualifier": qualifier}
    if qualifier == "range":
        low = draw(st.integers(0, top))
        high = draw(st.integers(low, low + top))
        best = draw(st.none() | st.integers(low, high))
        return {
            "text": f"{low} to {high}",
            "qualifier": "range",
            "min": low,
            "best": best,
            "max": high,
        }
    if qualifier == "given_open":  # the desk's own bounds, with no upper bound
        low = draw(st.integers(0, top))
        best = draw(st.none() | st.integers(low, low + top))
        return {"text": f"at least {low}", "qualifier": "at_least", "min": low, "best": best}
    n = draw(st.integers(2 if qualifier == "fewer_than" else 1, top))
    return {"text": f"{qualifier} {n}", "qualifier": qualifier, "number": n}


@st.composite
def periods(draw: st.DrawFn) -> dict[str, Any]:
    """A start and end, only a start, or only an end ("by May")."""
    day = draw(days)
    shape = draw(st.sampled_from(["start_end", "start", "end"]))
    end = day + timedelta(days=draw(st.integers(0, 90)))
    if shape == "start":
        return {"start": day.isoformat(), "text": "from"}
    if shape == "end":
        return {"end": day.isoformat(), "text": "by"}
    return {"start": day.isoformat(), "end": end.isoformat(), "text": "between"}


place_lists = st.lists(st.sampled_from(FLOW_PLACES), min_size=1, max_size=3, unique=True)
affiliations = st.sampled_from(AFFILIATIONS)
source_numbers = st.integers(0, len(SOURCES) - 1)
targets = st.integers(0, 1000)  # taken modulo the facts standing when the step runs

flow_steps = st.fixed_dictionaries(
    {
        "op": st.sampled_from(["dispatch", "repatriate"]),
        "source": source_numbers,
        "places": place_lists,
        "count": counts(),
        "affiliation": affiliations,
        "period": periods(),
    }
)
stock_steps = st.fixed_dictionaries(
    {
        "op": st.just("estimate"),
        "source": source_numbers,
        "place": st.sampled_from(STOCK_PLACES),
        "count": counts(top=300),
        "affiliation": affiliations,
        "as_of": days,
    }
)
correction_steps = st.fixed_dictionaries(
    {
        "op": st.just("correct"),
        "target": targets,
        "changes": st.fixed_dictionaries(
            {},
            optional={
                "places": place_lists,
                "place": st.sampled_from(STOCK_PLACES),
                "count": counts(),
                "affiliation": affiliations,
                "period": periods(),
                "as_of": days,
            },
        ),
    }
)
retraction_steps = st.fixed_dictionaries({"op": st.just("retract"), "target": targets})
corroboration_steps = st.fixed_dictionaries(
    {"op": st.just("corroborate"), "target": targets, "source": source_numbers}
)
statement_steps = st.fixed_dictionaries({"op": st.just("statement"), "source": source_numbers})
steps = st.one_of(
    flow_steps,
    flow_steps,
    stock_steps,
    stock_steps,
    correction_steps,
    retraction_steps,
    corroboration_steps,
    statement_steps,
)
logs = st.lists(st.tuples(steps, st.booleans()), min_size=1, max_size=24)  # (step, ends batch)
source_dates = st.lists(st.none() | days, min_size=len(SOURCES), max_size=len(SOURCES))


def source_body(number: int, published: date | None) -> dict[str, Any]:
    source_id = SOURCES[number]
    data: dict[str, Any] = {"source_id": source_id, "outlet": "Desk", "title": source_id}
    day = published.isoformat() if published else None
    if source_id.endswith("translation"):  # a translation's date is its original's
        data |= {"language": "en", "original": {"language": "ko", "published_on": day}}
    else:
        data |= {"language": "en", "published_on": day}
    return {
        "type": "source.recorded",
        "provenance": {"source_id": source_id, "locator": "headline"},
        "data": data,
    }


@dataclass
class WrittenFact:
    id: str
    type: str
    source_id: str
    data: dict[str, Any]
    standing: bool = True


@dataclass
class LogWriter:
    """Turns a drawn plan into valid events and appends them in batches.

    Corrections, retractions and corroborations target facts of earlier batches
    that still stand, so every drawn step becomes a valid event (or is skipped).
    """

    ledger: Ledger
    facts: list[WrittenFact] = field(default_factory=list)
    batch: list[tuple[dict[str, Any], WrittenFact | None]] = field(default_factory=list)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id → payload sent

    def commit(self) -> None:
        if not self.batch:
            return
        bodies = [EVENT.validate_python(body) for body, _ in self.batch]
        outcome = self.ledger.store.append(
            new_events(bodies, self.ledger.gazetteer), principal="property-test"
        )
        for (body, fact), recorded in zip(self.batch, outcome.result.events, strict=True):
            self.sent[str(recorded.id)] = copy.deepcopy(body["data"])
            if fact is not None:
                fact.id = str(recorded.id)
                self.facts.append(fact)
        self.batch = []

    def write(self, step: dict[str, Any]) -> None:
        op = step["op"]
        if op in ("dispatch", "repatriate", "estimate", "statement"):
            self._fact(step)
        elif op == "correct":
            self._correct(step)
        elif op == "retract":
            self._meta("fact.retracted", step, self._standing(counted_only=False))
        elif op == "corroborate":
            self._meta("fact.corroborated", step, self._standing(counted_only=False))

    def _fact(self, step: dict[str, Any]) -> None:
        op, source_id = step["op"], SOURCES[step["source"]]
        kind, data = {
            "dispatch": ("workers.dispatched", lambda: flow_data(step, "destinations")),
            "repatriate": ("workers.repatriated", lambda: flow_data(step, "from_places")),
            "estimate": ("workforce.estimated", lambda: stock_data(step)),
            "statement": ("statement.issued", statement_data),
        }[op]
        payload = data()
        body = {
            "type": kind,
            "provenance": {"source_id": source_id, "locator": f"{op} as quoted"},
            "data": payload,
        }
        self.batch.append((body, WrittenFact("", kind, source_id, payload)))

    def _standing(self, *, counted_only: bool) -> list[WrittenFact]:
        return [
            f
            for f in self.facts
            if f.standing and (not counted_only or f.type != "statement.issued")
        ]

    def _correct(self, step: dict[str, Any]) -> None:
        candidates = self._standing(counted_only=True)
        if not candidates:
            return
        fact = candidates[step["target"] % len(candidates)]
        fact.data = corrected(fact, step["changes"])
        self._append_meta(
            "fact.corrected", fact, fact.source_id, reason="desk error", replacement=fact.data
        )

    def _meta(self, kind: str, step: dict[str, Any], candidates: list[WrittenFact]) -> None:
        if not candidates:
            return
        fact = candidates[step["target"] % len(candidates)]
        if kind == "fact.retracted":
            fact.standing = False
            self._append_meta(kind, fact, fact.source_id, reason="withdrawn")
            return
        number = step["source"]
        if SOURCES[number] == fact.source_id:  # a source never corroborates itself
            number = (number + 1) % len(SOURCES)
        self._append_meta(kind, fact, SOURCES[number])

    def _append_meta(self, kind: str, fact: WrittenFact, source_id: str, **data: Any) -> None:
        body = {
            "type": kind,
            "provenance": {"source_id": source_id, "locator": "editor's note"},
            "data": {"target_event_id": fact.id, **data},
        }
        self.batch.append((body, None))


def flow_data(step: dict[str, Any], places_field: str) -> dict[str, Any]:
    return {
        places_field: [{"place_id": p} for p in step["places"]],
        "count": step["count"],
        "affiliation": step["affiliation"],
        "period": step["period"],
    }


def stock_data(step: dict[str, Any]) -> dict[str, Any]:
    return {
        "place": {"place_id": step["place"]},
        "count": step["count"],
        "affiliation": step["affiliation"],
        "as_of": step["as_of"].isoformat(),
    }


def statement_data() -> dict[str, Any]:
    return {
        "speaker": {"name": "A spokesperson"},
        "issued_on": "2023-05-01",
        "quote": "No workers were sent.",
        "language": "en",
    }


def corrected(fact: WrittenFact, changes: dict[str, Any]) -> dict[str, Any]:
    """The fact's payload with the drawn changes that fit its type."""
    data = dict(fact.data)
    if fact.type == "workforce.estimated":
        fields = {
            "place": "place",
            "count": "count",
            "affiliation": "affiliation",
            "as_of": "as_of",
        }
    else:
        places = "destinations" if fact.type == "workers.dispatched" else "from_places"
        fields = {
            "places": places,
            "count": "count",
            "affiliation": "affiliation",
            "period": "period",
        }
    for change, value in changes.items():
        if change not in fields:
            continue
        if change == "places":
            value = [{"place_id": p} for p in value]
        elif change == "place":
            value = {"place_id": value}
        elif change == "as_of":
            value = value.isoformat()
        data[fields[change]] = value
    return data


# --- the service under test ----------------------------------------------------------------


@contextmanager
def fresh_service(databases: DatabaseFactory) -> Iterator[tuple[Ledger, TestClient]]:
    """A new database, ledger and app: each example starts from an empty log."""
    url = databases.new()
    config = Settings(
        database_url=url,
        migrate_on_start=False,
        load_seed=False,
        bootstrap_admin=False,
        secret_key="test-secret",
        db_pool_size=2,
    )
    ledger = build_ledger(config)
    try:
        with TestClient(create_app(config, ledger)) as client:
            yield ledger, client
    finally:
        ledger.engine.dispose()
        databases.discard(url)


def recorded_log(client: TestClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get("/v1/events", params={"after": after, "limit": 1000}).json()
        events += page["events"]
        if page["next"] is None:
            return events
        after = page["last_position"]


def sent_log(client: TestClient, writer: LogWriter) -> list[dict[str, Any]]:
    """The log as recorded (ids, positions, times), each payload as the desk sent it:
    the reference derives bounds and places itself, never from what the service stored."""
    log = recorded_log(client)
    assert {e["id"] for e in log} == set(writer.sent)
    return [{**event, "data": writer.sent[event["id"]]} for event in log]


@dataclass(frozen=True)
class Question:
    group_by: tuple[str, ...]
    as_of: date | None = None
    at_position: int | None = None
    known_at: str | None = None
    filters: tuple[tuple[str, str], ...] = ()  # country, place (an id), affiliation, period_…

    def params(self) -> dict[str, str]:
        params = {"group_by": ",".join(self.group_by), **dict(self.filters)}
        if self.as_of is not None:
            params["as_of"] = self.as_of.isoformat()
        if self.at_position is not None:
            params["at_position"] = str(self.at_position)
        if self.known_at is not None:
            params["known_at"] = self.known_at
        return params


def ask(client: TestClient, question: Question) -> dict[str, Any]:
    response = client.get("/v1/deployments", params=question.params())
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def expected(log: list[dict[str, Any]], question: Question) -> dict[Any, dict[str, Any]]:
    given = dict(question.filters)
    place = given.get("place")
    day = {k: date.fromisoformat(given[k]) if k in given else None for k in PERIOD_FILTERS}
    filters = reference.Filters(
        countries=frozenset({given["country"]}) if "country" in given else None,
        # a region includes its cities
        place_ids=reference.within(place) if place else None,
        affiliation=given.get("affiliation"),
        period_from=day["period_from"],
        period_to=day["period_to"],
    )
    return reference.deployments(
        log,
        question.group_by,
        today=datetime.now(UTC).date(),
        as_of=question.as_of,
        position=question.at_position,
        known_at=datetime.fromisoformat(question.known_at) if question.known_at else None,
        filters=filters,
    )


def filter_choices(dates: list[date]) -> st.SearchStrategy[dict[str, str]]:
    days = st.sampled_from(dates).map(date.isoformat)
    return st.fixed_dictionaries(
        {},
        optional={
            "country": st.sampled_from(sorted(CITIES)),
            "place": st.sampled_from(SCOPES),
            "affiliation": st.sampled_from(AFFILIATIONS),
            "period_from": days,
            "period_to": days,
        },
    )


scope_choices = st.fixed_dictionaries(
    {},
    optional={"country": st.sampled_from(sorted(CITIES)), "place": st.sampled_from(SCOPES)},
)
"""A view's scope alone: a country, a place (a region includes its cities), or both."""


def interesting_dates(log: list[dict[str, Any]]) -> list[date]:
    """Every date a fact counts from, and the day before it: where `as_of` flips."""
    found: set[date] = set()
    for event in log:
        data = event["data"].get("replacement", event["data"])
        for text in (data.get("as_of"), *(data.get("period") or {}).values()):
            try:
                day = date.fromisoformat(text)
            except (TypeError, ValueError):
                continue
            found |= {day, day - timedelta(days=1)}
    return sorted(found)


# --- the invariants -------------------------------------------------------------------------


def assert_bounds_ordered(view: dict[str, Any]) -> None:
    """min <= best <= max wherever they are known."""
    for row in view["rows"]:
        for figure in FIGURES:
            value = row[figure]
            if value is None:
                continue
            known = [v for v in (value["min"], value["best"], value["max"]) if v is not None]
            assert known == sorted(known), (figure, row)
            assert value["best_complete"] == (value["best"] is not None)


def assert_countries_count_each_fact_once(
    view: dict[str, Any], log: list[dict[str, Any]], question: Question
) -> None:
    """A country's min is the sum over the facts entirely inside it; its max the sum
    over every fact touching it; and where no fact leaves the country, its bounds are
    exactly the sum of its facts' counts, each counted once."""
    assert question.group_by == ("country",)
    ledger = reference.replay(reference.known_events(log, question.at_position))
    rows = {row["country"]: row for row in view["rows"]}
    for kind, figure in (
        ("workers.dispatched", "dispatched"),
        ("workers.repatriated", "repatriated"),
    ):
        facts = [
            f
            for f in ledger.facts.values()
            if f.type == kind and (question.as_of is None or f.date <= question.as_of)
        ]
        for country in {p["country"] for f in facts for p in f.places}:
            touching = [f for f in facts if country in {p["country"] for p in f.places}]
            inside = [f for f in touching if {p["country"] for p in f.places} == {country}]
            got = rows[country][figure]
            assert got["min"] == sum(reference.count_of(f.data).min or 0 for f in inside)
            maxima = [reference.count_of(f.data).max for f in touching]
            assert got["max"] == (None if None in maxima else sum(maxima))  # type: ignore[arg-type]
            if len(inside) == len(touching):
                bests = [reference.count_of(f.data).best for f in inside]
                assert got["best"] == (None if None in bests else sum(bests))  # type: ignore[arg-type]


def assert_cities_never_split_a_country(
    country_view: dict[str, Any], place_view: dict[str, Any]
) -> None:
    """The cities of a country together claim no more than it at the least, and allow
    no less than it at the most: no city gets an invented share."""
    for country in country_view["rows"]:
        cities = [r for r in place_view["rows"] if r["place"]["country"] == country["country"]]
        for figure in ("dispatched", "repatriated"):
            whole, parts = flow(country, figure), [flow(c, figure) for c in cities]
            assert sum(p["min"] for p in parts) <= whole["min"]
            maxima = [p["max"] for p in parts]
            if whole["max"] is not None and None not in maxima:
                assert whole["max"] <= sum(maxima)


def flow(row: dict[str, Any], figure: str) -> dict[str, Any]:
    """A row's flow, a flow nobody reported (null) read as none: for sums over rows."""
    value: dict[str, Any] | None = row[figure]
    return value if value is not None else {"min": 0, "best": 0, "max": 0}


def numbers_of(view: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    return {
        key: {f: row[f] for f in FIGURES} for key, row in reference.normalised_view(view).items()
    }


def assert_corroborations_change_no_number(client: TestClient, log: list[dict[str, Any]]) -> None:
    corroborations = [e["position"] for e in log if e["type"] == "fact.corroborated"]
    for position in corroborations[:2]:
        for group_by in (("place", "affiliation"), ("country",)):
            before = ask(client, Question(group_by, at_position=position - 1))
            after = ask(client, Question(group_by, at_position=position))
            assert numbers_of(after) == numbers_of(before)
            old = reference.normalised_view(before)
            for key, row in reference.normalised_view(after).items():
                assert row["sources"] >= old[key]["sources"]
                assert row["events"] >= old[key]["events"]


# --- the property ---------------------------------------------------------------------------


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=logs, published=source_dates, data=st.data())
def test_live_view_equals_the_reference_fold_and_a_rebuild(
    databases: DatabaseFactory,
    plan: list[tuple[dict[str, Any], bool]],
    published: list[date | None],
    data: st.DataObject,
) -> None:
    with fresh_service(databases) as (ledger, client):
        # given a random valid log
        writer = LogWriter(ledger)
        writer.batch = [(source_body(n, day), None) for n, day in enumerate(published)]
        writer.commit()
        for step, ends_batch in plan:
            writer.write(step)
            if ends_batch:
                writer.commit()
                # a view asked along the way is carried forward by the asks after it
                # (service/projections/incremental.py): it must agree at every head
                midway = Question(data.draw(st.sampled_from(GROUPINGS)))
                view = reference.normalised_view(ask(client, midway))
                assert view == expected(sent_log(client, writer), midway), midway
                # so is one with a country or place filter, kept as the unfiltered one
                # cut to the groups inside it where the groups' keys decide that
                scoped = Question(
                    data.draw(st.sampled_from(GROUPINGS)),
                    filters=tuple(sorted(data.draw(scope_choices).items())),
                )
                view = reference.normalised_view(ask(client, scoped))
                assert view == expected(sent_log(client, writer), scoped), scoped
        writer.commit()
        log = sent_log(client, writer)
        head = log[-1]["position"]

        # when asked every grouping now, and a few on past dates and past positions
        questions = [Question(names) for names in GROUPINGS]
        dates = interesting_dates(log) or [FIRST_DAY]
        for _ in range(4):
            axis = data.draw(st.sampled_from(["as_of", "at_position", "known_at", "both"]))
            as_of = data.draw(st.sampled_from(dates)) if axis in ("as_of", "both") else None
            position = data.draw(st.integers(0, head)) if axis in ("at_position", "both") else None
            known_at = (
                data.draw(st.sampled_from(log))["recorded_at"] if axis == "known_at" else None
            )
            questions.append(
                Question(data.draw(st.sampled_from(GROUPINGS)), as_of, position, known_at)
            )
            questions.append(Question(("country",), as_of, position, known_at))
            filters = tuple(sorted(data.draw(filter_choices(dates)).items()))
            questions.append(
                Question(data.draw(st.sampled_from(GROUPINGS)), as_of, position, known_at, filters)
            )

        # then the live view is the reference fold, and the invariants hold
        answers = {}
        for question in questions:
            view = ask(client, question)
            answers[question] = view
            assert reference.normalised_view(view) == expected(log, question), question
            assert_bounds_ordered(view)
            if question.group_by == ("country",) and not (question.known_at or question.filters):
                assert_countries_count_each_fact_once(view, log, question)
        assert_cities_never_split_a_country(
            answers[Question(("country",))], answers[Question(("place",))]
        )
        assert_corroborations_change_no_number(client, log)

        # and a rebuild from the log finds nothing to change and changes nothing
        rules = ledger.store.rules
        assert check_projections(ledger.engine, rules).differences == []
        rebuild_projections(ledger.engine, rules)
        assert check_projections(ledger.engine, rules).differences == []
        # a rebuild keeps the head: drop the views cached and carried forward by it
        ledger.views, ledger.computed, ledger.folds = ViewCache(), ViewCache(), IncrementalFolds()
        # (the check compares the tables; asking again proves the views, on a sample)
        for question in [
            Question(("place", "affiliation")),
            Question(("country",)),
            *questions[-3:],
        ]:
            assert ask(client, question) == answers[question], question
