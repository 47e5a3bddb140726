"""Which form of a view the client asked for: `?format=` first, then `Accept` with its
q-values; a 406 problem when the view does not come in any form the client takes."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request

JSON = "application/json"
CSV = "text/csv"
GEOJSON = "application/geo+json"
FORMAT_NAMES = {JSON: "json", CSV: "csv", GEOJSON: "geojson"}
"""`?format=` names each media type by."""


def wanted_media_type(
    request: Request, offered: Sequence[str], unavailable: Mapping[str, str] | None = None
) -> str:
    """The offered media type (in the server's order of preference, JSON first) the client
    asked for; `unavailable` says, by format name, why a form is not offered here."""
    fmt = request.query_params.get("format")
    if fmt is not None:
        for media_type in offered:
            if FORMAT_NAMES[media_type] == fmt:
                return media_type
        why = (unavailable or {}).get(fmt, "")
        raise HTTPException(406, f"format={fmt}: {why or 'not offered here'}. {_forms(offered)}")
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return offered[0]
    ranges = accepted_ranges(accept)
    # The highest q-value wins; among equals, the server's preference (JSON first).
    best = max(offered, key=lambda m: (quality(m, ranges), -offered.index(m)))
    if quality(best, ranges) <= 0:
        raise HTTPException(
            406, f"Accept: {accept} takes none of this view's forms. {_forms(offered)}"
        )
    return best


def _forms(offered: Sequence[str]) -> str:
    names = ", ".join(f"{FORMAT_NAMES[m]} ({m})" for m in offered)
    return f"This view comes as {names}: ask with `?format=` or `Accept`."


def accepted_ranges(accept: str) -> list[tuple[str, float]]:
    """`text/csv;q=0.5, */*;q=0.1` -> [("text/csv", 0.5), ("*/*", 0.1)]; a range with a
    q-value that is no number is ignored, as RFC 9110 lets a server do."""
    ranges: list[tuple[str, float]] = []
    for item in accept.split(","):
        media_range, *params = (p.strip() for p in item.split(";"))
        if not media_range:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
        if 0 <= q <= 1:
            ranges.append((media_range.lower(), q))
    return ranges


def quality(media_type: str, ranges: Sequence[tuple[str, float]]) -> float:
    """The q-value of the most specific range that names `media_type` (0: none does)."""
    kind = media_type.split("/")[0]
    best: tuple[int, float] = (-1, 0.0)
    for media_range, q in ranges:
        specificity = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(media_range, -1)
        if specificity > best[0]:
            best = (specificity, q)
    return best[1]


def format_parameter(*alternatives: str) -> Any:
    """A route's `format` query parameter, documented with the forms it comes in
    (`json` and `alternatives`); read by the pipeline, which answers 406 for others."""
    names = ["json", *alternatives]
    query = Query(
        description="The form of the answer, instead of an `Accept` header: "
        + ", ".join(f"`{n}`" for n in names)
        + ". Any other is a 406.",
        json_schema_extra={"enum": names},
    )

    def format_(format: str | None = None) -> None:
        return None

    # Built here, not written as an annotation: the enum differs per route.
    format_.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "format",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[str, query],  # optional all the same: a string or absent
            )
        ]
    )
    return Depends(format_)
