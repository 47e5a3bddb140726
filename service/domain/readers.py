"""The one place a stored payload becomes a typed object: the upcasting point for
schema versions.

Past ingest nothing reads a payload as a dict: views and checks call `read_payload`
(or an envelope's `payload`, which calls it) and get the payload model of the event's
type, so a renamed field fails in mypy, not at run time.

When a payload changes shape it gets a new `schema_version`; the log keeps the old
payloads as they were recorded (their hashes never change), and an upcaster registered
here for `(type, from_version)` turns each stored old payload into the next version's
dict until it reaches the version the model describes. None is needed yet: every
stored payload is version 1, which is what the models describe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from service.domain.events import PAYLOAD_TYPES
from service.domain.payloads import FactCorrected, FactCorroborated, FactRetracted, Payload

Upcaster = Callable[[Mapping[str, Any]], dict[str, Any]]
"""A stored payload of one version → the same payload as the next version's dict."""

CURRENT_VERSION = 1
"""The schema version every payload model describes today."""


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
        describe — which an upcaster must then bridge)."""
        model = self.models.get(type)
        if model is None:
            raise UnreadablePayload(f"no payload model for event type {type!r}")
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
        return model.model_validate(data)


UPCASTERS: dict[tuple[str, int], Upcaster] = {}
"""Empty today: every stored payload is version 1. The first schema version 2 of a type
registers here the upcaster from its version 1, e.g.
`UPCASTERS[("workers.dispatched", 1)] = lambda v1: {**v1, "status": "completed"}`."""

READER = PayloadReader(models={str(t): m for t, m in PAYLOAD_TYPES.items()}, upcasters=UPCASTERS)


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


def read_replacement(
    correction: FactCorrected, target_type: str, schema_version: int = 1
) -> Payload:
    """The payload a correction puts in place of its target's (of the target's type).
    Its schema version is the correction's own."""
    return read_payload(target_type, schema_version, correction.replacement)
