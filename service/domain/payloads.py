"""The typed payload of each event type, in its current schema version (1; 2 for
`workers.dispatched` and `workers.repatriated`, which gained `status` and `via`, and on
repatriations `sector` and `transport`; 2 for `workforce.estimated` and
`remittance.quota_reported`, which gained `sector`: `readers.py` reads stored version 1
payloads).

Field names say what the report said; free-text fields keep its words.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, JsonValue, model_validator

from service.domain.counts import Count
from service.domain.dates import ReportedDate
from service.domain.errors import FieldValueError
from service.domain.moments import ReportedMoment
from service.domain.money import CurrencyCode, Money
from service.domain.period import Period
from service.domain.places import CountryCode, Place

SOURCE_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,119}$"
SourceId = Annotated[
    str, Field(pattern=SOURCE_ID_PATTERN, examples=["dailynk-2023-05-nk-workers-russia"])
]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
LongText = Annotated[str, Field(min_length=1, max_length=20_000)]
LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", examples=["en"])]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Affiliation(StrEnum):
    military = "military"
    civilian = "civilian"
    unknown = "unknown"


class Transport(StrEnum):
    air = "air"
    rail = "rail"
    road = "road"
    sea = "sea"
    unknown = "unknown"


class FlowStatus(StrEnum):
    """How far a reported flow has gone. Only `completed` and `underway` are workers sent
    (or sent home): a plan is shown apart and never counted as a flow."""

    completed = "completed"
    underway = "underway"
    planned = "planned"
    announced = "announced"

    @property
    def counted(self) -> bool:
        """Does a flow of this status count in the flows, `net_flow` and stocks?"""
        return self in (FlowStatus.completed, FlowStatus.underway)


class EntryStatus(StrEnum):
    work = "work"
    study = "study"
    training = "training"
    tourism = "tourism"
    cultural_exchange = "cultural_exchange"
    unknown = "unknown"


class RepatriationReason(StrEnum):
    health = "health"
    tenure = "tenure"
    contract_end = "contract_end"
    sanctions = "sanctions"
    other = "other"
    unknown = "unknown"


class ReportingBasis(StrEnum):
    anonymous_source_in_country = "anonymous_source_in_country"
    named_source = "named_source"
    official_statement = "official_statement"
    government_data = "government_data"
    intelligence_briefing = "intelligence_briefing"
    satellite_imagery = "satellite_imagery"
    court_record = "court_record"
    defector_testimony = "defector_testimony"
    media_report = "media_report"
    ngo_report = "ngo_report"
    unknown = "unknown"


class RatePer(StrEnum):
    """What an amount is paid or due for: an hour's, a day's, a month's or a year's work,
    or `once` (a one-off contribution: never turned into a monthly or yearly figure)."""

    hour = "hour"
    day = "day"
    month = "month"
    year = "year"
    once = "once"


# The report dates below are `ReportedDate`s (DESIGN §1b: a day, month, quarter or year).
# A day is read and written as the same text it was as a `date`, so every stored payload
# keeps its JSON and hash: no schema version for this change.


class OriginalEdition(Payload):
    """The original a translation was made from: its own date and language."""

    published_on: ReportedDate | None = Field(
        default=None, description="The original's date, as precise as the report gives it."
    )
    language: LanguageTag
    title: Text | None = None
    url: HttpUrl | None = None


class SourceRecorded(Payload):
    """A source document: opens the stream `source:<source_id>`."""

    source_id: SourceId
    outlet: Text
    title: Text | None = Field(
        default=None, description="The headline; none for a source without one."
    )
    url: HttpUrl | None = None
    published_on: ReportedDate | None = Field(
        default=None,
        description="This edition's date, as precise as the report gives it (`2023-05-03`, "
        "`2023-05`, `2023-Q2`, `2023`); null if unknown.",
    )
    language: LanguageTag
    authors: list[Text] = Field(default_factory=list, max_length=50)
    translator: Text | None = None
    editor: Text | None = None
    reporting_basis: ReportingBasis = ReportingBasis.unknown
    relayed_from: Text | None = Field(
        default=None,
        description="The attribution chain of a second-hand report.",
        examples=["NIS via Yonhap"],
    )
    original: OriginalEdition | None = None
    retrieved_at: ReportedMoment | None = None
    archive_url: HttpUrl | None = None
    text_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    notes: LongText | None = None


STATUS_DESCRIPTION = (
    "`completed` (the default: it happened), `underway`, `planned` (an intention reported: "
    '"will send", "selection finalised") or `announced` (an official says it will '
    "happen). Only completed and underway flows are counted; plans are shown apart."
)
VIA_DESCRIPTION = "The route: transit places and border crossings, in order. Never counted."


def _undated_period() -> Period:
    return Period.model_validate({})


def _status_field() -> Any:
    return Field(default=FlowStatus.completed, description=STATUS_DESCRIPTION)


def _via_field() -> Any:
    return Field(default_factory=list, max_length=50, description=VIA_DESCRIPTION)


def _period_field() -> Any:
    return Field(
        default_factory=_undated_period,
        description="When it happened (or is to happen). Only a planned or announced flow "
        "may have no date (`precision: unknown`, or no period).",
    )


def _dated_unless_planned(status: FlowStatus, period: Period) -> None:
    if status.counted and not period.dated:
        raise FieldValueError(
            "period",
            f"a {status.value} flow needs a start or an end date; only a planned or "
            "announced one may have no date",
        )


class WorkersDispatched(Payload):
    """Workers sent abroad. Several destinations share one count: none gets a split."""

    origin_country: CountryCode = "KP"
    destinations: list[Place] = Field(min_length=1, max_length=50)
    count: Count
    affiliation: Affiliation = Affiliation.unknown
    organisation: Text | None = Field(
        default=None,
        description="The organisation as written.",
        examples=["military-affiliated trading companies"],
    )
    employer: Text | None = Field(default=None, examples=["Russian construction companies"])
    sector: Text | None = Field(default=None, examples=["construction"])
    transport: Transport = Transport.unknown
    entry_status: list[EntryStatus] = Field(default_factory=list, max_length=6)
    period: Period = _period_field()
    status: FlowStatus = _status_field()
    via: list[Place] = _via_field()
    notes: LongText | None = None

    @model_validator(mode="after")
    def _dated(self) -> WorkersDispatched:
        _dated_unless_planned(self.status, self.period)
        return self


class WorkersRepatriated(Payload):
    """Workers sent home. `from_places` share the count as destinations do."""

    from_places: list[Place] = Field(min_length=1, max_length=50)
    to_country: CountryCode = "KP"
    count: Count
    affiliation: Affiliation = Affiliation.unknown
    organisation: Text | None = None
    reason: RepatriationReason = RepatriationReason.unknown
    reason_text: Text | None = None
    min_tenure_years: Decimal | None = Field(default=None, ge=0, le=100, decimal_places=2)
    period: Period = _period_field()
    status: FlowStatus = _status_field()
    sector: Text | None = Field(default=None, examples=["construction"])
    transport: Transport = Transport.unknown
    via: list[Place] = _via_field()
    notes: LongText | None = None

    @model_validator(mode="after")
    def _dated(self) -> WorkersRepatriated:
        _dated_unless_planned(self.status, self.period)
        return self


def is_plan(payload: Payload) -> bool:
    """Is this a planned or announced flow (never counted as workers sent)?"""
    return isinstance(payload, WorkersDispatched | WorkersRepatriated) and (
        not payload.status.counted
    )


def is_dated(payload: Payload) -> bool:
    """Does this flow give a date (only a plan may give none)? True of other payloads."""
    if isinstance(payload, WorkersDispatched | WorkersRepatriated):
        return payload.period.dated
    return True


class WorkforceEstimated(Payload):
    """A reported stock ("about 20,000 in Russia"); never summed into the flows."""

    place: Place
    count: Count
    affiliation: Affiliation = Affiliation.unknown
    as_of: ReportedDate | None = Field(
        default=None,
        description="When the stock held, as precise as the report gives it. It counts from "
        "the first day of that interval, and flows are added to it from after its last day. "
        "Null (unknown): it held by its source's publication date at the latest, and counts "
        "from that date's last day (or the day it was recorded, if the source gives none).",
    )
    sector: Text | None = Field(default=None, examples=["construction"])
    notes: LongText | None = None


class RemittanceQuotaReported(Payload):
    """What each worker must send home, as the report stated it."""

    affiliation: Affiliation
    organisation: Text | None = None
    amount: Money
    per: RatePer = RatePer.month
    per_worker: bool = True
    recipient: Text | None = Field(default=None, examples=["the North Korean authorities"])
    purpose: Text | None = Field(default=None, examples=["party funds"])
    places: list[Place] = Field(default_factory=list, max_length=50)
    period: Period | None = None
    sector: Text | None = Field(default=None, examples=["construction"])


class FxRateReported(Payload):
    """An exchange rate a report gives: 1 `base` = `rate` `quote`."""

    base: CurrencyCode
    quote: CurrencyCode
    rate: Decimal = Field(gt=0, max_digits=24, decimal_places=12, examples=["0.0125"])
    as_of: ReportedDate = Field(description="The rate's date, as precise as the report gives it.")
    text: Text | None = Field(default=None, examples=["As of May 3, RUB 100 equalled USD 1.25."])

    @model_validator(mode="after")
    def _two_currencies(self) -> FxRateReported:
        if self.base == self.quote:
            raise FieldValueError("quote", "quote must differ from base")
        return self


class Speaker(Payload):
    """Who spoke, as the report names them: a person, or only a role or an organisation
    ("city officials said"). At least one of `name`, `role` and `organisation`."""

    name: Text | None = Field(default=None, examples=["Im Chon-il"])
    role: Text | None = Field(default=None, examples=["Vice Foreign Minister", "city officials"])
    country: CountryCode | None = None
    organisation: Text | None = Field(default=None, examples=["Vladivostok city administration"])

    @property
    def named(self) -> bool:
        """Does the report say who spoke at all (a name, a role or an organisation)?"""
        return any(who is not None for who in (self.name, self.role, self.organisation))


class ClaimSubject(StrEnum):
    """What a figure an official states is about."""

    dispatched = "dispatched"
    """Workers sent (or arrived) over a period: "3,000 came this year"."""
    present = "present"
    """Workers there at a time, a stock: "about 5,000 work in the region"."""
    repatriated = "repatriated"
    """Workers sent home: "500 went home in March"."""
    expected = "expected"
    """Workers still to come: "a few thousand more are expected"."""
    other = "other"
    """Any other figure about the workers (applications, contracts, permits)."""


class Claim(Payload):
    """A figure an official states in a statement. Kept as the official's word: listed
    with the statement and beside the deployments of its places, never counted in the
    flows, the stocks or `estimated_present`."""

    about: ClaimSubject = Field(
        description="`dispatched`, `present` (a stock), `repatriated`, `expected` (still to "
        "come) or `other`."
    )
    count: Count
    places: list[Place] = Field(
        min_length=1,
        max_length=50,
        description="The places the figure is about, resolved like a dispatch's destinations.",
    )
    period: Period | None = Field(
        default=None, description="When the figure holds or held, where the official says."
    )
    affiliation: Affiliation = Affiliation.unknown
    quote: Text = Field(
        description="The claim in the official's words, verbatim.",
        examples=["a few thousand more are expected"],
    )


class StatementIssued(Payload):
    """An official statement, quoted verbatim, with the figures the official stated
    (`claims`; schema version 2)."""

    speaker: Speaker
    issued_on: ReportedDate | None = Field(
        default=None,
        description="When it was made, as precise as the report: a day `2023-04-25`, a "
        "month `2023-04`, a quarter `2023-Q2` or a year `2023`; null (or left out) when "
        "the report gives no date.",
    )
    quote: LongText
    summary: LongText | None = None
    topics: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=30
    )
    language: LanguageTag
    claims: list[Claim] = Field(
        default_factory=list,
        max_length=100,
        description="Figures the official stated, each with its places: shown with the "
        "statement and beside the deployments, never counted as workers.",
    )

    @model_validator(mode="after")
    def _someone_spoke(self) -> StatementIssued:
        if not self.speaker.named:
            raise FieldValueError(
                "speaker", "name the speaker, or give their role or organisation (or both)"
            )
        return self


class FactCorroborated(Payload):
    """Another source reports a fact already recorded: adds a source, never workers."""

    target_event_id: UUID
    notes: LongText | None = None


class FactCorrected(Payload):
    """Replaces the payload of an earlier fact from this event's position on."""

    target_event_id: UUID
    reason: Text
    replacement: dict[str, JsonValue] = Field(
        description="A complete payload of the target event's type."
    )


class FactRetracted(Payload):
    """Withdraws an earlier fact: it stops counting from this event's position on."""

    target_event_id: UUID
    reason: Text


class EntryPurpose(StrEnum):
    """The purpose of entry an official statistic gives (a visa's or a border form's)."""

    work = "work"
    study = "study"
    tourism = "tourism"
    other = "other"
    unknown = "unknown"


class PurposeCount(Payload):
    """Arrivals of one purpose: "5,000 of them to study"."""

    purpose: EntryPurpose
    count: Count


class EntriesRecorded(Payload):
    """Official counts of arrivals into a country over a period ("Russian border
    statistics: 13,221 North Koreans entered in 2023, 5,000 of them to study"), a total
    and/or one count per purpose, as published.

    Arrivals are not workers (students, tourists and delegations cross too): they are
    never summed into the flows, the stocks or `estimated_present`."""

    publisher: Text = Field(
        description="Who published the statistic, as written.",
        examples=["FSB border service"],
    )
    origin_country: CountryCode = "KP"
    destination_country: CountryCode = Field(examples=["RU"])
    places: list[Place] = Field(
        default_factory=list,
        max_length=50,
        description="Where they entered or went, where the statistic says (crossings, regions).",
    )
    period: Period = Field(description="The period the statistic covers: a start or an end.")
    total: Count | None = Field(default=None, description="All arrivals, whatever their purpose.")
    by_purpose: list[PurposeCount] = Field(
        default_factory=list,
        max_length=len(EntryPurpose),
        description='One count per purpose given; a report giving only part ("of them '
        '5,000 to study") gives only that purpose.',
    )
    notes: LongText | None = None

    @model_validator(mode="after")
    def _a_dated_count(self) -> EntriesRecorded:
        if not self.period.dated:
            raise FieldValueError("period", "an entry statistic covers a period: give its dates")
        if self.total is None and not self.by_purpose:
            raise FieldValueError("total", "give the total, or a count in by_purpose, or both")
        purposes = [figure.purpose for figure in self.by_purpose]
        if len(set(purposes)) != len(purposes):
            raise FieldValueError("by_purpose", "give each purpose once")
        least = sum(figure.count.min or 0 for figure in self.by_purpose)
        if self.total is not None and self.total.max is not None and least > self.total.max:
            raise FieldValueError(
                "by_purpose",
                f"the purposes add up to at least {least}, more than the total's {self.total.max}",
            )
        return self


class WageBasis(StrEnum):
    promised = "promised"
    paid = "paid"


class WageReported(Payload):
    """Pay per worker as a report gives it ("promised USD 500 a month, paid a fifth of
    it"). A wage is what a worker earns, not a remittance: never in the quotas."""

    amount: Money
    per: RatePer = Field(
        description="`hour`, `day`, `month`, `year` or `once` (a one-off payment): shown "
        "as reported, never converted to another period."
    )
    basis: WageBasis = Field(description="`promised` (offered, contracted) or `paid`.")
    sector: Text | None = Field(default=None, examples=["construction"])
    affiliation: Affiliation = Affiliation.unknown
    organisation: Text | None = None
    employer: Text | None = Field(
        default=None, description="As written.", examples=["a Russian construction company"]
    )
    places: list[Place] = Field(default_factory=list, max_length=50)
    period: Period | None = None
    notes: LongText | None = None
