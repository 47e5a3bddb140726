"""Swagger's example bodies come from the seed report and cannot drift from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from service.domain.events import EventIn, EventInBase, EventType
from service.domain.examples import PLACEHOLDER_TARGET_ID, event_examples, seed_bodies

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


def seed_line_of(kind: EventType, mentioning: str) -> dict[str, Any]:
    return next(
        line
        for line in seed_lines()
        if line["type"] == kind.value and mentioning in json.dumps(line, ensure_ascii=False)
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
