"""Fuzz every operation against the OpenAPI document (schemathesis, in-process).

Whatever the input, well formed or not, the service answers with a documented
status, in the documented media type and shape, and never with a 5xx.

The default run is bounded (the documented examples, then a few dozen generated
cases per operation). `LEDGER_FUZZ_DEEP=1` adds schemathesis's coverage phase
(every boundary of every field; thousands of requests for `POST /v1/events`) and
more generated cases: minutes, not seconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig
from schemathesis.python.asgi import shutdown_lifespans

from service.access.keys import Scope
from service.app import create_app
from service.settings import Settings
from tests.conftest import TokenFactory

DEEP = os.environ.get("LEDGER_FUZZ_DEEP", "") not in ("", "0", "false")
EXAMPLES_PER_OPERATION = 300 if DEEP else 40
STREAM_CUT_SECONDS = 0.05
"""An event stream never ends: the fuzzer reads what it sent by then."""


def _document_app() -> FastAPI:
    # Serves only the OpenAPI document, which needs no database. Every request the
    # fuzzer makes goes to the test's own app, on its own freshly migrated database.
    return create_app(
        Settings(
            database_url="sqlite://",
            migrate_on_start=False,
            load_seed=False,
            bootstrap_admin=False,
            deliver_webhooks=False,
            secret_key="document-only",
        )
    )


FUZZ_CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {"coverage": {"enabled": DEEP}},
        "checks": {
            # A schema cannot say which sources, places or target events exist: a
            # well-formed request that names an unknown one is a 422 by design.
            "positive_data_acceptance": {"enabled": False},
        },
    }
)

schema = schemathesis.openapi.from_asgi("/openapi.json", _document_app(), config=FUZZ_CONFIG)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The fuzzer registers webhooks to made-up URLs: nothing may be sent to them.
    return settings.model_copy(update={"deliver_webhooks": False})


@pytest.fixture
def fuzzed_app(app: FastAPI) -> Iterator[FastAPI]:
    yield app
    # schemathesis keeps each app's lifespan running; end it before the database goes.
    shutdown_lifespans()


@pytest.fixture
def every_scope(make_key: TokenFactory) -> dict[str, str]:
    """A key that may do anything, so that writes reach the real validation."""
    return make_key(Scope.events_write, Scope.events_correct, Scope.admin, name="fuzzer")


def _is_event_stream(case: schemathesis.Case) -> bool:
    content = case.operation.definition.raw["responses"].get("200", {}).get("content", {})
    return "text/event-stream" in content


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    # The default run is the same every time (CI must not turn red by luck);
    # LEDGER_FUZZ_DEEP=1 explores afresh.
    derandomize=not DEEP,
    deadline=None,
    # One database per operation, shared by its examples, is the point.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, fuzzed_app: FastAPI, every_scope: dict[str, str]
) -> None:
    case.call_and_validate(
        app=fuzzed_app,
        headers=every_scope,
        timeout=STREAM_CUT_SECONDS if _is_event_stream(case) else None,
    )
