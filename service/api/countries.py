"""The `country` query parameter every view shares: an ISO code or a name in four languages.

A journalist types "Russia", "Россия", "러시아" or "俄罗斯"; a program sends "RU". Both
mean the same filter. A name the gazetteer does not know as a country is a 422 naming
`country`, with the countries it is most like.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from service.api.deps import LedgerDep
from service.domain.errors import UnknownCountry
from service.gazetteer import Gazetteer, GazetteerPlace

POINTER = ("query", "country")

COUNTRY_DESCRIPTION = (
    "A country: its two-letter ISO code (`RU`, any case) or its name in English, Russian, "
    "Korean or Chinese (`Russia`, `Россия`, `러시아`, `俄罗斯`). A name the gazetteer does "
    "not know is refused with the closest countries as `suggestions`."
)


def country_code(gazetteer: Gazetteer, text: str) -> str:
    """The ISO code `text` names: a code as given (upper-cased), or a country's name or
    alias. Raises UnknownCountry for anything else, with suggestions."""
    wanted = text.strip()
    countries = _countries_named(gazetteer, wanted)
    if _looks_like_code(wanted):
        known = gazetteer.get(wanted.lower())
        if known is not None and known.kind == "country":
            return known.country
        if len(countries) == 1:  # an alias spelled in two letters: "UK"
            return countries[0].country
        # A code the gazetteer lacks names no place the ledger can hold: the filter
        # finds nothing, as it always has, rather than refusing a valid code.
        return wanted.upper()
    if len(countries) == 1:
        return countries[0].country
    raise _unknown(gazetteer, wanted)


def _looks_like_code(text: str) -> bool:
    return len(text) == 2 and text.isascii() and text.isalpha()


def _countries_named(gazetteer: Gazetteer, name: str) -> list[GazetteerPlace]:
    return [p for p in gazetteer.resolve(name) if p.kind == "country"] if name else []


def _unknown(gazetteer: Gazetteer, name: str) -> UnknownCountry:
    places = gazetteer.resolve(name) if name else []
    if places:
        # A city or region: say so, and offer the country it lies in.
        place = places[0]
        codes = list(dict.fromkeys(p.country for p in places))
        return UnknownCountry(
            f"{name!r} is a {place.kind}, not a country: ask with `place={name}` for it "
            f"alone, or `country={codes[0]}` for its whole country.",
            codes,
            pointer=POINTER,
        )
    likely = gazetteer.search(name, kind="country", limit=5) or gazetteer.suggestions(
        name, kind="country", limit=5
    )
    codes = [m.place.country for m in likely]
    hint = (
        " Closest: " + ", ".join(f"{m.place.country} ({m.place.name})" for m in likely) + "."
        if likely
        else " Send a two-letter ISO code, e.g. `RU`."
    )
    return UnknownCountry(
        f"No country called {name!r} is in the gazetteer.{hint}", codes, pointer=POINTER
    )


async def country_parameter(  # async: a dictionary look-up needs no thread
    ledger: LedgerDep,
    country: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description=COUNTRY_DESCRIPTION),
    ] = None,
) -> str | None:
    return None if country is None else country_code(ledger.gazetteer, country)


CountryDep = Annotated[str | None, Depends(country_parameter)]
"""The ISO code of the `country` asked for, upper-case; None when not asked."""
