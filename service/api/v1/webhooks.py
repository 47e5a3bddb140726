"""`/v1/admin/webhooks`: subscribers that get each new event by signed POST."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, HTTPException
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, UrlConstraints

from service.access.keys import ApiKey, Scope
from service.api.auth import scoped
from service.api.deps import LedgerDep
from service.api.problems import problem_responses
from service.domain.events import EventType
from service.follow.secret_box import SecretBox
from service.follow.subscriptions import (
    Subscription,
    create_subscription,
    disable_subscription,
    enable_subscription,
    get_subscription,
    list_subscriptions,
)
from service.follow.targets import TargetRules

router = APIRouter(
    prefix="/v1/admin/webhooks", tags=["webhooks"], responses=problem_responses(401, 403, 422)
)


MAX_URL_LENGTH = 2000  # the column's width


def target_rules(ledger: LedgerDep) -> TargetRules:
    """The rules a webhook's URL must pass (a test overrides this with its own DNS)."""
    return TargetRules(allow_private=ledger.settings.webhooks_allow_private_targets)


TargetRulesDep = Annotated[TargetRules, Depends(target_rules)]


def _fits_column(url: HttpUrl) -> HttpUrl:
    # Normalising (punycode for a non-ASCII host) can lengthen a URL that was short enough.
    if len(str(url)) > MAX_URL_LENGTH:
        raise ValueError(f"the URL is over {MAX_URL_LENGTH} characters once normalised")
    return url


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[
        HttpUrl, UrlConstraints(max_length=MAX_URL_LENGTH), AfterValidator(_fits_column)
    ] = Field(
        description="Where each event is POSTed: http or https, a public host (not "
        "loopback, private, link-local or the like, in any spelling), no user:pass@.",
        examples=["https://newsroom.example.org/ledger-hook"],
    )
    event_types: list[EventType] = Field(
        default_factory=list,
        max_length=len(EventType),
        description="Only these types; empty for every type.",
        examples=[["workers.dispatched", "workers.repatriated"]],
    )
    description: str | None = Field(default=None, max_length=500, examples=["Seoul desk"])
    max_attempts: int | None = Field(
        default=None,
        strict=True,  # `true` is not 1 attempt
        ge=1,
        le=100,
        description="Failed attempts at one event before the subscription is parked as "
        "`failing`; the service's default when absent.",
    )


class WebhookPublic(BaseModel):
    id: UUID
    url: str
    event_types: list[str] = Field(description="Empty: every type.")
    description: str | None
    status: str = Field(
        description="`active`; `failing`: parked after too many failed attempts, "
        "re-enable it to resume; `disabled`.",
        examples=["active"],
    )
    max_attempts: int
    from_position: int = Field(description="Events after this position are delivered.")
    last_delivered_position: int | None
    last_delivered_at: datetime | None
    pending_deliveries: int = Field(description="Events owed to it, not yet delivered.")
    failures: int = Field(description="Failed attempts since the last delivery.")
    last_error: str | None
    last_error_at: datetime | None
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, s: Subscription) -> WebhookPublic:
        return cls(
            id=s.id,
            url=s.url,
            event_types=list(s.event_types),
            description=s.description,
            status=s.status,
            max_attempts=s.max_attempts,
            from_position=s.from_position,
            last_delivered_position=s.last_delivered_position,
            last_delivered_at=s.last_delivered_at,
            pending_deliveries=s.pending,
            failures=s.failures,
            last_error=s.last_error,
            last_error_at=s.last_error_at,
            created_at=s.created_at,
            created_by=s.created_by,
        )


class WebhookCreated(BaseModel):
    webhook: WebhookPublic
    secret: str = Field(
        description="Signs every delivery (`webhook-signature`, `Ledger-Signature`): "
        "`whsec_` and standard base64. Shown this once: keep it.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


def _found(subscription: Subscription | None, subscription_id: UUID) -> WebhookPublic:
    if subscription is None:
        raise HTTPException(404, f"No webhook has the id {subscription_id}.")
    return WebhookPublic.of(subscription)


@router.post("", status_code=201, summary="Subscribe a URL to new events")
def create_webhook(
    body: Annotated[WebhookCreate, Body()],
    ledger: LedgerDep,
    targets: TargetRulesDep,
    key: ApiKey = scoped(Scope.admin),
) -> WebhookCreated:
    """From now on, each newly recorded event (of the chosen types) is POSTed to `url`
    as JSON, in position order, at least once, signed with the secret in this answer
    as [Standard Webhooks](https://www.standardwebhooks.com) sign: `webhook-id` (the
    event's id), `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
    "<id>.<timestamp>.<body>">` keyed with the secret's base64 part after `whsec_`, so
    any Standard Webhooks library verifies it, e.g. in Python
    `Webhook(secret).verify(body, headers)`. The older
    `Ledger-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with
    the whole secret, is sent beside it.

    A receiver answers 2xx to acknowledge. A 5xx, 408, 429, a timeout or a refused
    connection is retried with growing delays; after `max_attempts` failures, or
    at once on any other answer, the subscription is parked as `failing` until an
    admin re-enables it, and then resumes where it stopped.

    The URL must lead to a public address: a host that is, or resolves to, a
    loopback, private, link-local, unique-local, multicast or reserved address
    (`localhost`, `10.0.0.1`, `169.254.169.254`, `[::1]`, `2130706433`...) is
    refused with a 422 naming `url`, and so is a URL with `user:pass@`. The host is
    resolved again at every delivery: if it comes to resolve to such an address,
    nothing is sent and the webhook is parked as `failing`.
    """
    targets.check_url(str(body.url))
    subscription, secret = create_subscription(
        ledger.engine,
        url=str(body.url),
        event_types=[t.value for t in body.event_types],
        description=body.description,
        max_attempts=body.max_attempts or ledger.settings.webhook_max_attempts,
        created_by=key.name,
        box=SecretBox(ledger.keys.secret),
    )
    return WebhookCreated(webhook=WebhookPublic.of(subscription), secret=secret)


@router.get("", summary="List webhooks")
def list_webhooks(ledger: LedgerDep, _: ApiKey = scoped(Scope.admin)) -> list[WebhookPublic]:
    """Every subscription, disabled ones included; never the secrets."""
    return [WebhookPublic.of(s) for s in list_subscriptions(ledger.engine)]


@router.get(
    "/{webhook_id}",
    summary="One webhook and how its deliveries go",
    responses=problem_responses(404),
)
def get_webhook(
    webhook_id: UUID, ledger: LedgerDep, _: ApiKey = scoped(Scope.admin)
) -> WebhookPublic:
    """Its status, the last position delivered, the events still owed, the failed
    attempts since the last success and the last error."""
    return _found(get_subscription(ledger.engine, webhook_id), webhook_id)


@router.post(
    "/{webhook_id}/enable",
    summary="Re-enable a parked or disabled webhook",
    responses=problem_responses(404),
)
def enable_webhook(
    webhook_id: UUID,
    ledger: LedgerDep,
    targets: TargetRulesDep,
    _: ApiKey = scoped(Scope.admin),
) -> WebhookPublic:
    """Deliveries start again at once, with a fresh retry budget. A parked (`failing`)
    webhook resumes with the oldest event it is still owed, so nothing is skipped; a
    disabled one gets the events recorded from now on. Its URL is checked again as at
    registration (a 422 naming `url` if it is refused now)."""
    found = _found(get_subscription(ledger.engine, webhook_id), webhook_id)
    targets.check_url(found.url)
    return _found(enable_subscription(ledger.engine, webhook_id), webhook_id)


@router.delete("/{webhook_id}", summary="Disable a webhook", responses=problem_responses(404))
def disable_webhook(
    webhook_id: UUID, ledger: LedgerDep, _: ApiKey = scoped(Scope.admin)
) -> WebhookPublic:
    """No more deliveries; events still owed to it are dropped. It stays listed."""
    return _found(disable_subscription(ledger.engine, webhook_id), webhook_id)
