"""The figures officials stated (statements' `claims`) beside the deployments they
concern: chosen by the deployments question's places, country, affiliation and time
axes, and never counted — the deployments read model does not read statements at all;
the deployments router hands it these to list beside its rows.
"""

from __future__ import annotations

from sqlalchemy import Connection

from service.domain.payloads import Claim
from service.views.deployments.fold import DeploymentQuery
from service.views.deployments.queries import StatedClaim
from service.views.statements.standing import DatedStatement, statements_at


def claims_beside(conn: Connection, query: DeploymentQuery) -> list[StatedClaim]:
    """The claims of the statements standing at `query.position` and made by its
    `as_of`, about a place within its country or place filter, of its affiliation;
    newest statement first, each statement's claims in their order."""
    return [
        _stated(claim, dated)
        for dated in statements_at(conn, query.position)
        if dated.made_as_of(query.as_of)
        for claim in dated.statement.claims
        if _concerns(claim, query)
    ]


def _concerns(claim: Claim, query: DeploymentQuery) -> bool:
    """Is the claim about a place the question asks of? (Any place, when it asks of none;
    a region asked of includes its cities: `place_ids` holds them.)"""
    if query.affiliation is not None and claim.affiliation.value != query.affiliation:
        return False
    return any(
        (query.countries is None or place.country in query.countries)
        and (query.place_ids is None or place.place_id in query.place_ids)
        for place in claim.places
    )


def _stated(claim: Claim, dated: DatedStatement) -> StatedClaim:
    return StatedClaim(
        **{name: getattr(claim, name) for name in Claim.model_fields},
        statement_event_id=dated.fact.event.id,
        speaker=dated.statement.speaker,
        issued_on=dated.issued_on,
        sources=dated.fact.source_ids,
    )
