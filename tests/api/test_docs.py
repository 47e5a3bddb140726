"""Swagger UI works offline, the contract describes every operation, probes answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.app import create_app
from service.ledger import Ledger, build_ledger
from service.settings import Settings
from tests.conftest import DatabaseFactory

ASSETS = "/static/swagger-ui"
URL = re.compile(r"https?://", re.IGNORECASE)
DEFAULT_ID_SUFFIX = re.compile(r"_(get|post|put|patch|delete|head|options)$")
METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


@pytest.fixture
def docs_html(client: TestClient) -> str:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


@pytest.fixture(scope="module")
def document(databases: DatabaseFactory) -> Iterator[dict[str, Any]]:
    # The contract does not depend on the data: build it once for this module.
    url = databases.new()
    settings = Settings(database_url=url, load_seed=False, bootstrap_admin=False, secret_key="x")
    ledger = build_ledger(settings)
    try:
        with TestClient(create_app(settings, ledger)) as client:
            response = client.get("/openapi.json")
        assert response.status_code == 200
        yield response.json()
    finally:
        ledger.engine.dispose()
        databases.discard(url)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    # every check below loops over these: an empty document would pass them all
    assert len(found) >= 10, found
    return found


def test_docs_page_names_no_external_url(docs_html: str) -> None:
    assert URL.findall(docs_html) == [], [
        docs_html[m.start() : m.start() + 80] for m in URL.finditer(docs_html)
    ]


def test_docs_page_loads_its_assets_from_the_service(docs_html: str) -> None:
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        assert f"{ASSETS}/{asset}" in docs_html
    assert "/openapi.json" in docs_html


@pytest.mark.parametrize(
    ("asset", "media_types"),
    [
        ("swagger-ui-bundle.js", {"text/javascript", "application/javascript"}),
        ("swagger-ui.css", {"text/css"}),
        ("favicon-32x32.png", {"image/png"}),
        ("LICENSE", {"text/plain", "application/octet-stream"}),
    ],
)
def test_swagger_assets_are_served(client: TestClient, asset: str, media_types: set[str]) -> None:
    response = client.get(f"{ASSETS}/{asset}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] in media_types
    assert len(response.content) > 0


def test_the_vendored_swagger_ui_is_version_5(client: TestClient) -> None:
    response = client.get(f"{ASSETS}/VERSION")
    assert response.status_code == 200
    assert response.text.strip().startswith("5.")


def test_the_swagger_bundle_fetches_nothing_from_a_cdn_at_start(client: TestClient) -> None:
    # Swagger UI's own bundle mentions URLs in strings (licences, examples); what matters
    # is that the page does not load scripts or styles from elsewhere.
    html = client.get("/docs").text
    tags = re.findall(r"<(?:script|link)[^>]*>", html)
    assert any(ASSETS in tag for tag in tags), html  # the loop below has tags to check
    for tag in tags:
        assert "//" not in tag.replace(ASSETS, ""), tag


def test_authorize_is_remembered_across_reloads(docs_html: str) -> None:
    assert re.search(r'"persistAuthorization":\s*true', docs_html)


def test_a_missing_asset_is_404(client: TestClient) -> None:
    assert client.get(f"{ASSETS}/nothing.js").status_code == 404


def test_the_home_page_is_the_desk_and_leads_to_the_docs(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/docs"' in response.text


def test_the_contract_has_a_bearer_security_scheme(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())


def test_every_write_declares_its_security_and_every_read_is_public(
    document: dict[str, Any],
) -> None:
    secured = set()
    for method, path, operation in operations(document):
        needs_key = method != "GET" or path.startswith("/v1/admin")
        assert bool(operation.get("security")) == needs_key, (method, path)
        secured.add(needs_key)
    assert secured == {True, False}  # both writes and public reads were checked


def test_every_operation_has_a_summary_and_a_description(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        assert operation.get("summary"), (method, path)
        assert operation.get("description"), (method, path)


def test_every_operation_id_is_clean_and_unique(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert not DEFAULT_ID_SUFFIX.search(operation_id), operation_id
        assert "v1" not in operation_id, operation_id
        assert re.fullmatch(r"[a-z][a-z0-9_]*", operation_id), operation_id


def test_every_documented_error_is_problem_json(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                assert list(response.get("content", {})) == ["application/problem+json"], (
                    method,
                    path,
                    status,
                )


def test_every_write_documents_401_and_403(document: dict[str, Any]) -> None:
    writes = [(m, p, o) for m, p, o in operations(document) if o.get("security")]
    assert ("POST", "/v1/events") in {(m, p) for m, p, _ in writes}
    for method, path, operation in writes:
        assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_the_problem_schema_is_in_the_contract(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_answers_ready_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready"}


def test_readyz_is_a_503_problem_when_the_schema_is_behind(
    client: TestClient, ledger: Ledger
) -> None:
    with ledger.engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = 'an-older-revision'"))
    try:
        response = client.get("/readyz")

        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "migration" in response.json()["detail"]
        assert client.get("/healthz").status_code == 200
    finally:  # test databases may be emptied and handed to the next test
        with ledger.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
