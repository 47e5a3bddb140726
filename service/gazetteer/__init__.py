"""Gazetteer of places relevant to North Korean overseas labour: data plus resolver."""

from service.gazetteer.resolver import (
    Gazetteer,
    GazetteerPlace,
    MatchKind,
    PlaceKind,
    PlaceMatch,
    default_gazetteer,
    normalise,
)

__all__ = [
    "Gazetteer",
    "GazetteerPlace",
    "MatchKind",
    "PlaceKind",
    "PlaceMatch",
    "default_gazetteer",
    "normalise",
]
