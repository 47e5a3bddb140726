"""Reported facts through `POST /v1/events`: bad input is refused naming the field,
the rules that tie events together hold, and a likely double count is flagged."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from service.domain.counts import BOUNDS_RULES
from service.domain.events import META_TYPES, EventType
from service.domain.examples import event_examples, seed_bodies
from service.ingest.importing import SEED_PRINCIPAL, import_events, read_seed
from service.ledger import Ledger
from tests.factories import SOURCE_ID, dispatch_body, meta_body, source_body

PROBLEM = "application/problem+json"
OTHER_SOURCE = "rfa-2023-06-workers-far-east"

Headers = dict[str, str]
Mutation = Callable[[dict[str, Any]], None]


def example(kind: EventType) -> dict[str, Any]:
    """A valid body of this type (from Swagger's examples), safe to change."""
    return copy.deepcopy(event_examples()[kind].body)


def problem(response: Response, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == type_
    return body


def first_pointer(body: dict[str, Any]) -> str:
    pointer: str = body["errors"][0]["pointer"]
    assert body["errors"][0]["field"] == pointer.lstrip("/").replace("/", ".")
    return pointer


def created(response: Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def record(client: TestClient, headers: Headers, body: dict[str, Any]) -> str:
    """Record one event and return its id."""
    event_id: str = created(client.post("/v1/events", json=body, headers=headers))["events"][0][
        "id"
    ]
    return event_id


def event_count(client: TestClient) -> int:
    return len(client.get("/v1/events", params={"limit": 1000}).json()["events"])


# --- building bad bodies ---------------------------------------------------------------


def without(*path: str | int) -> Mutation:
    def change(body: dict[str, Any]) -> None:
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]

    return change


def setting(*path: str | int, to: Any) -> Mutation:
    def change(body: dict[str, Any]) -> None:
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = to

    return change


T = EventType
BAD_INPUT = [
    # source.recorded
    (T.source_recorded, without("data", "outlet"), "/data/outlet"),
    (T.source_recorded, setting("data", "reporting_basis", to="rumour"), "/data/reporting_basis"),
    (T.source_recorded, setting("data", "language", to="English"), "/data/language"),
    (T.source_recorded, setting("data", "url", to="not a url"), "/data/url"),
    (
        T.source_recorded,
        setting("data", "original", "published_on", to="28 April 2023"),
        "/data/original/published_on",
    ),
    (T.source_recorded, setting("provenance", "source_id", to="another-source"), "/provenance"),
    # workers.dispatched
    (T.workers_dispatched, without("data", "count"), "/data/count"),
    (T.workers_dispatched, without("data", "period"), "/data/period"),
    (T.workers_dispatched, setting("data", "transport", to="plane"), "/data/transport"),
    (T.workers_dispatched, setting("data", "affiliation", to="paramilitary"), "/data/affiliation"),
    (T.workers_dispatched, setting("data", "entry_status", to=["holiday"]), "/data/entry_status/0"),
    (T.workers_dispatched, setting("data", "count", "number", to=-5), "/data/count/number"),
    (
        T.workers_dispatched,
        setting("data", "count", to={"text": "5 to 3", "qualifier": "range", "min": 5, "max": 3}),
        "/data/count/min",
    ),
    (
        T.workers_dispatched,
        setting(
            "data", "count", to={"text": "x", "qualifier": "exact", "min": 1, "best": 9, "max": 5}
        ),
        "/data/count/best",
    ),
    (T.workers_dispatched, without("data", "count", "number"), "/data/count/number"),
    (
        T.workers_dispatched,
        setting("data", "count", "qualifier", to="lots"),
        "/data/count/qualifier",
    ),
    (T.workers_dispatched, setting("data", "origin_country", to="XX"), "/data/origin_country"),
    (T.workers_dispatched, setting("data", "period", "end", to="2023-03-01"), "/data/period/end"),
    (T.workers_dispatched, setting("data", "destinations", to=[]), "/data/destinations"),
    (T.workers_dispatched, setting("data", "destinations", 0, to={}), "/data/destinations/0/name"),
    (
        T.workers_dispatched,
        setting("data", "destinations", 0, "country", to="Russia"),
        "/data/destinations/0/country",
    ),
    (T.workers_dispatched, setting("data", "headcount", to=350), "/data/headcount"),
    # workers.repatriated
    (T.workers_repatriated, without("data", "from_places"), "/data/from_places"),
    (T.workers_repatriated, setting("data", "reason", to="homesick"), "/data/reason"),
    (T.workers_repatriated, setting("data", "min_tenure_years", to=-1), "/data/min_tenure_years"),
    (T.workers_repatriated, setting("data", "to_country", to="XX"), "/data/to_country"),
    (
        T.workers_repatriated,
        setting("data", "period", to={"precision": "day"}),
        "/data/period/start",
    ),
    (T.workers_repatriated, setting("data", "count", "min", to=-1), "/data/count/min"),
    # workforce.estimated
    # (an `as_of` left out is unknown, DESIGN §1b: a month written in words is not a date)
    (T.workforce_estimated, setting("data", "as_of", to="April 2023"), "/data/as_of"),
    (T.workforce_estimated, without("data", "place"), "/data/place"),
    (
        T.workforce_estimated,
        setting("data", "count", "qualifier", to="many"),
        "/data/count/qualifier",
    ),
    (T.workforce_estimated, setting("data", "count", "number", to=-20000), "/data/count/number"),
    (T.workforce_estimated, setting("data", "as_of", to="2023-02-30"), "/data/as_of"),
    # remittance.quota_reported
    (T.remittance_quota_reported, without("data", "amount"), "/data/amount"),
    (
        T.remittance_quota_reported,
        setting("data", "amount", "currency", to="RUR"),
        "/data/amount/currency",
    ),
    (
        T.remittance_quota_reported,
        setting("data", "amount", "currency", to="rub"),
        "/data/amount/currency",
    ),
    (
        T.remittance_quota_reported,
        setting("data", "amount", "amount", to="-45000"),
        "/data/amount/amount",
    ),
    (T.remittance_quota_reported, setting("data", "per", to="week"), "/data/per"),
    (T.remittance_quota_reported, without("data", "affiliation"), "/data/affiliation"),
    # fx.rate_reported
    (T.fx_rate_reported, setting("data", "quote", to="RUB"), "/data/quote"),
    (T.fx_rate_reported, setting("data", "base", to="QQQ"), "/data/base"),
    (T.fx_rate_reported, setting("data", "rate", to="0"), "/data/rate"),
    (T.fx_rate_reported, without("data", "as_of"), "/data/as_of"),
    # statement.issued
    (T.statement_issued, without("data", "quote"), "/data/quote"),
    (T.statement_issued, setting("data", "speaker", to={"country": "KP"}), "/data/speaker"),
    (T.statement_issued, setting("data", "speaker", "name", to=""), "/data/speaker/name"),
    (T.statement_issued, setting("data", "speaker", "country", to="XX"), "/data/speaker/country"),
    (T.statement_issued, setting("data", "issued_on", to="Apr. 25"), "/data/issued_on"),
    # entries.recorded
    (T.entries_recorded, without("data", "publisher"), "/data/publisher"),
    (T.entries_recorded, without("data", "period"), "/data/period"),
    (
        T.entries_recorded,
        setting("data", "by_purpose", 0, "purpose", to="holiday"),
        "/data/by_purpose/0/purpose",
    ),
    (
        T.entries_recorded,
        setting("data", "destination_country", to="XX"),
        "/data/destination_country",
    ),
    (T.entries_recorded, setting("data", "total", "number", to=-1), "/data/total/number"),
    # wage.reported
    (T.wage_reported, without("data", "amount"), "/data/amount"),
    (T.wage_reported, setting("data", "per", to="fortnight"), "/data/per"),
    (T.wage_reported, setting("data", "basis", to="rumoured"), "/data/basis"),
    (T.wage_reported, setting("data", "amount", "amount", to="-500"), "/data/amount/amount"),
    # fact.corroborated
    (T.fact_corroborated, without("data", "target_event_id"), "/data/target_event_id"),
    (
        T.fact_corroborated,
        setting("data", "target_event_id", to="not-a-uuid"),
        "/data/target_event_id",
    ),
    (T.fact_corroborated, setting("data", "count", to={}), "/data/count"),
    # fact.corrected
    (T.fact_corrected, without("data", "replacement"), "/data/replacement"),
    (T.fact_corrected, without("data", "reason"), "/data/reason"),
    (T.fact_corrected, setting("data", "target_event_id", to=42), "/data/target_event_id"),
    # fact.retracted
    (T.fact_retracted, without("data", "reason"), "/data/reason"),
    (T.fact_retracted, setting("data", "reason", to=""), "/data/reason"),
    # the envelope, on any type
    (T.workers_dispatched, without("provenance", "locator"), "/provenance/locator"),
    (
        T.workers_dispatched,
        setting("provenance", "assessment", to={"reliability": "G", "credibility": 2}),
        "/provenance/assessment/reliability",
    ),
    (
        T.workers_dispatched,
        setting("provenance", "assessment", to={"reliability": "B", "credibility": 7}),
        "/provenance/assessment/credibility",
    ),
    (
        T.workers_dispatched,
        setting("provenance", "source_id", to="Daily NK!"),
        "/provenance/source_id",
    ),
    (T.workers_dispatched, setting("schema_version", to=3), "/schema_version"),
    (T.source_recorded, setting("schema_version", to=2), "/schema_version"),
    (T.workers_dispatched, setting("stream", to="source:other"), "/stream"),
    (T.workers_dispatched, setting("expected_version", to=-1), "/expected_version"),
]


@pytest.mark.parametrize(
    ("kind", "change", "pointer"),
    BAD_INPUT,
    ids=[f"{kind.value}:{pointer}" for kind, _, pointer in BAD_INPUT],
)
def test_bad_input_is_refused_naming_the_field(
    client: TestClient, corrector: Headers, kind: EventType, change: Mutation, pointer: str
) -> None:
    # given a valid body of this type, broken in one place
    body = example(kind)
    change(body)
    # when it is posted
    response = client.post("/v1/events", json=body, headers=corrector)
    # then it is a 422 naming that field, and nothing is recorded
    assert first_pointer(problem(response, 422, "/problems/validation-error")) == pointer
    assert event_count(client) == 0


def test_every_event_type_has_bad_input_cases() -> None:
    assert {kind for kind, _, _ in BAD_INPUT} == set(EventType)


def test_a_bad_field_in_a_batch_is_named_with_its_index(
    client: TestClient, writer: Headers
) -> None:
    bad = example(T.workers_dispatched)
    bad["data"]["transport"] = "plane"
    response = client.post(
        "/v1/events", json={"events": [example(T.source_recorded), bad]}, headers=writer
    )
    body = problem(response, 422, "/problems/validation-error")
    assert first_pointer(body) == "/events/1/data/transport"
    assert event_count(client) == 0


# --- places and sources that are not known -----------------------------------------------

PLACED = [
    (T.workers_dispatched, ("data", "destinations", 0)),
    (T.workers_repatriated, ("data", "from_places", 0)),
    (T.workforce_estimated, ("data", "place")),
]


@pytest.fixture
def daily_nk(client: TestClient, writer: Headers) -> str:
    """The seed's source is recorded; returns its event id."""
    return record(client, writer, example(T.source_recorded))


@pytest.mark.parametrize(("kind", "where"), PLACED, ids=[k.value for k, _ in PLACED])
def test_an_unknown_place_is_a_422_listing_the_closest_matches(
    client: TestClient, writer: Headers, kind: EventType, where: tuple[str | int, ...]
) -> None:
    # given the sources the body cites
    record(client, writer, source_body(example(kind)["provenance"]["source_id"]))
    # when a place is misspelt beyond any known spelling
    body = example(kind)
    setting(*where, to={"name": "Vladivostak"})(body)
    response = client.post("/v1/events", json=body, headers=writer)
    # then the ledger names the field and suggests the closest places, never a new city
    problem_body = problem(response, 422, "/problems/unknown-place")
    assert first_pointer(problem_body) == "/" + "/".join(map(str, (*where, "name")))
    assert any(s.startswith("ru-vladivostok ") for s in problem_body["suggestions"])
    assert "ru-vladivostok" in problem_body["detail"]


def test_a_quota_with_an_unknown_place_is_refused(
    client: TestClient, writer: Headers, daily_nk: str
) -> None:
    body = example(T.remittance_quota_reported)
    body["data"]["places"] = [{"name": "Vladivostok"}, {"place_id": "ru-atlantis"}]
    response = client.post("/v1/events", json=body, headers=writer)
    assert first_pointer(problem(response, 422, "/problems/unknown-place")) == (
        "/data/places/1/place_id"
    )


@pytest.mark.parametrize("kind", [k for k in EventType if k is not T.source_recorded])
def test_an_event_citing_an_unrecorded_source_is_refused(
    client: TestClient, corrector: Headers, kind: EventType
) -> None:
    response = client.post("/v1/events", json=example(kind), headers=corrector)
    body = problem(response, 422, "/problems/unknown-source")
    assert first_pointer(body) == "/provenance/source_id"
    assert "source.recorded" in body["detail"]


# --- the rules that tie events together ----------------------------------------------------


def test_a_source_cannot_be_recorded_twice(
    client: TestClient, writer: Headers, daily_nk: str
) -> None:
    response = client.post("/v1/events", json=example(T.source_recorded), headers=writer)
    assert first_pointer(problem(response, 409, "/problems/source-already-recorded")) == (
        "/data/source_id"
    )
    assert event_count(client) == 1


def test_a_source_recorded_twice_in_one_batch_refuses_the_batch(
    client: TestClient, writer: Headers
) -> None:
    batch = {"events": [source_body(), source_body(title="Another title")]}
    response = client.post("/v1/events", json=batch, headers=writer)
    assert first_pointer(problem(response, 409, "/problems/source-already-recorded")) == (
        "/events/1/data/source_id"
    )
    assert event_count(client) == 0


def test_a_source_recorded_earlier_in_the_batch_can_be_cited(
    client: TestClient, writer: Headers
) -> None:
    batch = {"events": [example(T.source_recorded), example(T.workers_dispatched)]}
    assert len(created(client.post("/v1/events", json=batch, headers=writer))["events"]) == 2


@pytest.mark.parametrize("kind", sorted(META_TYPES))
def test_a_meta_event_must_target_a_recorded_fact(
    client: TestClient, corrector: Headers, daily_nk: str, kind: EventType
) -> None:
    body = example(kind)
    body["provenance"] = example(T.workers_dispatched)["provenance"]
    body["data"]["target_event_id"] = "01890000-0000-7000-8000-00000000beef"
    response = client.post("/v1/events", json=body, headers=corrector)
    assert first_pointer(problem(response, 422, "/problems/unknown-target")) == (
        "/data/target_event_id"
    )


@pytest.mark.parametrize("kind", sorted(META_TYPES))
def test_a_meta_event_cannot_target_another_meta_event(
    client: TestClient, corrector: Headers, daily_nk: str, kind: EventType
) -> None:
    # given a dispatch, corroborated by a second source
    fact = record(client, corrector, dispatch_body())
    record(client, corrector, source_body(OTHER_SOURCE))
    corroboration = record(client, corrector, meta_body("fact.corroborated", fact, OTHER_SOURCE))
    # when an event targets the corroboration rather than the fact
    body = meta_body(kind.value, corroboration, OTHER_SOURCE, **_meta_data(kind))
    response = client.post("/v1/events", json=body, headers=corrector)
    # then it is refused: only facts are targets
    body = problem(response, 422, "/problems/unknown-target")
    assert first_pointer(body) == "/data/target_event_id"
    assert "not a correction, retraction or corroboration" in body["detail"]


def _meta_data(kind: EventType) -> dict[str, Any]:
    if kind is T.fact_corrected:
        return {"reason": "typo", "replacement": dispatch_body()["data"]}
    if kind is T.fact_retracted:
        return {"reason": "recorded twice"}
    return {}


@pytest.mark.parametrize(
    ("kind", "verb"),
    [
        (T.fact_corrected, "corrected"),
        (T.fact_retracted, "retracted again"),
        (T.fact_corroborated, "corroborated"),
    ],
)
def test_a_retracted_fact_cannot_be_corrected_retracted_again_or_corroborated(
    client: TestClient, corrector: Headers, daily_nk: str, kind: EventType, verb: str
) -> None:
    # given a retracted fact, and a second source that could corroborate it
    fact = record(client, corrector, dispatch_body())
    record(client, corrector, meta_body("fact.retracted", fact, reason="recorded twice"))
    record(client, corrector, source_body(OTHER_SOURCE))
    # when an event targets it
    body = meta_body(kind.value, fact, OTHER_SOURCE, **_meta_data(kind))
    response = client.post("/v1/events", json=body, headers=corrector)
    # then it is a conflict naming the target, and nothing is recorded
    problem_body = problem(response, 409, "/problems/target-retracted")
    assert first_pointer(problem_body) == "/data/target_event_id"
    assert f"cannot be {verb}" in problem_body["detail"]
    assert event_count(client) == 4


def test_retracting_and_correcting_in_one_batch_refuses_the_whole_batch(
    client: TestClient, corrector: Headers, daily_nk: str
) -> None:
    fact = record(client, corrector, dispatch_body())
    batch = {
        "events": [
            meta_body("fact.retracted", fact, reason="recorded twice"),
            meta_body("fact.corrected", fact, reason="typo", replacement=dispatch_body()["data"]),
        ]
    }
    response = client.post("/v1/events", json=batch, headers=corrector)
    assert first_pointer(problem(response, 409, "/problems/target-retracted")) == (
        "/events/1/data/target_event_id"
    )
    assert event_count(client) == 2


def test_a_source_cannot_corroborate_its_own_fact(
    client: TestClient, writer: Headers, daily_nk: str
) -> None:
    fact = record(client, writer, dispatch_body())
    response = client.post("/v1/events", json=meta_body("fact.corroborated", fact), headers=writer)
    body = problem(response, 422, "/problems/self-corroboration")
    assert first_pointer(body) == "/provenance/source_id"
    assert event_count(client) == 2


def test_another_source_corroborates_a_fact_with_the_write_scope_alone(
    client: TestClient, writer: Headers, daily_nk: str
) -> None:
    fact = record(client, writer, dispatch_body())
    record(client, writer, source_body(OTHER_SOURCE))
    body = created(
        client.post(
            "/v1/events", json=meta_body("fact.corroborated", fact, OTHER_SOURCE), headers=writer
        )
    )
    assert body["events"][0]["data"]["target_event_id"] == fact
    assert body["events"][0]["stream"] == f"source:{OTHER_SOURCE}"


@pytest.mark.parametrize("kind", [T.fact_corrected, T.fact_retracted])
def test_corrections_and_retractions_need_the_correct_scope(
    client: TestClient, writer: Headers, corrector: Headers, daily_nk: str, kind: EventType
) -> None:
    # given a fact, and a desk key that may write but not correct
    fact = record(client, writer, dispatch_body())
    body = meta_body(kind.value, fact, **_meta_data(kind))
    # when the desk key corrects or retracts it, alone or inside a batch
    alone = client.post("/v1/events", json=body, headers=writer)
    batched = client.post("/v1/events", json={"events": [dispatch_body(), body]}, headers=writer)
    # then both are refused and nothing is recorded; an editor's key may
    for response in (alone, batched):
        assert "events:correct" in problem(response, 403, "/problems/forbidden")["detail"]
    assert event_count(client) == 2
    assert created(client.post("/v1/events", json=body, headers=corrector))


# --- corrections ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (without("count"), "/data/replacement/count"),
        (setting("transport", to="plane"), "/data/replacement/transport"),
        (setting("count", "number", to=-1), "/data/replacement/count/number"),
        (setting("period", "end", to="2023-01-01"), "/data/replacement/period/end"),
        (setting("speaker", to={"name": "Im Chon-il"}), "/data/replacement/speaker"),
    ],
    ids=["missing", "wrong-enum", "negative-count", "end-before-start", "foreign-field"],
)
def test_a_correction_must_replace_with_a_valid_payload_of_the_targets_type(
    client: TestClient, corrector: Headers, daily_nk: str, change: Mutation, pointer: str
) -> None:
    fact = record(client, corrector, dispatch_body())
    replacement = dispatch_body()["data"]
    change(replacement)
    correction = meta_body("fact.corrected", fact, reason="typo", replacement=replacement)
    response = client.post("/v1/events", json=correction, headers=corrector)
    body = problem(response, 422, "/problems/invalid-replacement")
    assert first_pointer(body) == pointer
    assert "workers.dispatched" in body["detail"]


def test_a_statement_cannot_replace_a_dispatch(
    client: TestClient, corrector: Headers, daily_nk: str
) -> None:
    fact = record(client, corrector, dispatch_body())
    statement = example(T.statement_issued)["data"]
    correction = meta_body("fact.corrected", fact, reason="wrong type", replacement=statement)
    response = client.post("/v1/events", json=correction, headers=corrector)
    assert first_pointer(problem(response, 422, "/problems/invalid-replacement")) == (
        "/data/replacement/destinations"
    )


def test_a_correction_resolves_the_places_of_its_replacement(
    client: TestClient, corrector: Headers, daily_nk: str
) -> None:
    fact = record(client, corrector, dispatch_body())
    unknown = dispatch_body(destinations=["Moscow", "Atlantis"])["data"]
    refused = client.post(
        "/v1/events",
        json=meta_body("fact.corrected", fact, reason="typo", replacement=unknown),
        headers=corrector,
    )
    assert first_pointer(problem(refused, 422, "/problems/unknown-place")) == (
        "/data/replacement/destinations/1/name"
    )

    fixed = dispatch_body(
        destinations=["블라디보스토크"],
        count={"text": "less than 100", "qualifier": "fewer_than", "number": 100},
    )["data"]
    body = created(
        client.post(
            "/v1/events",
            json=meta_body("fact.corrected", fact, reason="wrong city", replacement=fixed),
            headers=corrector,
        )
    )
    replacement = body["events"][0]["data"]["replacement"]
    assert replacement["destinations"] == [
        {"name": "블라디보스토크", "place_id": "ru-vladivostok", "country": "RU", "kind": "city"}
    ]
    assert (replacement["count"]["min"], replacement["count"]["max"]) == (1, 99)
    assert replacement["count"]["bounds_rule"] == "fewer_than"


def test_a_correction_of_a_source_keeps_its_id(
    client: TestClient, corrector: Headers, daily_nk: str
) -> None:
    renamed = source_body("another-id")["data"]
    response = client.post(
        "/v1/events",
        json=meta_body("fact.corrected", daily_nk, reason="typo", replacement=renamed),
        headers=corrector,
    )
    assert first_pointer(problem(response, 422, "/problems/invalid-replacement")) == (
        "/data/replacement/source_id"
    )


def test_a_corrected_fact_can_be_corrected_again_and_then_retracted(
    client: TestClient, corrector: Headers, daily_nk: str
) -> None:
    fact = record(client, corrector, dispatch_body())
    for number in (340, 345):
        count = {"text": f"about {number}", "qualifier": "approximately", "number": number}
        record(
            client,
            corrector,
            meta_body(
                "fact.corrected",
                fact,
                reason="typo",
                replacement=dispatch_body(count=count)["data"],
            ),
        )
    assert record(client, corrector, meta_body("fact.retracted", fact, reason="withdrawn"))


# --- possible duplicates -------------------------------------------------------------------

LATE_MARCH = {"start": "2023-03-20", "end": "2023-04-10", "text": "late March to early April"}


def flow(
    kind: EventType,
    places: list[str],
    count: dict[str, Any],
    source_id: str = OTHER_SOURCE,
    period: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = dispatch_body(source_id=source_id, destinations=places, count=count)
    body["data"]["period"] = period or LATE_MARCH
    if kind is T.workers_repatriated:
        body["type"] = kind.value
        data = body["data"]
        body["data"] = {
            "from_places": data["destinations"],
            "count": data["count"],
            "period": data["period"],
        }
    return body


ABOUT_350 = {"text": "about 350", "qualifier": "approximately", "number": 350}  # [315, 385]
ABOUT_300 = {"text": "about 300", "qualifier": "approximately", "number": 300}  # [270, 330]
FEWER_THAN_100 = {"text": "less than 100", "qualifier": "fewer_than", "number": 100}  # [1, 99]
EXACTLY_1000 = {"text": "1,000", "qualifier": "exact", "number": 1000}
UNKNOWN = {"text": "workers", "qualifier": "unknown"}  # [1, open]


@pytest.fixture
def two_sources(client: TestClient, writer: Headers) -> None:
    record(client, writer, source_body())
    record(client, writer, source_body(OTHER_SOURCE))


def warnings_for(
    client: TestClient, writer: Headers, first: dict[str, Any], second: dict[str, Any]
) -> tuple[str, list[dict[str, Any]]]:
    """Record `first`, then `second`; the id of the first and the warnings of the second."""
    first_id = record(client, writer, first)
    response = client.post("/v1/events", json=second, headers=writer)
    warnings: list[dict[str, Any]] = created(response)["warnings"]
    return first_id, warnings


@pytest.mark.usefixtures("two_sources")
@pytest.mark.parametrize(
    ("kind", "first_places", "first_count", "second_places", "second_count"),
    [
        (T.workers_dispatched, ["Moscow", "Saint Petersburg"], ABOUT_350, ["Moscow"], ABOUT_300),
        (T.workers_dispatched, ["Vladivostok"], FEWER_THAN_100, ["Primorsky Krai"], FEWER_THAN_100),
        (T.workers_dispatched, ["Moscow", "Saint Petersburg"], ABOUT_350, ["Russia"], UNKNOWN),
        (T.workers_dispatched, ["Russia"], UNKNOWN, ["Vladivostok"], FEWER_THAN_100),
        (T.workers_repatriated, ["Russia"], UNKNOWN, ["Vladivostok"], ABOUT_300),
        (T.workers_repatriated, ["Khabarovsk"], ABOUT_300, ["Khabarovsk Krai"], ABOUT_350),
    ],
    ids=[
        "same-city",
        "region-holds-the-city",
        "country-holds-the-cities",
        "city-inside-the-country",
        "repatriation-city-inside-the-country",
        "repatriation-region-holds-the-city",
    ],
)
def test_an_overlapping_flow_from_another_source_is_accepted_with_a_warning(
    client: TestClient,
    writer: Headers,
    kind: EventType,
    first_places: list[str],
    first_count: dict[str, Any],
    second_places: list[str],
    second_count: dict[str, Any],
) -> None:
    # given a flow reported by Daily NK
    first = flow(kind, first_places, first_count, source_id=SOURCE_ID)
    # when another source reports an overlapping flow (place, period and count)
    second = flow(kind, second_places, second_count)
    first_id, warnings = warnings_for(client, writer, first, second)
    # then it is recorded, with a warning that names the fact it may repeat
    assert warnings == [
        {
            "index": 0,
            "possible_duplicate_of": first_id,
            "reason": "another_source",
            "hint": "If this is the same fact from another source, record it as fact.corroborated.",
        }
    ]
    assert event_count(client) == 4


@pytest.mark.usefixtures("two_sources")
@pytest.mark.parametrize(
    "second",
    [
        flow(
            T.workers_dispatched,
            ["Moscow"],
            ABOUT_300,
            period={"start": "2023-06-01", "end": "2023-06-30"},
        ),
        flow(T.workers_dispatched, ["Moscow"], EXACTLY_1000),
        flow(T.workers_dispatched, ["Vladivostok"], ABOUT_300),
        flow(T.workers_dispatched, ["Kazan", "Novosibirsk"], ABOUT_300),
        flow(T.workers_dispatched, ["Dandong"], ABOUT_300),
        flow(T.workers_repatriated, ["Moscow"], ABOUT_300),
    ],
    ids=[
        "later-period",
        "disjoint-counts",
        "other-city-same-country",
        "other-cities-same-country",
        "other-country",
        "other-type",
    ],
)
def test_no_warning_when_the_flows_cannot_be_the_same_workers(
    client: TestClient, writer: Headers, second: dict[str, Any]
) -> None:
    first = flow(T.workers_dispatched, ["Moscow", "Saint Petersburg"], ABOUT_350, SOURCE_ID)
    _, warnings = warnings_for(client, writer, first, second)
    assert warnings == []


SAME_SOURCE_HINT = (
    "This source reported an overlapping flow already. If the report repeats its own fact, "
    "retract this event (fact.retracted): recorded twice, the workers count twice."
)


@pytest.mark.usefixtures("two_sources")
@pytest.mark.parametrize(
    ("kind", "first_places", "first_count", "second_places", "second_count"),
    [
        (T.workers_dispatched, ["Moscow", "Saint Petersburg"], ABOUT_350, ["Moscow"], ABOUT_300),
        (T.workers_dispatched, ["Vladivostok"], FEWER_THAN_100, ["Vladivostok"], FEWER_THAN_100),
        (T.workers_repatriated, ["Russia"], UNKNOWN, ["Vladivostok"], ABOUT_300),
    ],
    ids=["same-city", "the-same-fact-again", "repatriation-city-inside-the-country"],
)
def test_a_report_repeating_its_own_flow_is_accepted_with_a_warning(
    client: TestClient,
    writer: Headers,
    kind: EventType,
    first_places: list[str],
    first_count: dict[str, Any],
    second_places: list[str],
    second_count: dict[str, Any],
) -> None:
    # given a flow reported by Daily NK
    first = flow(kind, first_places, first_count, source_id=SOURCE_ID)
    # when Daily NK's report is entered with an overlapping flow again
    second = flow(kind, second_places, second_count, source_id=SOURCE_ID)
    first_id, warnings = warnings_for(client, writer, first, second)
    # then it is recorded, with a warning that names the fact and says whose it is
    assert warnings == [
        {
            "index": 0,
            "possible_duplicate_of": first_id,
            "reason": "same_source",
            "hint": SAME_SOURCE_HINT,
        }
    ]
    assert event_count(client) == 4


@pytest.mark.usefixtures("two_sources")
@pytest.mark.parametrize(
    "second",
    [
        flow(
            T.workers_dispatched,
            ["Moscow"],
            ABOUT_300,
            source_id=SOURCE_ID,
            period={"start": "2023-06-01", "end": "2023-06-30"},
        ),
        flow(T.workers_dispatched, ["Moscow"], EXACTLY_1000, source_id=SOURCE_ID),
        flow(T.workers_dispatched, ["Vladivostok"], ABOUT_300, source_id=SOURCE_ID),
        flow(T.workers_repatriated, ["Moscow"], ABOUT_300, source_id=SOURCE_ID),
    ],
    ids=["later-period", "disjoint-counts", "other-city-same-country", "other-type"],
)
def test_no_warning_when_a_reports_own_flows_cannot_be_the_same_workers(
    client: TestClient, writer: Headers, second: dict[str, Any]
) -> None:
    first = flow(T.workers_dispatched, ["Moscow", "Saint Petersburg"], ABOUT_350, SOURCE_ID)
    _, warnings = warnings_for(client, writer, first, second)
    assert warnings == []


def test_the_seeds_own_dispatch_sent_again_is_recorded_as_sent_with_a_warning(
    client: TestClient, ledger: Ledger, writer: Headers
) -> None:
    # given the seeded ledger: Daily NK's "less than 100 went to Vladivostok"
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    seed_events = client.get("/v1/events", params={"limit": 1000}).json()["events"]
    [vladivostok] = [
        e
        for e in seed_events
        if e["type"] == "workers.dispatched"
        and e["data"]["destinations"][0]["place_id"] == "ru-vladivostok"
    ]
    [line] = [
        b for b in seed_bodies() if b["data"].get("destinations") == [{"name": "Vladivostok"}]
    ]
    # when a desk posts that line again, from the seed's own source
    answer = created(client.post("/v1/events", json=line, headers=writer))
    # then it is recorded as sent (a warning refuses nothing), naming the seed's event
    assert [(w["possible_duplicate_of"], w["reason"]) for w in answer["warnings"]] == [
        (vladivostok["id"], "same_source")
    ]
    assert answer["events"][0]["data"]["count"] == vladivostok["data"]["count"]
    rows = client.get("/v1/deployments", params={"place": "Vladivostok"}).json()["rows"]
    assert [row["dispatched"]["max"] for row in rows] == [198]


@pytest.mark.usefixtures("two_sources")
@pytest.mark.settings(duplicates_compared=2)
def test_a_duplicate_is_found_among_many_flows_elsewhere_in_its_period(
    client: TestClient, writer: Headers
) -> None:
    """Only a bounded number of facts is compared with a new one: those of places it could
    share workers with, not the first of every place in its period."""
    # given flows to other cities, starting earlier in the period, and one to Moscow
    for day in ("2023-03-01", "2023-03-02", "2023-03-03"):
        period = {"start": day, "end": "2023-04-10"}
        record(client, writer, flow(T.workers_dispatched, ["Kazan"], ABOUT_300, SOURCE_ID, period))
    first = flow(T.workers_dispatched, ["Moscow"], ABOUT_350, SOURCE_ID)
    # when another source reports the Moscow workers
    first_id, warnings = warnings_for(
        client, writer, first, flow(T.workers_dispatched, ["Moscow"], ABOUT_300)
    )
    # then the Moscow fact is named
    assert [w["possible_duplicate_of"] for w in warnings] == [first_id]


@pytest.mark.usefixtures("two_sources")
def test_a_retracted_flow_is_not_a_possible_duplicate(
    client: TestClient, corrector: Headers
) -> None:
    first = record(client, corrector, flow(T.workers_dispatched, ["Moscow"], ABOUT_350, SOURCE_ID))
    record(client, corrector, meta_body("fact.retracted", first, reason="withdrawn"))
    response = client.post(
        "/v1/events", json=flow(T.workers_dispatched, ["Moscow"], ABOUT_300), headers=corrector
    )
    assert created(response)["warnings"] == []


@pytest.mark.usefixtures("two_sources")
def test_a_warning_in_a_batch_names_the_events_index(client: TestClient, writer: Headers) -> None:
    first = record(
        client, writer, flow(T.workers_dispatched, ["Vladivostok"], FEWER_THAN_100, SOURCE_ID)
    )
    batch = {
        "events": [
            flow(T.workers_dispatched, ["Dandong"], ABOUT_300),
            flow(
                T.workers_dispatched,
                ["Vladivostok"],
                {"text": "about 80", "qualifier": "approximately", "number": 80},
            ),
        ]
    }
    warnings = created(client.post("/v1/events", json=batch, headers=writer))["warnings"]
    assert [(w["index"], w["possible_duplicate_of"]) for w in warnings] == [(1, first)]


# --- the documentation a journalist reads --------------------------------------------------


def test_every_count_rule_is_written_where_facts_are_recorded(client: TestClient) -> None:
    # the rules table is in the description of POST /v1/events (below Swagger's first screen)
    contract = client.get("/openapi.json").json()
    description = contract["paths"]["/v1/events"]["post"]["description"]
    for qualifier, rule in BOUNDS_RULES.items():
        assert f"| `{qualifier.value}` | {rule} |" in description


@pytest.mark.usefixtures("two_sources")
def test_two_sources_accounts_of_one_flow_in_one_batch_are_warned_of_like_two_posts(
    client: TestClient, writer: Headers
) -> None:
    batch = {
        "events": [
            flow(T.workers_dispatched, ["Moscow", "Saint Petersburg"], ABOUT_350, SOURCE_ID),
            flow(T.workers_dispatched, ["Moscow"], ABOUT_300, SOURCE_ID),  # same source
            flow(T.workers_dispatched, ["Vladivostok"], ABOUT_300),  # another city
            flow(T.workers_repatriated, ["Moscow"], ABOUT_300),  # another type
            flow(T.workers_dispatched, ["Russia"], UNKNOWN),  # holds both cities
        ]
    }
    answer = created(client.post("/v1/events", json=batch, headers=writer))
    ids = [event["id"] for event in answer["events"]]
    assert [(w["index"], w["possible_duplicate_of"], w["reason"]) for w in answer["warnings"]] == [
        (1, ids[0], "same_source"),  # the report's total and its breakdown: one count twice?
        (4, ids[0], "another_source"),
        (4, ids[1], "another_source"),
        (4, ids[2], "same_source"),  # Russia holds Vladivostok, told by the same report
    ]


@pytest.mark.usefixtures("two_sources")
def test_in_a_batch_a_long_period_is_found_by_a_short_one_inside_it(
    client: TestClient, writer: Headers
) -> None:
    # given a half-year dispatch and, later in the batch, another source's weeks within it
    half_year = {"start": "2023-01-01", "end": "2023-06-30", "text": "first half of 2023"}
    batch = {
        "events": [
            flow(T.workers_dispatched, ["Moscow"], ABOUT_350, SOURCE_ID, half_year),
            flow(T.workers_dispatched, ["Kazan"], ABOUT_300, SOURCE_ID),
            flow(T.workers_dispatched, ["Moscow"], ABOUT_300),  # late March
        ]
    }
    answer = created(client.post("/v1/events", json=batch, headers=writer))
    # then the short one names the long one, which started months before it
    assert [(w["index"], w["possible_duplicate_of"]) for w in answer["warnings"]] == [
        (2, answer["events"][0]["id"])
    ]
