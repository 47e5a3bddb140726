"""The one place a stored payload becomes a typed object: the upcasting point for
schema versions.

Past ingest nothing reads a payload as a dict: views and checks call `read_payload`
(or an envelope's `payload`, which calls it) and get the payload model of the event's
type, so a renamed field fails in mypy, not at run time. The one exception lives here
too: what the derived tables need of a counted fact (`CountedFigures`) a replay reads
straight from the stored dict (`read_figures`), tested to equal what the model gives.

When a payload changes shape it gets a new `schema_version`; the log keeps the old
payloads as they were recorded (their hashes never change), and an upcaster registered
here for `(type, from_version)` turns each stored old payload into the next version's
dict until it reaches the version the model describes.

Version 2 of `workers.dispatched` and `workers.repatriated` added a flow's `status`
(DESIGN §1b) and its route (`via`), and on repatriations `sector` and `transport`: a
stored version 1 flow happened (`completed`) and named no route. Version 2 of
`workforce.estimated` and `remittance.quota_reported` added `sector`: a stored version 1
stock or quota named none. Version 2 of `statement.issued` added the figures an official
stated (`claims`): a stored version 1 statement stated none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple, TypeVar

from service.domain.dates import ReportedDate
from service.domain.events import PAYLOAD_TYPES, PAYLOAD_VERSIONS, EventType
from service.domain.moments import STORED
from service.domain.payloads import (
    Affiliation,
    FactCorrected,
    FactCorroborated,
    FactRetracted,
    FlowStatus,
    Payload,
    Transport,
    WorkersDispatched,
    WorkersRepatriated,
    WorkforceEstimated,
)

Upcaster = Callable[[Mapping[str, Any]], dict[str, Any]]
"""A stored payload of one version → the same payload as the next version's dict."""

CURRENT_VERSION = 1
"""The schema version a payload model describes unless `PAYLOAD_VERSIONS` names another."""


class UnreadablePayload(Exception):
    """A stored payload of a type or version no model and no upcaster reads: a bug of the
    service (its log was written by a newer version, or an upcaster is missing)."""


@dataclass(frozen=True)
class PayloadReader:
    """Reads stored payloads into their models, upcasting older schema versions first."""

    models: Mapping[str, type[Payload]]
    """Event type → the payload model of its current schema version."""
    versions: Mapping[str, int] = field(default_factory=dict)
    """Event type → its current schema version, where it is not `CURRENT_VERSION`."""
    upcasters: Mapping[tuple[str, int], Upcaster] = field(default_factory=dict)
    """(event type, from version) → the upcaster to version + 1."""

    def read(self, type: str, schema_version: int, data: Mapping[str, Any]) -> Payload:
        """The typed payload of a stored event.

        Validated by its model: the bounds of a count, the order of a period and the
        normalised values are checked as on the way in (stored payloads were validated
        then, with the same models, so this only fails for a log the models no longer
        describe — which an upcaster must then bridge). A rule of the day it is read on
        is not applied again (`STORED`: a date once ten years ahead stays readable)."""
        model = self.models.get(type)
        if model is None:
            raise UnreadablePayload(f"no payload model for event type {type!r}")
        return model.model_validate(self.upcast(type, schema_version, data), context=STORED)

    def upcast(self, type: str, schema_version: int, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """A stored payload as its type's current version holds it, unvalidated: `data`
        itself when it is current, else the upcasters' dict."""
        current = self.versions.get(type, CURRENT_VERSION)
        version = schema_version
        while version < current:
            upcaster = self.upcasters.get((type, version))
            if upcaster is None:
                raise UnreadablePayload(
                    f"no upcaster reads {type!r} version {version} (current: {current})"
                )
            data = upcaster(data)
            version += 1
        if version != current:
            raise UnreadablePayload(
                f"{type!r} version {schema_version} is newer than this service reads ({current})"
            )
        return data


def _filled(stored: Mapping[str, Any], added: Mapping[str, Any]) -> dict[str, Any]:
    """`stored` with the fields a later version added, at what they meant before it.

    Only what is missing is filled: a version 1 payload never holds a later field (its
    model refused unknown fields), and a correction's replacement, always recorded in
    its target type's version current then, is read through the same upcasters."""
    return {**added, **stored}


def dispatched_v1_to_v2(v1: Mapping[str, Any]) -> dict[str, Any]:
    """A version 1 dispatch happened (`completed`) and named no route."""
    return _filled(v1, {"status": FlowStatus.completed.value, "via": []})


def repatriated_v1_to_v2(v1: Mapping[str, Any]) -> dict[str, Any]:
    """A version 1 repatriation happened and named no route, sector or transport."""
    return _filled(
        v1,
        {
            "status": FlowStatus.completed.value,
            "via": [],
            "sector": None,
            "transport": Transport.unknown.value,
        },
    )


def sector_v1_to_v2(v1: Mapping[str, Any]) -> dict[str, Any]:
    """A version 1 stock or quota named no sector."""
    return _filled(v1, {"sector": None})


def statement_v1_to_v2(v1: Mapping[str, Any]) -> dict[str, Any]:
    """A version 1 statement stated no figures."""
    return _filled(v1, {"claims": []})


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    (EventType.workers_dispatched.value, 1): dispatched_v1_to_v2,
    (EventType.workers_repatriated.value, 1): repatriated_v1_to_v2,
    (EventType.workforce_estimated.value, 1): sector_v1_to_v2,
    (EventType.remittance_quota_reported.value, 1): sector_v1_to_v2,
    (EventType.statement_issued.value, 1): statement_v1_to_v2,
}
"""(type, from version) → the upcaster to the next version."""

READER = PayloadReader(
    models={str(t): m for t, m in PAYLOAD_TYPES.items()},
    versions={str(t): v for t, v in PAYLOAD_VERSIONS.items()},
    upcasters=UPCASTERS,
)


def current_version(type: str) -> int:
    """The schema version new events of this type are recorded in."""
    return READER.versions.get(type, CURRENT_VERSION)


def upcast(type: str, schema_version: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """A stored payload as its type's current version would hold it, as JSON: the stored
    payload itself when it is current (what `GET /v1/events?schema=current` shows)."""
    if schema_version >= current_version(type):
        return dict(data)
    return read_payload(type, schema_version, data).model_dump(mode="json")


def read_payload(type: str, schema_version: int, data: Mapping[str, Any]) -> Payload:
    """The typed payload of a stored event (see `PayloadReader.read`)."""
    return READER.read(type, schema_version, data)


P = TypeVar("P", bound=Payload)

MetaPayload = FactCorroborated | FactCorrected | FactRetracted
"""The payloads of events about another fact (`META_TYPES`): each names its target."""


def read_payload_as(model: type[P], data: Mapping[str, Any], schema_version: int = 1) -> P:
    """A stored payload known to be of `model`'s type (a view that selected its events by
    type, or a derived table that keeps one type's payloads), typed as such."""
    event_type = next(t for t, m in PAYLOAD_TYPES.items() if m is model)
    payload = read_payload(event_type.value, schema_version, data)
    assert isinstance(payload, model)
    return payload


def read_replacement(correction: FactCorrected, target_type: str) -> Payload:
    """The payload a correction puts in place of its target's (of the target's type).

    A replacement is validated, and recorded, in its type's version current when the
    correction was recorded, which the correction does not say: it is read as version 1
    and upcast, and the upcasters only fill the fields a version lacks (`_filled`)."""
    return read_payload(target_type, 1, correction.replacement)


# --- what the derived tables read of a counted fact -------------------------------------

COUNTED_MODELS: dict[str, type[Payload]] = {
    EventType.workers_dispatched.value: WorkersDispatched,
    EventType.workers_repatriated.value: WorkersRepatriated,
    EventType.workforce_estimated.value: WorkforceEstimated,
}
"""The counted facts' types: a dispatch, a repatriation (flows) and a stock."""
_PLACES_FIELD = {
    EventType.workers_dispatched.value: "destinations",
    EventType.workers_repatriated.value: "from_places",
}


class CountedFigures(NamedTuple):
    """What the derived tables (`flow_contributions`, `facts`) read of a counted fact:
    the same whether read from its validated payload (`figures_of`) or straight from
    the stored dict (`read_figures`, the replay's path)."""

    type: str
    """The fact's event type (one of `COUNTED_MODELS`)."""
    places: tuple[tuple[str | None, str | None], ...]
    """(place_id, country) of each place, in the payload's order: a flow's destinations
    or origins, a stock's one place."""
    affiliation: str
    count_min: int | None
    count_best: int | None
    count_max: int | None
    start: date | None
    """A flow's period start; the first day of a stock's `as_of` (None: unknown)."""
    end: date | None
    """A flow's period end; the last day of a stock's `as_of` (None: unknown)."""
    counted: bool
    """Counted as workers sent (a completed or underway flow, or a stock), not a plan."""

    @property
    def flow(self) -> bool:
        """A dispatch or repatriation (not a stock)."""
        return self.type in _PLACES_FIELD


def figures_of(payload: Payload) -> CountedFigures | None:
    """The figures of a counted fact's validated payload; None of any other payload."""
    match payload:
        case WorkersDispatched(destinations=places) | WorkersRepatriated(from_places=places):
            type = (
                EventType.workers_dispatched.value
                if isinstance(payload, WorkersDispatched)
                else EventType.workers_repatriated.value
            )
            start, end, counted = payload.period.start, payload.period.end, payload.status.counted
        case WorkforceEstimated(place=place, as_of=as_of):
            type, places = EventType.workforce_estimated.value, [place]
            start, end = (as_of.first, as_of.last) if as_of is not None else (None, None)
            counted = True
        case _:
            return None
    count = payload.count
    return CountedFigures(
        type,
        tuple((p.place_id, p.country) for p in places),
        payload.affiliation.value,
        count.min,
        count.best,
        count.max,
        start,
        end,
        counted,
    )


def read_figures(type: str, schema_version: int, data: Mapping[str, Any]) -> CountedFigures | None:
    """`figures_of(read_payload(type, schema_version, data))`, read straight from the
    stored dict: a replay reads a million of them, and validating each with its model
    (its bounds, period and places checked again) was most of a replay's time. A stored
    payload was validated when it was appended, so only the few fields are read (upcast
    first, as `read_payload` does); one that lacks a field the model would fill (its
    count's bounds, say) is read by the model. None of a type that is not counted."""
    if type not in COUNTED_MODELS:
        return None
    try:
        return _stored_figures(type, READER.upcast(type, schema_version, data))
    except (KeyError, TypeError, ValueError):
        return figures_of(read_payload(type, schema_version, data))


def _stored_figures(type: str, data: Mapping[str, Any]) -> CountedFigures:
    places_field = _PLACES_FIELD.get(type)
    if places_field is None:  # a stock
        places = [data["place"]]
        as_of = data.get("as_of")
        reported = None if as_of is None else ReportedDate.parse(as_of)
        start = None if reported is None else reported.first
        end = None if reported is None else reported.last
        counted = True
    else:
        places = data[places_field]
        period = data.get("period", _UNDATED)
        start, end = _day(period.get("start")), _day(period.get("end"))
        counted = data.get("status", FlowStatus.completed.value) in _COUNTED_STATUSES
    count = data["count"]
    return CountedFigures(
        type,
        tuple((p.get("place_id"), p.get("country")) for p in places),
        data.get("affiliation", Affiliation.unknown.value),
        count["min"],
        count["best"],
        count["max"],
        start,
        end,
        counted,
    )


_UNDATED: Mapping[str, Any] = {}
_COUNTED_STATUSES = frozenset(s.value for s in FlowStatus if s.counted)


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)
