"""One example request body per event type, taken from the seed report.

Swagger shows these on `POST /v1/events`. Types the founding report does not
contain are built from its facts and say so in their summary; a test keeps every
example equal to the seed file so the two cannot drift apart, and another that each
example is the fact its summary names.

Swagger's first (default) example records an illustration source the seed does not
hold, so the first thing a journalist tries on a seeded ledger succeeds; the
illustrations after it cite that source.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from service.domain.events import EventType

SEED_PACKAGE = "service"
SEED_PATH = ("data", "seed", "dailynk-nk-workers-russia.jsonl")

# Stands for the id the ledger gave the targeted fact: ids are assigned on recording,
# so an example cannot know it. Swagger users replace it (GET /v1/events lists ids).
PLACEHOLDER_TARGET_ID = "01890000-0000-7000-8000-000000000000"
ILLUSTRATION_SOURCE_ID = "example-second-report"


@dataclass(frozen=True)
class EventExample:
    summary: str
    description: str
    body: dict[str, Any]
    from_seed: bool
    target: dict[str, Any] | None = None
    """The seed body whose recorded id PLACEHOLDER_TARGET_ID stands for, if any."""


@cache
def seed_bodies() -> tuple[dict[str, Any], ...]:
    """Every line of the shipped seed file, as the request body it is."""
    text = resources.files(SEED_PACKAGE).joinpath(*SEED_PATH).read_text(encoding="utf-8")
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


def _first_of(kind: EventType, to: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A copy of the first seed body of a type (a dispatch to exactly the places `to`, if
    given: by its destinations, never by words in its quote, which may name others)."""
    return copy.deepcopy(
        next(
            body
            for body in seed_bodies()
            if body["type"] == kind.value
            and (to is None or tuple(d["name"] for d in body["data"]["destinations"]) == to)
        )
    )


def _seed_example(kind: EventType, summary: str, to: tuple[str, ...] | None = None) -> EventExample:
    return EventExample(
        summary=summary,
        description="Taken verbatim from the seed file (Daily NK, May 2023).",
        body=_first_of(kind, to),
        from_seed=True,
    )


def _illustration(
    summary: str, description: str, body: dict[str, Any], target: dict[str, Any] | None = None
) -> EventExample:
    return EventExample(
        summary=f"Illustration: {summary}",
        description=description + " Not a fact of the founding report.",
        body=body,
        from_seed=False,
        target=target,
    )


def _vladivostok() -> dict[str, Any]:
    return _first_of(EventType.workers_dispatched, ("Vladivostok",))


def _moscow() -> dict[str, Any]:
    return _first_of(EventType.workers_dispatched, ("Moscow", "Saint Petersburg"))


def illustration_source() -> EventExample:
    """The source the illustrations cite, which the seed does not hold: Swagger's default
    example, so that posting it first on a seeded ledger succeeds (201)."""
    return _illustration(
        "record a second report (post this first; the illustrations cite it)",
        f"Opens the stream of an example source ({ILLUSTRATION_SOURCE_ID!r}) that the seed "
        "does not hold, so it can be posted on a seeded ledger; the illustrated "
        "corroboration and stock estimate cite it.",
        {
            "type": EventType.source_recorded.value,
            "provenance": {
                "source_id": ILLUSTRATION_SOURCE_ID,
                "locator": "Soldiers sent to build in Vladivostok",
            },
            "data": {
                "source_id": ILLUSTRATION_SOURCE_ID,
                "outlet": "Example Wire",
                "title": "Soldiers sent to build in Vladivostok",
                "language": "en",
                "published_on": "2023-05-10",
                "reporting_basis": "anonymous_source_in_country",
                "notes": "An illustration for trying the API: not a real report.",
            },
        },
    )


def _illustrations() -> dict[EventType, EventExample]:
    vladivostok = _vladivostok()
    moscow = _moscow()
    target_note = (
        f"`target_event_id` {PLACEHOLDER_TARGET_ID} stands for the id the ledger gave "
        "the targeted fact; find it with `GET /v1/events?type=workers.dispatched`."
    )
    second_source = (
        f"It cites a second source ({ILLUSTRATION_SOURCE_ID!r}), which must be recorded "
        "first with a source.recorded event."
    )
    return {
        EventType.workforce_estimated: _illustration(
            "a stock of about 20,000 workers in Russia",
            "A stock ('about 20,000 in Russia'), kept apart from the flows and never "
            f"summed into them. {second_source}",
            {
                "type": EventType.workforce_estimated.value,
                "provenance": {
                    "source_id": ILLUSTRATION_SOURCE_ID,
                    "locator": "About 20,000 North Korean workers are in Russia.",
                    "reporting_basis": "intelligence_briefing",
                },
                "data": {
                    "place": {"name": "Russia"},
                    "count": {
                        "text": "about 20,000",
                        "qualifier": "approximately",
                        "number": 20000,
                    },
                    "affiliation": "unknown",
                    "as_of": "2023-04-28",
                },
            },
        ),
        EventType.fact_corroborated: _illustration(
            "another source reports the Vladivostok dispatch",
            "The same workers from a second report: adds a source, never workers. "
            f"{second_source} {target_note}",
            {
                "type": EventType.fact_corroborated.value,
                "provenance": {
                    "source_id": ILLUSTRATION_SOURCE_ID,
                    "locator": "Fewer than 100 serving soldiers arrived in Vladivostok by train "
                    "this spring to work on construction sites.",
                    "reporting_basis": "anonymous_source_in_country",
                },
                "data": {
                    "target_event_id": PLACEHOLDER_TARGET_ID,
                    "notes": "Same count, place, period and affiliation as the Daily NK report.",
                },
            },
            target=vladivostok,
        ),
        EventType.fact_corrected: _illustration(
            "a correction of the Vladivostok dispatch",
            "Suppose the desk had entered 'less than 100' as exactly 100: the replacement "
            "is the whole corrected payload, here the seed's Vladivostok dispatch. Needs the "
            f"scope `events:correct`. {target_note}",
            {
                "type": EventType.fact_corrected.value,
                "provenance": vladivostok["provenance"],
                "data": {
                    "target_event_id": PLACEHOLDER_TARGET_ID,
                    "reason": "The count was entered as exactly 100; the report says "
                    "'less than 100'.",
                    "replacement": vladivostok["data"],
                },
            },
            target=vladivostok,
        ),
        EventType.fact_retracted: _illustration(
            "a retraction of the Moscow and Saint Petersburg dispatch recorded twice",
            "Suppose the desk had recorded the Moscow and Saint Petersburg dispatch twice: "
            "the second copy is retracted and stops counting. Needs the scope "
            f"`events:correct`. {target_note}",
            {
                "type": EventType.fact_retracted.value,
                "provenance": moscow["provenance"],
                "data": {
                    "target_event_id": PLACEHOLDER_TARGET_ID,
                    "reason": "Recorded twice by mistake; the first record stands.",
                },
            },
            target=moscow,
        ),
        EventType.entries_recorded: _illustration(
            "Russian border statistics: 13,221 North Koreans entered in 2023, 5,000 of them "
            "to study",
            "An official count of arrivals with one purpose given ('of them 5,000 to study'): "
            "a total and one figure by purpose. Arrivals are not workers: never summed into "
            f"the flows or stocks. {second_source}",
            {
                "type": EventType.entries_recorded.value,
                "provenance": {
                    "source_id": ILLUSTRATION_SOURCE_ID,
                    "locator": "According to Russian border statistics, 13,221 North Koreans "
                    "entered Russia in 2023, 5,000 of them to study.",
                    "reporting_basis": "government_data",
                },
                "data": {
                    "publisher": "FSB border service",
                    "origin_country": "KP",
                    "destination_country": "RU",
                    "period": {
                        "start": "2023-01-01",
                        "end": "2023-12-31",
                        "precision": "year",
                        "text": "in 2023",
                    },
                    "total": {"text": "13,221", "qualifier": "exact", "number": 13221},
                    "by_purpose": [
                        {
                            "purpose": "study",
                            "count": {"text": "5,000", "qualifier": "exact", "number": 5000},
                        }
                    ],
                },
            },
        ),
        EventType.wage_reported: _illustration(
            "construction workers in Vladivostok promised USD 500 a month",
            "Pay per worker as promised (`basis: paid` for what was paid): a wage is not a "
            f"remittance, and is never in the quotas. {second_source}",
            {
                "type": EventType.wage_reported.value,
                "provenance": {
                    "source_id": ILLUSTRATION_SOURCE_ID,
                    "locator": "The construction workers in Vladivostok were promised USD 500 "
                    "a month.",
                    "reporting_basis": "anonymous_source_in_country",
                },
                "data": {
                    "amount": {"amount": "500", "currency": "USD"},
                    "per": "month",
                    "basis": "promised",
                    "sector": "construction",
                    "places": [{"name": "Vladivostok"}],
                },
            },
        ),
    }


@cache
def event_examples() -> dict[EventType, EventExample]:
    """One example per event type, in the order of `EventType`."""
    found = {
        EventType.source_recorded: _seed_example(
            EventType.source_recorded, "Daily NK, May 2023: the founding report"
        ),
        EventType.workers_dispatched: _seed_example(
            EventType.workers_dispatched,
            "Fewer than 100 military-affiliated workers to Vladivostok by rail",
            ("Vladivostok",),
        ),
        EventType.workers_repatriated: _seed_example(
            EventType.workers_repatriated, "Workers over three years in Russia sent home"
        ),
        EventType.remittance_quota_reported: _seed_example(
            EventType.remittance_quota_reported,
            "RUB 45,000 a month from each military-affiliated worker",
        ),
        EventType.fx_rate_reported: _seed_example(
            EventType.fx_rate_reported, "RUB 100 = USD 1.25 as of 3 May 2023"
        ),
        EventType.statement_issued: _seed_example(
            EventType.statement_issued, "Vice Foreign Minister Im Chon-il, 25 April 2023"
        ),
        **_illustrations(),
    }
    return {kind: found[kind] for kind in EventType}


def statement_with_claims() -> EventExample:
    """A statement as real reports give them: the speaker only a role and an
    organisation, the date only a month, and the figures the officials stated."""
    return _illustration(
        "city officials: about 5,000 workers in Primorsky Krai, thousands more expected",
        "Officials named only by their role and organisation, a statement dated only to the "
        "month, and the figures they stated as `claims`: each listed with the statement and "
        "beside `/v1/deployments` for its places, never counted as workers. It cites a "
        f"second source ({ILLUSTRATION_SOURCE_ID!r}), which must be recorded first.",
        {
            "type": EventType.statement_issued.value,
            "provenance": {
                "source_id": ILLUSTRATION_SOURCE_ID,
                "locator": "City officials said about 5,000 North Koreans work in the region "
                "and that a few thousand more are expected this year.",
                "reporting_basis": "official_statement",
            },
            "data": {
                "speaker": {
                    "role": "city officials",
                    "country": "RU",
                    "organisation": "Vladivostok city administration",
                },
                "issued_on": "2023-05",
                "quote": "About 5,000 workers from the DPRK are employed in the region; a few "
                "thousand more are expected this year.",
                "language": "en",
                "claims": [
                    {
                        "about": "present",
                        "count": {
                            "text": "about 5,000",
                            "qualifier": "approximately",
                            "number": 5000,
                        },
                        "places": [{"name": "Primorsky Krai"}],
                        "quote": "About 5,000 workers from the DPRK are employed in the region",
                    },
                    {
                        "about": "expected",
                        "count": {"text": "a few thousand", "qualifier": "thousands"},
                        "places": [{"name": "Primorsky Krai"}],
                        "period": {
                            "start": "2023-01-01",
                            "end": "2023-12-31",
                            "precision": "year",
                            "text": "this year",
                        },
                        "quote": "a few thousand more are expected this year",
                    },
                ],
            },
        },
    )


MORE_EXAMPLES: dict[EventType, dict[str, Callable[[], EventExample]]] = {
    EventType.statement_issued: {
        "statement.issued (role only, with claims)": statement_with_claims,
    },
}
"""Further examples of a type, shown in Swagger right after its first one."""

DEFAULT_EXAMPLE_NAME = "source.recorded (illustration)"


@cache
def swagger_examples() -> dict[str, EventExample]:
    """Swagger's examples in order, by name: first (the default) the illustration source
    a seeded ledger does not hold, then one per event type, each followed by its
    `MORE_EXAMPLES`."""
    examples = {DEFAULT_EXAMPLE_NAME: illustration_source()}
    for kind, example in event_examples().items():
        examples[kind.value] = example
        examples |= {name: make() for name, make in MORE_EXAMPLES.get(kind, {}).items()}
    return examples
