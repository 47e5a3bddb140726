"""The founding report as data: the seed file loads through the API's validation,
reads back as the same facts, and holds every fact the report states. Swagger's
example bodies are the seed's own lines."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.domain.events import PAYLOAD_VERSIONS, EventType
from service.domain.examples import (
    DEFAULT_EXAMPLE_NAME,
    MORE_EXAMPLES,
    PLACEHOLDER_TARGET_ID,
    event_examples,
    illustration_source,
    seed_bodies,
    swagger_examples,
)
from service.ingest.importing import SEED_PRINCIPAL, import_events, read_seed
from service.ledger import Ledger

Headers = dict[str, str]
SOURCE = "dailynk-2023-05-nk-workers-russia"

# Filled by the server: the gazetteer's answer for a place, the bounds for a count.
SERVER_FILLED = {"place_id", "country", "kind", "min", "best", "max", "bounds_rule"}
# The seed's flows are recorded in schema version 2, whose added fields' defaults mean
# what version 1 meant (DESIGN §1b): the flow happened, by a transport not given.
VERSION_2_DEFAULTS = {("status", "completed"), ("transport", "unknown")}

# The report's sentences that state facts, verbatim, and the events quoting each.
FACT_SENTENCES = {
    "North Korea sent hundreds of new workers to regions throughout Russia from late March "
    "to early April, including Moscow, Saint Petersburg and Vladivostok, a reporting partner "
    "in North Korea told Daily NK on Friday.": ["source.recorded"],
    "About 350 workers went to Moscow and Saint Petersburg, while less than 100 went to "
    "Vladivostok.": ["workers.dispatched", "workers.dispatched"],
    "Meanwhile, North Korean workers who had been in Russia for over three years have been "
    "repatriated back to North Korea.": ["workers.repatriated"],
    "Daily NK reported in early April that North Korea ordered the repatriation of workers "
    "who were in such poor health that they could no longer work.": ["workers.repatriated"],
    "“The workers with the military-affiliated trading companies must send RUB 45,000 a "
    "month to the North Korean authorities as party funds, while the civilian workers will "
    "need to send back RUB 70,000,” the reporting partner said.": [
        "remittance.quota_reported",
        "remittance.quota_reported",
    ],
    "As of May 3, RUB 100 equalled USD 1.25.": ["fx.rate_reported"],
    "North Korea’s Vice Foreign Minister Im Chon-il issued a statement on Apr. 25 that "
    "highlighted solidarity between North Korea and Russia, mentioning the first summit "
    "between North Korean leader Kim Jong Un and Russian leader Vladimir Putin four years "
    "ago.": ["statement.issued"],
}

IM_CHON_IL_QUOTE = (
    "Today, following the long tradition of shoulder-to-shoulder struggle against the common "
    "enemy, the two countries are strengthening mutual support and solidarity in the struggle "
    "to resolutely smash the dangers of war and military threats from the outside; to "
    "safeguard the country’s security, dignity and peace; and to realize international justice."
)
VISAS = ["study", "training", "tourism", "cultural_exchange"]
LATE_MARCH_TO_EARLY_APRIL = {
    "start": "2023-03-20",
    "end": "2023-04-10",
    "precision": "day",
    "text": "from late March to early April",
}


def load_through_the_api(client: TestClient, headers: Headers) -> None:
    for number, body in enumerate(seed_bodies(), start=1):
        response = client.post("/v1/events", json=body, headers=headers)
        assert response.status_code == 201, f"line {number}: {response.text}"
        assert response.json()["warnings"] == []


def load_through_the_import(ledger: Ledger) -> None:
    # What `make run` does with an empty ledger.
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)


@pytest.fixture(params=["api", "import"])
def seeded(
    request: pytest.FixtureRequest, client: TestClient, ledger: Ledger, writer: Headers
) -> list[dict[str, Any]]:
    """The ledger after loading the seed; returns the log as GET /v1/events shows it."""
    if request.param == "api":
        load_through_the_api(client, writer)
    else:
        load_through_the_import(ledger)
    response = client.get("/v1/events", params={"limit": 1000})
    assert response.status_code == 200
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["type"] == kind]


def assert_recorded_as_given(given: Any, stored: Any, path: str = "") -> None:
    """`stored` says what `given` said; beyond it, only server-filled fields and empty defaults."""
    if isinstance(given, dict):
        assert isinstance(stored, dict), path
        for key, value in given.items():
            assert key in stored, f"{path}/{key} was dropped"
            assert_recorded_as_given(value, stored[key], f"{path}/{key}")
        for key in stored.keys() - given.keys():
            assert (
                key in SERVER_FILLED
                or stored[key] in (None, [])
                or (key, stored[key]) in VERSION_2_DEFAULTS
            ), f"{path}/{key} was added"
    elif isinstance(given, list):
        assert isinstance(stored, list) and len(stored) == len(given), path
        for index, (a, b) in enumerate(zip(given, stored, strict=True)):
            assert_recorded_as_given(a, b, f"{path}/{index}")
    else:
        assert stored == given, path


def test_the_seed_reads_back_as_the_same_facts_in_file_order(
    seeded: list[dict[str, Any]],
) -> None:
    lines = seed_bodies()
    assert [e["position"] for e in seeded] == list(range(1, len(lines) + 1))
    for line, event in zip(lines, seeded, strict=True):
        assert event["type"] == line["type"]
        assert event["stream"] == f"source:{SOURCE}"
        # recorded in its type's current version (2 for flows and statements, ...)
        assert event["schema_version"] == PAYLOAD_VERSIONS.get(EventType(event["type"]), 1)
        assert_recorded_as_given(line["data"], event["data"], event["type"])
        assert_recorded_as_given(line["provenance"], event["provenance"], event["type"])


def test_every_fact_sentence_of_the_report_is_quoted_by_its_events(
    seeded: list[dict[str, Any]],
) -> None:
    quoting: dict[str, list[str]] = {}
    for event in seeded:
        quoting.setdefault(event["provenance"]["locator"], []).append(event["type"])
    assert quoting == FACT_SENTENCES


def test_the_source_is_the_english_edition_of_a_korean_original(
    seeded: list[dict[str, Any]],
) -> None:
    [source] = of_type(seeded, "source.recorded")
    assert source["source_id"] == SOURCE
    assert source["outlet"] == "Daily NK"
    assert source["url"].startswith("https://www.dailynk.com/english/")
    assert source["language"] == "en"
    assert source["original"]["published_on"] == "2023-04-28"
    assert source["original"]["language"] == "ko"
    assert (source["translator"], source["editor"]) == ("David Black", "Robert Lauler")
    assert source["reporting_basis"] == "anonymous_source_in_country"
    # the English edition's own day is not in the text: never invented
    assert source["published_on"] is None


def test_the_two_dispatches_with_their_counts_and_honest_bounds(
    seeded: list[dict[str, Any]],
) -> None:
    moscow, vladivostok = of_type(seeded, "workers.dispatched")

    assert [p["place_id"] for p in moscow["destinations"]] == ["ru-moscow", "ru-saint-petersburg"]
    assert moscow["count"] == {
        "text": "about 350",
        "qualifier": "approximately",
        "number": 350,
        "min": 315,
        "best": 350,
        "max": 385,
        "bounds_rule": "approximately",
    }
    assert (moscow["affiliation"], moscow["transport"]) == ("civilian", "air")
    assert moscow["entry_status"] == VISAS
    assert moscow["period"] == LATE_MARCH_TO_EARLY_APRIL
    assert moscow["origin_country"] == "KP"

    assert [p["place_id"] for p in vladivostok["destinations"]] == ["ru-vladivostok"]
    assert vladivostok["count"] == {
        "text": "less than 100",
        "qualifier": "fewer_than",
        "number": 100,
        "min": 1,
        "best": None,
        "max": 99,
        "bounds_rule": "fewer_than",
    }
    assert (vladivostok["affiliation"], vladivostok["transport"]) == ("military", "rail")
    assert vladivostok["organisation"] == "military-affiliated trading companies"
    assert vladivostok["employer"] == "Russian construction companies"
    assert vladivostok["sector"] == "construction"
    assert vladivostok["entry_status"] == VISAS
    assert vladivostok["period"] == LATE_MARCH_TO_EARLY_APRIL


def test_the_two_repatriations_say_why_but_not_how_many(seeded: list[dict[str, Any]]) -> None:
    tenure, health = of_type(seeded, "workers.repatriated")
    for repatriation in (tenure, health):
        assert [p["place_id"] for p in repatriation["from_places"]] == ["ru"]
        assert repatriation["to_country"] == "KP"
        assert (repatriation["count"]["qualifier"], repatriation["count"]["min"]) == ("unknown", 1)
        assert repatriation["count"]["max"] is None
    assert (tenure["reason"], tenure["min_tenure_years"]) == ("tenure", "3")
    assert tenure["period"]["end"] == "2023-04-28"
    assert health["reason"] == "health"
    assert health["period"]["end"] == "2023-04-10"


def test_the_two_remittance_quotas_per_affiliation(seeded: list[dict[str, Any]]) -> None:
    quotas = {q["affiliation"]: q for q in of_type(seeded, "remittance.quota_reported")}
    assert quotas.keys() == {"military", "civilian"}
    assert quotas["military"]["amount"] == {"amount": "45000", "currency": "RUB"}
    assert quotas["civilian"]["amount"] == {"amount": "70000", "currency": "RUB"}
    for quota in quotas.values():
        assert (quota["per"], quota["per_worker"]) == ("month", True)
        assert quota["recipient"] == "the North Korean authorities"
    assert quotas["military"]["purpose"] == "party funds"


def test_the_rouble_dollar_rate_of_3_may(seeded: list[dict[str, Any]]) -> None:
    [rate] = of_type(seeded, "fx.rate_reported")
    assert (rate["base"], rate["quote"], rate["as_of"]) == ("RUB", "USD", "2023-05-03")
    assert rate["rate"] == "0.0125"  # RUB 100 = USD 1.25, as a decimal string, never a float


def test_the_statement_of_25_april_is_quoted_verbatim(seeded: list[dict[str, Any]]) -> None:
    [statement] = of_type(seeded, "statement.issued")
    assert statement["speaker"]["name"] == "Im Chon-il"
    assert statement["speaker"]["role"] == "Vice Foreign Minister"
    assert statement["speaker"]["country"] == "KP"
    assert statement["issued_on"] == "2023-04-25"
    assert statement["quote"] == IM_CHON_IL_QUOTE


def test_the_seed_holds_only_the_reports_own_source(seeded: list[dict[str, Any]]) -> None:
    assert {e["provenance"]["source_id"] for e in seeded} == {SOURCE}
    assert len(seeded) == 9


# --- Swagger's example bodies --------------------------------------------------------------


def test_swagger_shows_the_illustration_source_first_then_one_example_per_event_type(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    content = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    examples = content["application/json"]["examples"]
    assert list(examples) == list(swagger_examples())
    assert [name for name in examples if name in set(EventType)] == [
        kind.value for kind in EventType
    ]
    assert next(iter(examples)) == DEFAULT_EXAMPLE_NAME
    for name, example in swagger_examples().items():
        assert examples[name]["value"] == example.body
        assert examples[name]["summary"] == example.summary


def test_swaggers_default_example_is_recorded_on_a_freshly_seeded_ledger(
    client: TestClient, ledger: Ledger, writer: Headers
) -> None:
    # given the ledger as `make run` seeds it
    load_through_the_import(ledger)
    # when a journalist posts Swagger's default (first) example as it stands
    document = client.get("/openapi.json").json()
    content = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    default = next(iter(content["application/json"]["examples"].values()))["value"]
    response = client.post("/v1/events", json=default, headers=writer)
    # then it is recorded, with nothing to warn about
    assert response.status_code == 201, response.text
    assert response.json()["warnings"] == []


def _places(dispatch: dict[str, Any]) -> list[str]:
    return [place["name"] for place in dispatch["data"]["destinations"]]


def test_every_example_is_accepted_by_the_ledger_after_the_seed(
    client: TestClient, corrector: Headers
) -> None:
    # given the seed, and the second source the illustrations cite (Swagger's default)
    load_through_the_api(client, corrector)
    second = illustration_source().body
    assert client.post("/v1/events", json=second, headers=corrector).status_code == 201
    recorded = client.get("/v1/events", params={"type": "workers.dispatched"}).json()["events"]
    # when each example that the seed does not hold is posted, its target filled in with
    # the id the ledger gave the seed line it stands for
    more = [make() for examples in MORE_EXAMPLES.values() for make in examples.values()]
    for example in [*event_examples().values(), *more]:
        if example.from_seed:
            continue
        body = copy.deepcopy(example.body)
        if example.target is not None:
            assert body["data"]["target_event_id"] == PLACEHOLDER_TARGET_ID
            body["data"]["target_event_id"] = next(
                e["id"] for e in recorded if _places(e) == _places(example.target)
            )
        response = client.post("/v1/events", json=body, headers=corrector)
        # then the ledger records it
        assert response.status_code == 201, f"{example.summary}: {response.text}"
