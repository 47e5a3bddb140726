"""Swagger's example bodies come from the seed report and cannot drift from it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from service.domain.events import EventIn, EventInBase, EventType
from service.domain.examples import (
    DEFAULT_EXAMPLE_NAME,
    ILLUSTRATION_SOURCE_ID,
    PLACEHOLDER_TARGET_ID,
    EventExample,
    event_examples,
    seed_bodies,
    swagger_examples,
)
from service.gazetteer import default_gazetteer

SEED_FILE = (
    Path(__file__).resolve().parents[2]
    / "service"
    / "data"
    / "seed"
    / "dailynk-nk-workers-russia.jsonl"
)
EVENT = TypeAdapter[EventInBase](EventIn)


def seed_lines() -> list[dict[str, Any]]:
    """The seed file read here independently of the module under test."""
    text = SEED_FILE.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def seed_line_of(kind: EventType, to: str) -> dict[str, Any]:
    """The seed's line of this type with `to` among its destinations (not one whose quote
    merely mentions it: the Moscow line's notes speak of Vladivostok too)."""
    return next(
        line
        for line in seed_lines()
        if line["type"] == kind.value
        and to in [p["name"] for p in line["data"].get("destinations", [])]
    )


def test_every_event_type_has_exactly_one_example() -> None:
    assert list(event_examples()) == list(EventType)


def test_the_module_reads_the_shipped_seed_file() -> None:
    assert list(seed_bodies()) == seed_lines()


@pytest.mark.parametrize(
    "kind", [kind for kind, example in event_examples().items() if example.from_seed]
)
def test_an_example_of_a_type_the_seed_holds_is_a_seed_line_verbatim(kind: EventType) -> None:
    example = event_examples()[kind]
    assert example.body in seed_lines()
    assert example.body["type"] == kind.value
    assert "Illustration" not in example.summary


def test_every_type_the_seed_holds_is_shown_from_the_seed() -> None:
    in_seed = {EventType(line["type"]) for line in seed_lines()}
    from_seed = {kind for kind, example in event_examples().items() if example.from_seed}
    assert from_seed == in_seed


@pytest.mark.parametrize(
    "kind", [kind for kind, example in event_examples().items() if not example.from_seed]
)
def test_an_illustration_says_so(kind: EventType) -> None:
    example = event_examples()[kind]
    assert example.summary.startswith("Illustration: ")
    assert "Not a fact of the founding report." in example.description
    assert example.body not in seed_lines()


@pytest.mark.parametrize("kind", list(EventType))
def test_every_example_is_a_valid_body_of_its_type(kind: EventType) -> None:
    event = EVENT.validate_python(event_examples()[kind].body)
    assert event.event_type is kind


def test_the_illustrated_correction_replaces_the_vladivostok_dispatch_with_the_seed_line() -> None:
    correction = event_examples()[EventType.fact_corrected].body
    vladivostok = seed_line_of(EventType.workers_dispatched, "Vladivostok")
    assert correction["data"]["replacement"] == vladivostok["data"]
    assert correction["provenance"] == vladivostok["provenance"]
    assert correction["data"]["target_event_id"] == PLACEHOLDER_TARGET_ID


def test_the_illustrated_retraction_quotes_the_moscow_dispatch() -> None:
    retraction = event_examples()[EventType.fact_retracted].body
    moscow = seed_line_of(EventType.workers_dispatched, "Moscow")
    assert retraction["provenance"] == moscow["provenance"]


def test_the_illustrated_corroboration_cites_another_source_than_the_seed() -> None:
    corroboration = event_examples()[EventType.fact_corroborated].body
    seed_sources = {line["provenance"]["source_id"] for line in seed_lines()}
    assert corroboration["provenance"]["source_id"] not in seed_sources


# --- each example is the fact its label names ---------------------------------------------

PLACE_FIELDS = ("destinations", "from_places", "place", "places")
COUNT_WORDS = {
    "exact": ("",),
    "approximately": ("about ", "approximately ", "around "),
    "fewer_than": ("fewer than ", "less than "),
    "at_most": ("at most ", "up to "),
    "at_least": ("at least ",),
    "more_than": ("more than ", "over "),
}


def _fact_of(example: EventExample) -> dict[str, Any]:
    """The payload the label speaks of: a correction's replacement, the target a
    corroboration or retraction points at, or the body's own data."""
    data = example.body["data"]
    if "replacement" in data:
        replacement: dict[str, Any] = data["replacement"]
        return replacement
    if example.target is not None:
        target: dict[str, Any] = example.target["data"]
        return target
    own: dict[str, Any] = data
    return own


def _payload_places(fact: dict[str, Any]) -> set[str]:
    gazetteer = default_gazetteer()
    named: list[dict[str, Any]] = []
    for part in [fact, *fact.get("claims", [])]:  # a statement's claims name places too
        for field in PLACE_FIELDS:
            value = part.get(field)
            named.extend(value if isinstance(value, list) else [value] if value else [])
    return {gazetteer.resolve(place["name"])[0].id for place in named}


def _label_places(label: str) -> set[str]:
    """Every gazetteer place whose English name or a longer alias the label names."""
    found = set()
    for place in default_gazetteer().all():
        for name in (place.name, *place.aliases):
            if len(name) >= 4 and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", label):
                found.add(place.id)
    # a name inside a longer name ("Petersburg" in "Saint Petersburg") is that place
    return found


@pytest.mark.parametrize(("name", "example"), list(swagger_examples().items()))
def test_each_example_is_the_fact_its_label_names(name: str, example: EventExample) -> None:
    label = example.summary
    fact = _fact_of(example)
    # the places the label names are the payload's places, no more and no fewer
    assert _label_places(label) == _payload_places(fact), name
    # a count the label states is the payload's count, in words and number
    count = fact.get("count")
    if count is not None and re.search(r"\d", label):
        assert count.get("number") is not None, f"{name}: a vague count is given a number"
        words = COUNT_WORDS[count["qualifier"]]
        assert any(f"{w}{count['number']:,}" in label.lower() for w in words), name
    # and its affiliation and transport words are the payload's
    for word in ("military", "civilian"):
        if word in label:
            assert fact["affiliation"] == word, name
    for word, mode in (("by rail", "rail"), ("by air", "air"), ("by sea", "sea")):
        if word in label:
            assert fact["transport"] == mode, name


def test_the_vladivostok_examples_are_the_vladivostok_dispatch() -> None:
    vladivostok = seed_line_of(EventType.workers_dispatched, "Vladivostok")
    dispatched = event_examples()[EventType.workers_dispatched]
    assert dispatched.body == vladivostok
    corrected = event_examples()[EventType.fact_corrected]
    assert corrected.body["data"]["replacement"]["destinations"] == [{"name": "Vladivostok"}]


def test_swaggers_default_example_records_a_source_the_seed_does_not_hold() -> None:
    name, default = next(iter(swagger_examples().items()))
    assert (name, default.body["type"]) == (DEFAULT_EXAMPLE_NAME, "source.recorded")
    assert default.summary.startswith("Illustration: ")
    seed_sources = {line["provenance"]["source_id"] for line in seed_lines()}
    assert default.body["data"]["source_id"] == ILLUSTRATION_SOURCE_ID not in seed_sources
    # and the illustrations that cite a second source cite this one
    cited = {
        e.body["provenance"]["source_id"]
        for e in event_examples().values()
        if not e.from_seed and e.body["provenance"]["source_id"] not in seed_sources
    }
    assert cited == {ILLUSTRATION_SOURCE_ID}


def test_a_statement_example_shows_a_speaker_without_a_name_and_the_claims_stated() -> None:
    examples = swagger_examples()
    names = list(examples)
    extra = "statement.issued (role only, with claims)"
    # shown right after the seed's statement
    assert names.index(extra) == names.index(EventType.statement_issued.value) + 1
    example = examples[extra]
    assert example.summary.startswith("Illustration: ")
    data = example.body["data"]
    assert "name" not in data["speaker"] and data["speaker"]["role"] == "city officials"
    assert data["issued_on"] == "2023-05"
    assert [claim["about"] for claim in data["claims"]] == ["present", "expected"]
    event = EVENT.validate_python(example.body)
    assert event.event_type is EventType.statement_issued
    assert example.body["provenance"]["source_id"] == ILLUSTRATION_SOURCE_ID
