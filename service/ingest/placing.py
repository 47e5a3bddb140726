"""Resolve every place a payload names against the gazetteer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from service.domain.errors import AmbiguousPlace, UnknownPlace
from service.domain.payloads import Payload
from service.domain.places import Place, PlaceKind
from service.gazetteer import Gazetteer, GazetteerPlace

MAX_REMEMBERED = 10_000
"""Resolved places remembered per gazetteer, at most (a report's places repeat: a batch
names a few cities a thousand times)."""

_Written = tuple[str | None, str | None, str | None]  # name, place_id, country as sent
_remembered: WeakKeyDictionary[Gazetteer, dict[_Written, Place]] = WeakKeyDictionary()


def resolve_place(place: Place, gazetteer: Gazetteer, pointer: Sequence[str | int]) -> Place:
    """The place as stored: the name as written, plus the gazetteer's id, country and kind.

    What a place resolves to depends only on its name, id and country and on the
    gazetteer, which never changes: each is resolved once (7 µs) and remembered. The
    stored `Place` is shared between payloads; nothing changes a payload once made."""
    written = (place.name, place.place_id, place.country)
    remembered = _remembered.get(gazetteer)
    if remembered is None:
        remembered = _remembered.setdefault(gazetteer, {})
    stored = remembered.get(written)
    if stored is None:
        stored = _resolved(place, gazetteer, pointer)
        if len(remembered) < MAX_REMEMBERED:
            remembered[written] = stored
    return stored


def _resolved(place: Place, gazetteer: Gazetteer, pointer: Sequence[str | int]) -> Place:
    if place.place_id is not None:
        found = gazetteer.get(place.place_id)
        if found is None:
            suggestions = [m.place.id for m in gazetteer.closest(place.place_id)]
            raise UnknownPlace(place.place_id, suggestions, pointer=(*pointer, "place_id"))
        return _stored(place, found)
    assert place.name is not None  # Place requires a name or a place_id
    matches = gazetteer.resolve(place.name, country=place.country)
    if not matches:
        suggestions = [
            _label(m.place) for m in gazetteer.closest(place.name, country=place.country)
        ]
        raise UnknownPlace(place.name, suggestions, pointer=(*pointer, "name"))
    if len(matches) > 1:
        raise AmbiguousPlace(place.name, [_label(m) for m in matches], pointer=(*pointer, "name"))
    return _stored(place, matches[0])


def _stored(place: Place, found: GazetteerPlace) -> Place:
    return Place(
        name=place.name or found.name,
        place_id=found.id,
        country=found.country,
        kind=PlaceKind(found.kind),
    )


def _label(place: GazetteerPlace) -> str:
    return f"{place.id} ({place.name}, {place.country}, {place.kind})"


P = TypeVar("P", bound=Payload)


def resolve_payload_places(
    payload: P, gazetteer: Gazetteer, pointer: Sequence[str | int] = ()
) -> P:
    """A copy of `payload` with each `Place` field (or list of them) resolved, and so
    each place of the payloads it holds in a list (a statement's `claims`)."""
    updates: dict[str, Any] = {}
    for name in type(payload).model_fields:
        value = getattr(payload, name)
        if isinstance(value, Place):
            updates[name] = resolve_place(value, gazetteer, (*pointer, name))
        elif isinstance(value, list) and value and isinstance(value[0], Place):
            updates[name] = [
                resolve_place(p, gazetteer, (*pointer, name, i)) for i, p in enumerate(value)
            ]
        elif isinstance(value, list) and value and isinstance(value[0], Payload):
            updates[name] = [
                resolve_payload_places(part, gazetteer, (*pointer, name, i))
                for i, part in enumerate(value)
            ]
    return payload.model_copy(update=updates) if updates else payload
