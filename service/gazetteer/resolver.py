"""Pure-Python gazetteer: shipped place data plus name resolution.

Deliberately free of web and database imports so that the API, the CLI and
projections can all share one in-memory index.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from difflib import SequenceMatcher
from functools import cache, lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

PlaceKind = Literal["country", "region", "area", "city", "district", "crossing"]
MatchKind = Literal["exact", "alias", "fuzzy"]

_ID_RE = re.compile(r"^[a-z]{2}(-[a-z0-9]+)*$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
# Partial dates are allowed because sources often only give a month.
_SINCE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")

# Letters that NFKD does not decompose but people routinely type without the mark.
_FOLD = str.maketrans({"đ": "d", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "ı": "i", "ð": "d"})

# Tokens that mean the same thing; the right-hand side is the canonical form.
_TOKEN_SYNONYMS = {"st": "saint"}

# Fuzzy bonuses: typing the start of a name is a strong signal, a fragment a weaker one.
_PREFIX_BONUS = 0.15
_SUBSTRING_BONUS = 0.05
# Below these, fuzzy matches are noise rather than suggestions (and skipping them early
# lets difflib's cheap upper bounds avoid most full ratio computations).
_CLOSEST_FLOOR = 0.3
_SUGGESTION_FLOOR = 0.5
STRONG_FUZZY = 0.8
"""A search's fuzzy hit (not an exact name, alias or the start of one) is a result only
at this similarity or above, and a suggestion below it. Chosen on real cases: one or two
letters wrong in a name ("Wladiwostock" 0.96, "Khabarovks" 0.9, "Moskow" 0.83) is a
result; a place the gazetteer lacks, named after its city or sounding like another
("Hunchun Jingxin" → Hunchun 0.64, "Mudanjiang" → Da Nang 0.75, "Sanhe" → Quanhe 0.73,
"Dongning" → Donggang 0.75), is not."""
# A key shorter than this inside the query (e.g. the id "la" in "vlad") is not a signal.
_MIN_EMBEDDED_KEY = 4


def _is_cjk(ch: str) -> bool:
    """Hangul or Han: such text must not go through NFKD (Hangul would split into jamo)."""
    cp = ord(ch)
    return (
        0xAC00 <= cp <= 0xD7A3  # Hangul syllables
        or 0x1100 <= cp <= 0x11FF  # Hangul jamo
        or 0x3130 <= cp <= 0x318F  # Hangul compatibility jamo
        or 0x3400 <= cp <= 0x4DBF  # CJK extension A
        or 0x4E00 <= cp <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= cp <= 0xFAFF  # CJK compatibility ideographs
    )


@lru_cache(maxsize=8192)  # every event names its places again: fold each name once
def normalise(text: str) -> str:
    """Fold a place name to the form used as an index key.

    Latin/Cyrillic/other scripts: casefold, strip diacritics, punctuation to
    spaces, "st" -> "saint", collapse whitespace. Korean and Chinese: NFC with
    whitespace removed, since spacing in those scripts is inconsistent.
    """
    text = unicodedata.normalize("NFC", text)
    if any(_is_cjk(ch) for ch in text):
        return "".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    chars: list[str] = []
    for ch in decomposed:
        category = unicodedata.category(ch)
        if category == "Mn":  # combining marks: accents, ё's diaeresis, etc.
            continue
        chars.append(" " if category[0] in "PSZ" else ch)
    tokens = "".join(chars).split()
    return " ".join(_TOKEN_SYNONYMS.get(token, token) for token in tokens)


class GazetteerPlace(BaseModel):
    """One place as shipped in places.json."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: PlaceKind
    country: str
    parent: str | None
    lat: float
    lon: float
    names: dict[str, str]
    aliases: list[str]
    members: list[str] = []
    """An area's places besides its children: the regions an area spanning several holds."""
    controlled_by: str | None = None
    controlled_since: str | None = None
    note: str | None = None

    @property
    def name(self) -> str:
        return self.names["en"]

    def labels(self) -> list[str]:
        """Every string this place should be found by: id, names, aliases."""
        return [self.id, *self.names.values(), *self.aliases]

    def is_alias(self, label: str) -> bool:
        """Is `label` (one of labels()) only an alias, not the id or a name?"""
        return label != self.id and label not in self.names.values()


class PlaceMatch(BaseModel):
    """A search hit; `matched` is the original label that produced the score.

    `match` says how: `exact` (the id or a name), `alias` (a common spelling), `fuzzy`
    (the start of a label, or a label spelt nearly so)."""

    model_config = ConfigDict(frozen=True)

    place: GazetteerPlace
    matched: str
    score: float
    match: MatchKind = "fuzzy"


def _fuzzy_score(matcher: SequenceMatcher[str], query: str, key: str, floor: float) -> float:
    """difflib ratio plus prefix/substring bonus, capped below an exact match; 0.0 under floor.

    `matcher` must already hold the query as seq2 (difflib caches seq2's analysis).
    """
    if query == key:
        return 1.0
    embedded = len(key) >= _MIN_EMBEDDED_KEY
    bonus = 0.0
    if key.startswith(query) or (embedded and query.startswith(key)):
        bonus = _PREFIX_BONUS
    elif query in key or (embedded and key in query):
        bonus = _SUBSTRING_BONUS
    matcher.set_seq1(key)
    # Cheap upper bounds first: most keys are nowhere near the query.
    if matcher.real_quick_ratio() + bonus < floor or matcher.quick_ratio() + bonus < floor:
        return 0.0
    score = matcher.ratio() + bonus
    return min(score, 0.99) if score >= floor else 0.0


def _validate(places: Sequence[GazetteerPlace]) -> None:
    """Raise ValueError naming the first bad entry."""
    by_id: dict[str, GazetteerPlace] = {}
    for place in places:
        if place.id in by_id:
            raise ValueError(f"gazetteer: duplicate id {place.id!r}")
        by_id[place.id] = place
    for place in places:
        where = f"gazetteer entry {place.id!r}"
        if not _ID_RE.match(place.id) or place.id[:2] != place.country.lower():
            raise ValueError(f"{where}: id must be '<iso2>-<slug>' in lowercase ascii")
        if not _COUNTRY_RE.match(place.country):
            raise ValueError(f"{where}: country {place.country!r} is not 2 upper-case letters")
        if place.country.lower() not in by_id or by_id[place.country.lower()].kind != "country":
            raise ValueError(f"{where}: country {place.country!r} has no country entry")
        if not -90 <= place.lat <= 90 or not -180 <= place.lon <= 180:
            raise ValueError(f"{where}: lat/lon out of range ({place.lat}, {place.lon})")
        if not place.names.get("en"):
            raise ValueError(f"{where}: missing English name")
        if place.kind == "country":
            if place.parent is not None or place.id != place.country.lower():
                raise ValueError(f"{where}: a country's id is its iso2 code and it has no parent")
        elif place.parent is None:
            raise ValueError(f"{where}: missing parent")
        elif place.parent not in by_id:
            raise ValueError(f"{where}: parent {place.parent!r} does not exist")
        elif by_id[place.parent].country != place.country:
            raise ValueError(f"{where}: parent {place.parent!r} is in another country")
        for member in place.members:
            if place.kind != "area":
                raise ValueError(f"{where}: only an area has members")
            if member not in by_id or member == place.id:
                raise ValueError(f"{where}: member {member!r} does not exist")
            if by_id[member].country != place.country:
                raise ValueError(f"{where}: member {member!r} is in another country")
        if place.kind == "area" and not place.members:
            raise ValueError(f"{where}: an area lists its members")
        if place.controlled_by is not None and place.controlled_by.lower() not in by_id:
            raise ValueError(f"{where}: controlled_by {place.controlled_by!r} is unknown")
        if place.controlled_since is not None:
            _check_since(where, place.controlled_since)
    for place in places:  # parent chains must end at a country: no cycles
        seen = {place.id}
        current = place
        while current.parent is not None:
            if current.parent in seen:
                raise ValueError(f"gazetteer entry {place.id!r}: parent cycle")
            seen.add(current.parent)
            current = by_id[current.parent]
    for place in places:  # nor may an area hold itself through its members
        stack = [*place.members]
        reached: set[str] = set()
        while stack:
            member = stack.pop()
            if member == place.id:
                raise ValueError(f"gazetteer entry {place.id!r}: member cycle")
            if member not in reached:
                reached.add(member)
                stack.extend(by_id[member].members)


def _check_since(where: str, since: str) -> None:
    if not _SINCE_RE.match(since):
        raise ValueError(f"{where}: controlled_since {since!r} is not an ISO date")
    padded = since + "-01" * (2 - since.count("-"))
    try:
        date.fromisoformat(padded)
    except ValueError as exc:
        raise ValueError(f"{where}: controlled_since {since!r} is not a valid date") from exc


class Gazetteer:
    """Immutable index over a list of places; build once, query many times."""

    def __init__(self, places: Sequence[GazetteerPlace]) -> None:
        _validate(places)
        self._places = sorted(places, key=lambda p: p.id)
        self._by_id = {p.id: p for p in self._places}
        # normalised label -> [(place id, original label)], in id order, one entry per place.
        self._index: dict[str, list[tuple[str, str]]] = {}
        for place in self._places:
            for label in place.labels():
                key = normalise(label)
                if not key:
                    continue
                hits = self._index.setdefault(key, [])
                if not any(pid == place.id for pid, _ in hits):
                    hits.append((place.id, label))
        # What directly contains what: a parent its children, an area also its members.
        self._contents: dict[str, list[str]] = {}
        self._containers: dict[str, list[str]] = {}
        for place in self._places:
            if place.parent is not None:
                self._contain(place.parent, place.id)
            for member in place.members:
                self._contain(place.id, member)

    def _contain(self, container: str, content: str) -> None:
        self._contents.setdefault(container, []).append(content)
        self._containers.setdefault(content, []).append(container)

    @classmethod
    def load(cls) -> Gazetteer:
        """Read the shipped places.json (works from a wheel too, via importlib.resources)."""
        package = __package__ or "service.gazetteer"
        raw = json.loads(resources.files(package).joinpath("places.json").read_text("utf-8"))
        return cls(_parse(raw))

    def all(self) -> list[GazetteerPlace]:
        return list(self._places)

    def get(self, place_id: str) -> GazetteerPlace | None:
        return self._by_id.get(place_id)

    def resolve(self, name: str, country: str | None = None) -> list[GazetteerPlace]:
        """Exact (normalised) matches; several means ambiguous, none means unknown."""
        hits = self._index.get(normalise(name), [])
        return [p for p in (self._by_id[pid] for pid, _ in hits) if _in_country(p, country)]

    def closest(self, name: str, country: str | None = None, limit: int = 5) -> list[PlaceMatch]:
        """Fuzzy suggestions for a name, best first; weak matches (< 0.3) are left out."""
        query = normalise(name)
        matcher = _matcher_for(query)

        def score(key: str) -> float | None:
            return _fuzzy_score(matcher, query, key, _CLOSEST_FLOOR) or None

        return self._scan(query, score, country, None, limit)

    def search(
        self, q: str, country: str | None = None, kind: str | None = None, limit: int = 20
    ) -> list[PlaceMatch]:
        """The places `q` names: exact names and aliases (1.0), then labels it begins,
        then labels it spells nearly (similarity at least STRONG_FUZZY).

        Scores are banded so the order by tier is also the order by score:
        prefix in [0.85, 0.99), fuzzy below 0.85. A blank query matches nothing;
        use all() to list places. Weaker likenesses are suggestions(), never results.
        """
        query = normalise(q)
        matcher = _matcher_for(query)

        def score(key: str) -> float | None:
            if key == query:
                return 1.0
            coverage = len(query) / len(key)
            if key.startswith(query):
                return 0.9 + 0.09 * coverage
            if f" {query}" in key:  # a later word starts with it: "peter" in "saint petersburg"
                return 0.85 + 0.09 * coverage
            similarity = _similarity(matcher, key, STRONG_FUZZY)
            return min(similarity, 0.84) if similarity else None

        return self._scan(query, score, country, kind, limit)

    def suggestions(
        self, q: str, country: str | None = None, kind: str | None = None, limit: int = 5
    ) -> list[PlaceMatch]:
        """Places `q` is only somewhat like (similarity in [0.5, STRONG_FUZZY)), best
        first: what to offer when search() finds nothing, never an answer."""
        query = normalise(q)
        matcher = _matcher_for(query)

        def score(key: str) -> float | None:
            similarity = _similarity(matcher, key, _SUGGESTION_FLOOR)
            return similarity if similarity and similarity < STRONG_FUZZY else None

        return self._scan(query, score, country, kind, limit)

    def _scan(
        self,
        query: str,
        score: Callable[[str], float | None],
        country: str | None,
        kind: str | None,
        limit: int,
    ) -> list[PlaceMatch]:
        """Score every index key, keep each place's best label, return the top `limit`."""
        if not query or limit <= 0:
            return []
        best: dict[str, tuple[float, str]] = {}
        for key, hits in self._index.items():
            key_score = score(key)
            if key_score is None:
                continue
            for pid, label in hits:
                place = self._by_id[pid]
                if not _in_country(place, country) or (kind is not None and place.kind != kind):
                    continue
                # Strictly greater: on a tie the earlier label (a name before an alias) wins.
                if pid not in best or best[pid][0] < key_score:
                    best[pid] = (key_score, label)
        ranked = sorted(
            best.items(), key=lambda item: (-item[1][0], self._by_id[item[0]].name, item[0])
        )
        return [
            PlaceMatch(
                place=self._by_id[pid],
                matched=label,
                score=round(value, 4),
                match=_match_kind(self._by_id[pid], label, value),
            )
            for pid, (value, label) in ranked[:limit]
        ]

    def ancestors(self, place_id: str) -> list[str]:
        """Every place that contains place_id, nearest first, its country last: the parent
        chain and each area that holds a place of it (Vladivostok: Primorsky Krai, the
        Russian Far East, Siberia, Russia). Raises KeyError for unknown ids."""
        if place_id not in self._by_id:
            raise KeyError(place_id)
        found: list[str] = []
        level = [place_id]
        while level:  # breadth first: nearer containers come first
            level = [c for p in level for c in self._containers.get(p, []) if c not in found]
            level = list(dict.fromkeys(level))
            found.extend(level)
        country = self._by_id[place_id].country.lower()
        return [p for p in found if p != country] + ([country] if country in found else [])

    def descendants(self, place_id: str) -> set[str]:
        """Every place inside place_id, at any depth: children, an area's members and
        theirs. Raises KeyError for unknown ids."""
        if place_id not in self._by_id:
            raise KeyError(place_id)
        found: set[str] = set()
        stack = list(self._contents.get(place_id, []))
        while stack:
            content = stack.pop()
            if content not in found:
                found.add(content)
                stack.extend(self._contents.get(content, []))
        return found


def _in_country(place: GazetteerPlace, country: str | None) -> bool:
    # De jure country: an occupied Ukrainian place stays under "UA" whoever controls it.
    return country is None or place.country == country.upper()


def _similarity(matcher: SequenceMatcher[str], key: str, floor: float) -> float:
    """difflib's ratio of the matcher's query to `key`; 0.0 under floor. No bonus for a
    key inside the query: "Hunchun Jingxin" is somewhere in Hunchun, not Hunchun."""
    matcher.set_seq1(key)
    # Cheap upper bounds first: most keys are nowhere near the query.
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= floor else 0.0


def _match_kind(place: GazetteerPlace, label: str, score: float) -> MatchKind:
    if score < 1.0:
        return "fuzzy"
    return "alias" if place.is_alias(label) else "exact"


def _matcher_for(query: str) -> SequenceMatcher[str]:
    # autojunk would ignore frequent characters, which distorts ratios on short names.
    matcher: SequenceMatcher[str] = SequenceMatcher(autojunk=False)
    matcher.set_seq2(query)
    return matcher


def _parse(raw: object) -> list[GazetteerPlace]:
    if not isinstance(raw, list):
        raise ValueError("places.json must contain a JSON list")
    places: list[GazetteerPlace] = []
    for i, entry in enumerate(raw):
        label = entry.get("id", f"#{i}") if isinstance(entry, dict) else f"#{i}"
        try:
            places.append(GazetteerPlace.model_validate(entry))
        except ValidationError as exc:
            raise ValueError(f"gazetteer entry {label!r}: {exc}") from exc
    return places


@cache
def default_gazetteer() -> Gazetteer:
    """The shipped gazetteer, loaded and indexed once per process."""
    return Gazetteer.load()
