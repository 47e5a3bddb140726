"""A realistic synthetic log, generated straight into envelope rows, fast.

Mostly `workers.dispatched` and `workers.repatriated` over the gazetteer's real
places (Russia first, then China and the other host countries), three
affiliations, a fifth of the counts shared by 2–3 places, 2% corrections, a
few retractions and corroborations, some `workforce.estimated` stocks, a few
dozen sources, fact periods over ten years and recording times over three.
Envelopes carry gapless positions, stream versions and the real hash chain, so
the log is one the store itself could have written.

Speed: a million events must be made in seconds, not minutes, on a slow
machine, so payloads are assembled from pools of pre-serialised canonical JSON
pieces (counts, periods, places, provenance) and hashed as text. `check_rows`
proves the shortcut honest: a sample goes through the API's own validation and
comes out byte-for-byte as stored, and its hash is recomputed the store's way.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter

from service.domain.chain import GENESIS_HASH, canonical_json, event_hash
from service.domain.counts import CountQualifier, bounds_by_rule
from service.domain.envelope import format_timestamp
from service.domain.events import PAYLOAD_TYPES, EventIn, EventInBase, EventType, stream_of
from service.domain.payloads import SourceRecorded
from service.domain.readers import upcast
from service.gazetteer import Gazetteer, GazetteerPlace
from service.ingest.placing import resolve_payload_places
from service.ingest.submit import new_events

PRINCIPAL = "bench"
DISPATCHED = EventType.workers_dispatched.value
REPATRIATED = EventType.workers_repatriated.value
ESTIMATED = EventType.workforce_estimated.value
COUNTED = (DISPATCHED, REPATRIATED, ESTIMATED)

AFFILIATIONS = (("civilian", 0.55), ("military", 0.30), ("unknown", 0.15))
COUNTRY_WEIGHT = {"RU": 0.55, "CN": 0.20}  # the other host countries share the rest
QUALIFIERS = (
    (CountQualifier.approximately, 0.35),
    (CountQualifier.exact, 0.15),
    (CountQualifier.fewer_than, 0.10),
    (CountQualifier.at_least, 0.08),
    (CountQualifier.more_than, 0.07),
    (CountQualifier.hundreds, 0.08),
    (CountQualifier.thousands, 0.04),
    (CountQualifier.range, 0.05),
    (CountQualifier.at_most, 0.03),
    (CountQualifier.unknown, 0.05),
)
QUALIFIER_WORDS = {
    CountQualifier.approximately: "about {n}",
    CountQualifier.exact: "{n}",
    CountQualifier.fewer_than: "less than {n}",
    CountQualifier.at_least: "at least {n}",
    CountQualifier.more_than: "more than {n}",
    CountQualifier.at_most: "up to {n}",
    CountQualifier.hundreds: "hundreds of",
    CountQualifier.thousands: "thousands of",
    CountQualifier.unknown: "an unknown number of",
}
OUTLETS = (
    ("Daily NK", "anonymous_source_in_country", "en"),
    ("Radio Free Asia", "anonymous_source_in_country", "en"),
    ("NK News", "media_report", "en"),
    ("Yonhap", "intelligence_briefing", "ko"),
    ("The Moscow Times", "government_data", "en"),
    ("Kommersant", "official_statement", "ru"),
    ("South China Morning Post", "media_report", "en"),
    ("US Department of State", "official_statement", "en"),
    ("UN Panel of Experts", "ngo_report", "en"),
    ("38 North", "satellite_imagery", "en"),
)
SECTORS = ("construction", "logging", "fishing and seafood processing", "agriculture", "textiles")
ORGANISATIONS = (
    "military-affiliated trading companies",
    "trading companies commissioned with Russia-based work",
    "the Ministry of External Economic Relations",
    None,
)
TRANSPORTS = ("air", "rail", "road", "sea", "unknown")
ENTRY_STATUSES = (["work"], ["study", "training"], [])
REASONS = ("health", "tenure", "contract_end", "sanctions", "other", "unknown")
QUARTERS = ("first", "second", "third", "fourth")
FACT_DAYS = (date(2016, 1, 1), date(2026, 9, 30))
POOL = 4000  # distinct counts, periods, provenances …: enough that facts rarely repeat


def piece(value: Any) -> str:
    """One value as canonical JSON text (the form `service.domain.chain` hashes)."""
    return canonical_json(value).decode()


_KEYS: dict[str, str] = {}


def canonical_object(members: dict[str, str]) -> str:
    """A JSON object from canonical pieces, keys sorted as `canonical_json` sorts them."""
    keys = _KEYS
    parts = []
    for key in sorted(members):
        if key not in keys:
            keys[key] = piece(key) + ":"
        parts.append(keys[key] + members[key])
    return "{" + ",".join(parts) + "}"


@dataclass(frozen=True)
class LogShape:
    events: int
    seed: int = 4
    sources: int = 40
    recorded_from: datetime = datetime(2024, 1, 2, tzinfo=UTC)
    recorded_to: datetime = datetime(2026, 11, 20, tzinfo=UTC)
    recorded_together: int = 1000  # events of one append share its timestamp
    shared_share: float = 0.20
    corrected_share: float = 0.02
    retracted_share: float = 0.003
    corroborated_share: float = 0.01
    estimated_share: float = 0.005
    dispatched_of_flows: float = 0.62

    def recorded_at(self, position: int) -> datetime:
        """Recording times grow with position, one per batch of appends."""
        batch = (position - 1) // self.recorded_together * self.recorded_together
        span = self.recorded_to - self.recorded_from
        return self.recorded_from + span * (batch / max(self.events, 1))


@dataclass
class Fact:
    """What later corrections, retractions and corroborations need of a fact."""

    id: UUID
    type: str
    source: int
    places: str  # canonical JSON of its place list (or single place, for a stock)
    affiliation: str


@dataclass
class EnvelopeRow:
    """One `events` row; `data` and `provenance` as JSON text, ready to write."""

    position: int
    id: UUID
    stream: str
    stream_version: int
    type: str
    source_id: str
    data: str
    provenance: str
    recorded_at: datetime
    hash: str
    prev_hash: str
    schema_version: int = 1
    recorded_by: str = PRINCIPAL


@dataclass
class SyntheticLog:
    shape: LogShape
    gazetteer: Gazetteer
    position: int = 0
    head_hash: str = GENESIS_HASH
    stream_versions: dict[str, int] = field(default_factory=dict)
    opened_at: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.shape.seed)
        self.facts: list[Fact] = []
        self._last_timestamp: tuple[datetime | None, str] = (None, "")
        self.retracted: set[int] = set()
        self.sources = [self._source(i) for i in range(min(self.shape.sources, self.shape.events))]
        self._index_places()
        self.count_pool = [self._count() for _ in range(POOL)]
        self.period_pool = [piece(self._period()) for _ in range(POOL)]
        self.day_pool = [piece(self._day().isoformat()) for _ in range(POOL)]
        self.provenance_pool = [
            [self._provenance(s, self._locator()) for _ in range(POOL // len(self.sources) + 1)]
            for s in range(len(self.sources))
        ]
        self.dispatch_extras = [
            {
                "employer": "null",
                "entry_status": piece(status),
                "notes": "null",
                "organisation": piece(organisation),
                "origin_country": piece("KP"),
                "sector": piece(sector),
                "transport": piece(transport),
            }
            for status in ENTRY_STATUSES
            for organisation in ORGANISATIONS
            for sector in SECTORS
            for transport in TRANSPORTS
        ]
        self.repatriation_extras = [
            {
                "min_tenure_years": piece("3" if reason == "tenure" else None),
                "notes": "null",
                "organisation": piece(organisation),
                "reason": piece(reason),
                "reason_text": "null",
                "to_country": piece("KP"),
            }
            for reason in REASONS
            for organisation in ORGANISATIONS
        ]
        self.affiliation_pieces = {a: piece(a) for a, _ in AFFILIATIONS}
        self.affiliations, self.affiliation_weights = zip(*AFFILIATIONS, strict=True)

    # -- places ------------------------------------------------------------

    def _index_places(self) -> None:
        by_country: dict[str, list[GazetteerPlace]] = {}
        for place in self.gazetteer.all():
            if place.country != "KP":  # the workers' origin, not a destination
                by_country.setdefault(place.country, []).append(place)
        self.place_count = sum(len(p) for p in by_country.values())
        others = [c for c in by_country if c not in COUNTRY_WEIGHT]
        rest = (1 - sum(COUNTRY_WEIGHT.values())) / len(others)
        self.countries = list(by_country)
        self.country_weights = [COUNTRY_WEIGHT.get(c, rest) for c in self.countries]
        self.place_pieces = {
            c: [piece(self._stored_place(p)) for p in places] for c, places in by_country.items()
        }
        # A report names a city or region far more often than a whole country.
        self.place_weights = {
            c: [0.15 if p.kind == "country" else 1.0 for p in places]
            for c, places in by_country.items()
        }
        self.below_country = {
            c: [s for s, p in zip(self.place_pieces[c], places, strict=True) if p.kind != "country"]
            for c, places in by_country.items()
        }
        self.country_level = {
            c: s
            for c, places in by_country.items()
            for s, p in zip(self.place_pieces[c], places, strict=True)
            if p.kind == "country"
        }

    @staticmethod
    def _stored_place(place: GazetteerPlace) -> dict[str, Any]:
        """A place as the API stores it once resolved."""
        return {
            "name": place.name,
            "place_id": place.id,
            "country": place.country,
            "kind": place.kind,
        }

    def _places(self, shared: bool) -> list[str]:
        rng = self.rng
        country = rng.choices(self.countries, self.country_weights)[0]
        if not shared:
            return rng.choices(self.place_pieces[country], self.place_weights[country])
        wanted = 2 if rng.random() < 0.7 else 3
        pool = self.below_country[country]
        if len(pool) < wanted:
            pool = self.below_country["RU"]
        return rng.sample(pool, wanted)

    # -- counts, periods, provenance (made once, into the pools) -----------

    def _count(self) -> str:
        rng = self.rng
        qualifier = rng.choices(*zip(*QUALIFIERS, strict=True))[0]
        n = int(10 ** rng.uniform(1.0, 3.6))
        if qualifier is CountQualifier.range:
            low = max(n // 2, 1)
            return piece(
                {
                    "text": f"between {low} and {n}",
                    "qualifier": "range",
                    "number": None,
                    "min": low,
                    "best": None,
                    "max": n,
                    "bounds_rule": "given",
                }
            )
        vague = (CountQualifier.hundreds, CountQualifier.thousands, CountQualifier.unknown)
        number = None if qualifier in vague else n
        bounds = bounds_by_rule(qualifier, number)
        assert bounds is not None
        return piece(
            {
                "text": QUALIFIER_WORDS[qualifier].format(n=n),
                "qualifier": qualifier.value,
                "number": number,
                "min": bounds[0],
                "best": bounds[1],
                "max": bounds[2],
                "bounds_rule": qualifier.value,
            }
        )

    def _day(self) -> date:
        first, last = FACT_DAYS
        return first + timedelta(days=self.rng.randrange((last - first).days))

    def _period(self) -> dict[str, Any]:
        rng, day = self.rng, self._day()
        roll = rng.random()
        if roll < 0.45:
            end = day + timedelta(days=rng.randrange(0, 25))
            text = f"from {day:%d %B} to {end:%d %B %Y}"
            return {"start": str(day), "end": str(end), "precision": "day", "text": text}
        if roll < 0.80:
            start = day.replace(day=1)
            end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            text = f"in {start:%B %Y}"
            return {"start": str(start), "end": str(end), "precision": "month", "text": text}
        if roll < 0.90:
            quarter = (day.month - 1) // 3
            start = date(day.year, quarter * 3 + 1, 1)
            end = (start + timedelta(days=95)).replace(day=1) - timedelta(days=1)
            text = f"in the {QUARTERS[quarter]} quarter of {day.year}"
            return {"start": str(start), "end": str(end), "precision": "quarter", "text": text}
        if roll < 0.95:
            start, end = date(day.year, 1, 1), date(day.year, 12, 31)
            text = f"in {day.year}"
            return {"start": str(start), "end": str(end), "precision": "year", "text": text}
        # "had been sent home by …": only an end
        return {"start": None, "end": str(day), "precision": "day", "text": f"by {day:%d %B %Y}"}

    def _locator(self) -> str:
        count = self.rng.choice(("about 300", "less than 100", "hundreds of", "some 2,000"))
        return f"{count} workers were sent, a reporting partner said."

    def _provenance(self, source: int, locator: str) -> str:
        rng = self.rng
        assessment = (
            {"reliability": rng.choice("ABC"), "credibility": rng.randint(1, 3)}
            if rng.random() < 0.3
            else None
        )
        return piece(
            {
                "source_id": self.sources[source]["id"],
                "locator": locator,
                "reporting_basis": self.sources[source]["basis"],
                "assessment": assessment,
            }
        )

    def _source(self, index: int) -> dict[str, Any]:
        outlet, basis, language = OUTLETS[index % len(OUTLETS)]
        source_id = f"bench-{index:03d}-{outlet.lower().replace(' ', '-')}"
        published = FACT_DAYS[0] + timedelta(days=90 + index * 97 % 3600)
        data = SourceRecorded(
            source_id=source_id,
            outlet=outlet,
            title=f"North Korean workers abroad: report {index}",
            url=f"https://example.org/{source_id}",  # type: ignore[arg-type]
            published_on=published,
            language=language,
            reporting_basis=basis,  # type: ignore[arg-type]
        ).model_dump(mode="json")
        return {
            "id": source_id,
            "basis": basis,
            "data": piece(data),
            "stream": piece(stream_of(source_id)),
        }

    # -- payloads ----------------------------------------------------------

    def _flow_data(self, event_type: str, places: str, affiliation: str) -> str:
        rng = self.rng
        members = {
            "affiliation": self.affiliation_pieces[affiliation],
            "count": rng.choice(self.count_pool),
        }
        if event_type == DISPATCHED:
            members |= rng.choice(self.dispatch_extras)
            members |= {"destinations": places, "period": rng.choice(self.period_pool)}
        elif event_type == REPATRIATED:
            members |= rng.choice(self.repatriation_extras)
            members |= {"from_places": places, "period": rng.choice(self.period_pool)}
        else:
            members |= {"as_of": rng.choice(self.day_pool), "notes": "null", "place": places}
        return canonical_object(members)

    def _standing_fact(self) -> int | None:
        for _ in range(20):
            index = self.rng.randrange(len(self.facts))
            if index not in self.retracted:
                return index
        return None

    def _next(self) -> tuple[str, int, str, UUID | None]:
        """(type, source index, data, fact id when it is a new counted fact)."""
        rng, shape = self.rng, self.shape
        if self.position < len(self.sources):
            return "source.recorded", self.position, self.sources[self.position]["data"], None
        roll = rng.random()
        meta = self.facts and (
            roll < shape.corrected_share + shape.retracted_share + shape.corroborated_share
        )
        target = self._standing_fact() if meta else None
        if target is not None:
            fact = self.facts[target]
            target_id = f'"{fact.id}"'
            if roll < shape.corrected_share:
                members = {
                    "target_event_id": target_id,
                    "reason": piece("the count was misread; the report gives another figure"),
                    "replacement": self._flow_data(fact.type, fact.places, fact.affiliation),
                }
                return EventType.fact_corrected.value, fact.source, canonical_object(members), None
            if roll < shape.corrected_share + shape.retracted_share:
                self.retracted.add(target)
                members = {
                    "target_event_id": target_id,
                    "reason": piece("the outlet withdrew the story"),
                }
                return EventType.fact_retracted.value, fact.source, canonical_object(members), None
            other = (fact.source + 1 + rng.randrange(len(self.sources) - 1)) % len(self.sources)
            members = {"target_event_id": target_id, "notes": "null"}
            return EventType.fact_corroborated.value, other, canonical_object(members), None
        source = rng.randrange(len(self.sources))
        affiliation = rng.choices(self.affiliations, self.affiliation_weights)[0]
        if roll > 1 - shape.estimated_share:
            country = rng.choice(("RU", "RU", "CN", "AE", "MN"))
            if rng.random() < 0.5 and country in self.country_level:
                places = self.country_level[country]
            else:
                places = self._places(False)[0]
            event_type = ESTIMATED
        else:
            event_type = DISPATCHED if rng.random() < shape.dispatched_of_flows else REPATRIATED
            places = "[" + ",".join(self._places(rng.random() < shape.shared_share)) + "]"
        fact_id = self._uuid7()
        self.facts.append(Fact(fact_id, event_type, source, places, affiliation))
        return event_type, source, self._flow_data(event_type, places, affiliation), fact_id

    def _uuid7(self) -> UUID:
        """A UUIDv7 stamped with the event's recording time (as the store stamps now)."""
        millis = int(self.shape.recorded_at(self.position + 1).timestamp() * 1000)
        bits = self.rng.getrandbits(74)
        return UUID(
            int=(millis << 80)
            | (7 << 76)
            | ((bits >> 62) << 64)
            | (2 << 62)
            | (bits & ((1 << 62) - 1))
        )

    def _timestamp_piece(self, moment: datetime) -> str:
        if self._last_timestamp[0] != moment:
            self._last_timestamp = (moment, piece(format_timestamp(moment)))
        return self._last_timestamp[1]

    def rows(self, until: int) -> Iterator[EnvelopeRow]:
        """The next envelope rows, up to position `until`."""
        shape = self.shape
        while self.position < min(until, shape.events):
            event_type, source, data, fact_id = self._next()
            event_id = fact_id or self._uuid7()
            self.position += 1
            position = self.position
            source_id = self.sources[source]["id"]
            stream = stream_of(source_id)
            version = self.stream_versions.get(stream, 0) + 1
            self.stream_versions[stream] = version
            if version == 1:
                self.opened_at[source_id] = position
            recorded_at = shape.recorded_at(position)
            provenance = (
                self._provenance(source, "the whole report")
                if event_type == "source.recorded"
                else self.rng.choice(self.provenance_pool[source])
            )
            self.counts[event_type] = self.counts.get(event_type, 0) + 1
            hashed = canonical_object(
                {
                    "causation_id": "null",
                    "correlation_id": "null",
                    "data": data,
                    "id": f'"{event_id}"',
                    "idempotency_key": "null",
                    "position": str(position),
                    "provenance": provenance,
                    "recorded_at": self._timestamp_piece(recorded_at),
                    "recorded_by": '"' + PRINCIPAL + '"',
                    "schema_version": "1",
                    "stream": self.sources[source]["stream"],
                    "stream_version": str(version),
                    "type": f'"{event_type}"',
                }
            )
            digest = hashlib.sha256((self.head_hash + hashed).encode()).hexdigest()
            yield EnvelopeRow(
                position=position,
                id=event_id,
                stream=stream,
                stream_version=version,
                type=event_type,
                source_id=source_id,
                data=data,
                provenance=provenance,
                recorded_at=recorded_at,
                hash=digest,
                prev_hash=self.head_hash,
            )
            self.head_hash = digest

    def streams(self) -> list[dict[str, Any]]:
        """Rows for the `streams` table as they stand now."""
        return [
            {
                "stream": stream_of(source_id),
                "source_id": source_id,
                "version": self.stream_versions[stream_of(source_id)],
                "opened_at_position": opened,
            }
            for source_id, opened in self.opened_at.items()
        ]


_EVENT = TypeAdapter[EventInBase](EventIn)


def check_rows(rows: list[EnvelopeRow], gazetteer: Gazetteer) -> int:
    """Each row is what the API would store (payload and provenance) with the store's hash."""
    for row in rows:
        data, provenance = json.loads(row.data), json.loads(row.provenance)
        body = {"type": row.type, "data": data, "provenance": provenance}
        [stored] = new_events([_EVENT.validate_python(body)], gazetteer)
        # The log is written in schema version 1, as a ledger recorded before version 2
        # holds it: read through the upcasters, it must be what the API stores today.
        now = upcast(row.type, row.schema_version, data)
        if now != json.loads(piece(stored.data)) or piece(stored.provenance) != row.provenance:
            raise AssertionError(f"position {row.position}: the API would store another form")
        if row.type == EventType.fact_corrected.value:
            replacement = data["replacement"]
            kind = next(
                (
                    t
                    for t, key in ((DISPATCHED, "destinations"), (REPATRIATED, "from_places"))
                    if key in replacement
                ),
                ESTIMATED,
            )
            model = PAYLOAD_TYPES[EventType(kind)]
            normalised = resolve_payload_places(model.model_validate(replacement), gazetteer)
            if normalised.model_dump(mode="json") != upcast(kind, 1, replacement):
                raise AssertionError(f"position {row.position}: replacement not normalised")
        hashed = {
            "id": str(row.id),
            "position": row.position,
            "stream": row.stream,
            "stream_version": row.stream_version,
            "type": row.type,
            "schema_version": row.schema_version,
            "data": data,
            "provenance": provenance,
            "recorded_at": format_timestamp(row.recorded_at),
            "recorded_by": row.recorded_by,
            "idempotency_key": None,
            "correlation_id": None,
            "causation_id": None,
        }
        if event_hash(row.prev_hash, hashed) != row.hash:
            raise AssertionError(f"position {row.position}: hash differs from the store's")
    return len(rows)
