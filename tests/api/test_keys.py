"""API keys: random, shown once, stored hashed, scoped, revocable; by API and by CLI."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from service.access.keys import KeyRing, LastAdminKey, Scope
from service.access.tables import API_KEYS
from service.cli.commands import app as cli
from service.ledger import Ledger
from service.settings import Settings, get_settings
from tests.factories import source_body

TOKEN = re.compile(r"ll_[A-Za-z0-9_-]{20,}")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create(client: TestClient, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/admin/keys", json={"scopes": ["events:write"], **body}, headers=admin
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def stored_key_rows(ledger: Ledger) -> list[dict[str, Any]]:
    with ledger.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(API_KEYS))]


# --- the admin endpoints ------------------------------------------------------------


def test_a_new_key_is_shown_once_and_starts_with_ll(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = create(client, admin, name="seoul-desk")

    token = created["token"]
    assert token.startswith("ll_") and len(token) >= 40
    assert created["key"]["name"] == "seoul-desk"
    assert created["key"]["scopes"] == ["events:write"]
    assert token.startswith(created["key"]["prefix"])
    listed = client.get("/v1/admin/keys", headers=admin)
    assert listed.status_code == 200
    assert token not in listed.text
    assert "seoul-desk" in [k["name"] for k in listed.json()]
    assert all("token" not in k for k in listed.json())


def test_two_keys_never_share_a_token(client: TestClient, admin: dict[str, str]) -> None:
    tokens = {create(client, admin, name=f"desk-{n}")["token"] for n in range(5)}
    assert len(tokens) == 5


def test_the_stored_key_is_a_hash_not_the_token(
    client: TestClient, admin: dict[str, str], ledger: Ledger
) -> None:
    token = create(client, admin, name="seoul-desk")["token"]

    rows = stored_key_rows(ledger)
    assert "seoul-desk" in {row["name"] for row in rows}
    for row in rows:
        assert token not in {str(v) for v in row.values()}
        assert token[11:] not in str(row["key_hash"])


def test_a_new_key_writes_at_once_and_events_name_the_key_not_the_token(
    client: TestClient, admin: dict[str, str]
) -> None:
    token = create(client, admin, name="seoul-desk")["token"]

    response = client.post("/v1/events", json=source_body(), headers=bearer(token))

    assert response.status_code == 201, response.text
    event = response.json()["events"][0]
    assert event["recorded_by"] == "seoul-desk"
    assert token not in client.get("/v1/events").text


def test_using_a_key_sets_last_used_at(client: TestClient, admin: dict[str, str]) -> None:
    created = create(client, admin, name="seoul-desk")
    assert created["key"]["last_used_at"] is None

    client.post("/v1/events", json=source_body(), headers=bearer(created["token"]))

    listed = {k["name"]: k for k in client.get("/v1/admin/keys", headers=admin).json()}
    assert listed["seoul-desk"]["last_used_at"] is not None


def test_a_revoked_key_is_refused_at_once_by_the_process_that_revoked_it(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = create(client, admin, name="seoul-desk")
    token, key_id = created["token"], created["key"]["id"]
    assert client.post("/v1/events", json=source_body(), headers=bearer(token)).status_code == 201

    revoked = client.delete(f"/v1/admin/keys/{key_id}", headers=admin)

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    refused = client.post("/v1/events", json=source_body("other"), headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["type"] == "/problems/unauthorized"
    assert client.get("/v1/events").json()["events"][0]["recorded_by"] == "seoul-desk"


def test_revoking_twice_keeps_the_first_revocation_time(
    client: TestClient, admin: dict[str, str]
) -> None:
    key_id = create(client, admin, name="seoul-desk")["key"]["id"]
    first = client.delete(f"/v1/admin/keys/{key_id}", headers=admin).json()["revoked_at"]

    again = client.delete(f"/v1/admin/keys/{key_id}", headers=admin)

    assert again.status_code == 200
    assert again.json()["revoked_at"] == first


def test_revoking_an_unknown_key_is_404(client: TestClient, admin: dict[str, str]) -> None:
    response = client.delete("/v1/admin/keys/018f0000-0000-7000-8000-000000000000", headers=admin)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/not-found"


def test_a_key_is_refused_once_it_has_expired(
    ledger: Ledger, client: TestClient, admin: dict[str, str]
) -> None:
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)
    token = create(client, admin, name="old-desk", expires_at=in_an_hour.isoformat())["token"]

    ledger.keys = replace(ledger.keys, clock=lambda: in_an_hour + timedelta(seconds=1))
    response = client.post("/v1/events", json=source_body(), headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["type"] == "/problems/unauthorized"


@pytest.mark.parametrize(
    "expires_at",
    ["2020-01-01T00:00:00Z", (datetime.now(UTC) - timedelta(minutes=1)).isoformat()],
    ids=["in-2020", "a-minute-ago"],
)
def test_an_expiry_in_the_past_is_422_naming_expires_at(
    client: TestClient, admin: dict[str, str], expires_at: str
) -> None:
    response = client.post(
        "/v1/admin/keys",
        json={"name": "old-desk", "scopes": ["events:write"], "expires_at": expires_at},
        headers=admin,
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "expires_at"
    assert "in the past" in response.json()["detail"]
    names = [k["name"] for k in client.get("/v1/admin/keys", headers=admin).json()]
    assert "old-desk" not in names


def key_id_of(client: TestClient, admin: dict[str, str], name: str) -> str:
    found: str = next(
        k["id"] for k in client.get("/v1/admin/keys", headers=admin).json() if k["name"] == name
    )
    return found


def test_the_last_admin_key_cannot_be_revoked(client: TestClient, admin: dict[str, str]) -> None:
    response = client.delete(f"/v1/admin/keys/{key_id_of(client, admin, 'admin')}", headers=admin)

    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"] == "/problems/last-admin-key"
    assert problem["errors"][0]["field"] == "key_id"
    assert "Create another admin key first" in problem["detail"]
    assert client.get("/v1/admin/keys", headers=admin).status_code == 200  # it still works


def test_an_admin_key_is_revoked_once_another_admin_key_works(
    client: TestClient, admin: dict[str, str]
) -> None:
    # given a second admin key
    second = bearer(create(client, admin, name="second-admin", scopes=["admin"])["token"])

    # when the second revokes the first, the first is gone ...
    first = client.delete(f"/v1/admin/keys/{key_id_of(client, second, 'admin')}", headers=second)
    assert first.status_code == 200, first.text
    assert client.get("/v1/admin/keys", headers=admin).status_code == 401

    # ... and the second, now the last, cannot be revoked
    last = client.delete(
        f"/v1/admin/keys/{key_id_of(client, second, 'second-admin')}", headers=second
    )
    assert last.status_code == 409


def test_an_expired_admin_key_does_not_count_as_another_admin(
    ledger: Ledger, client: TestClient, admin: dict[str, str]
) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=5)
    create(client, admin, name="temp-admin", scopes=["admin"], expires_at=soon.isoformat())
    ledger.keys = replace(ledger.keys, clock=lambda: soon + timedelta(seconds=1))

    response = client.delete(f"/v1/admin/keys/{key_id_of(client, admin, 'admin')}", headers=admin)

    assert response.status_code == 409


def test_two_admins_revoking_each_others_keys_at_once_leave_one_admin(ledger: Ledger) -> None:
    first, _ = ledger.keys.create("first-admin", {Scope.admin})
    second, _ = ledger.keys.create("second-admin", {Scope.admin})
    rings = [KeyRing(ledger.engine, ledger.keys.secret) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def revoke(ring: KeyRing, key_id: UUID) -> None:
        start.wait()
        try:
            ring.revoke(key_id, keep_an_admin=True)
            outcomes.append("revoked")
        except LastAdminKey:
            outcomes.append("refused")

    threads = [
        threading.Thread(target=revoke, args=(ring, key.id))
        for ring, key in zip(rings, [first, second], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == ["refused", "revoked"]
    assert sum(k.revoked_at is None for k in ledger.keys.list()) == 1


def test_a_key_that_expires_later_works_now(client: TestClient, admin: dict[str, str]) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    created = create(client, admin, name="temp-desk", expires_at=tomorrow)

    response = client.post("/v1/events", json=source_body(), headers=bearer(created["token"]))

    assert response.status_code == 201, response.text
    assert created["key"]["expires_at"] is not None


def test_an_expiry_without_a_time_zone_is_422_naming_expires_at(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/v1/admin/keys",
        json={"name": "desk", "scopes": ["events:write"], "expires_at": "2030-01-01T00:00:00"},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "expires_at"


def test_a_duplicate_name_is_409_naming_name(client: TestClient, admin: dict[str, str]) -> None:
    create(client, admin, name="seoul-desk")

    response = client.post(
        "/v1/admin/keys", json={"name": "seoul-desk", "scopes": ["admin"]}, headers=admin
    )

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/key-name-taken"
    assert response.json()["errors"][0]["field"] == "name"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "desk", "scopes": ["everything"]}, "scopes.0"),
        ({"name": "desk", "scopes": []}, "scopes"),
        ({"name": "", "scopes": ["admin"]}, "name"),
        ({"name": "desk<script>", "scopes": ["admin"]}, "name"),
        ({"name": "desk", "scopes": ["admin"], "token": "ll_chosen"}, "token"),
    ],
)
def test_a_bad_key_request_is_422_naming_the_field(
    client: TestClient, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/admin/keys", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_a_key_with_only_admin_scope_cannot_write_events(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post("/v1/events", json=source_body(), headers=admin)
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/forbidden"


def test_a_token_without_the_prefix_is_refused(client: TestClient) -> None:
    response = client.post("/v1/events", json=source_body(), headers=bearer("not-a-ledger-key"))
    assert response.status_code == 401


# --- the CLI ------------------------------------------------------------------------


@pytest.fixture
def cli_env(
    database_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The CLI reads LEDGER_* like the service: point it at this test's database."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SECRET_KEY", settings.secret_key or "")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_creates_a_key_the_api_accepts(
    cli_env: None, client: TestClient, ledger: Ledger
) -> None:
    output = run("keys", "create", "cli-desk", "--scope", "events:write")

    found = TOKEN.search(output)
    assert found is not None, output
    token = found.group()
    response = client.post("/v1/events", json=source_body(), headers=bearer(token))
    assert response.status_code == 201, response.text
    assert response.json()["events"][0]["recorded_by"] == "cli-desk"
    rows = stored_key_rows(ledger)
    assert "cli-desk" in {row["name"] for row in rows}
    for row in rows:
        assert row["key_hash"] != token
        assert token not in {str(v) for v in row.values()}


def test_cli_creates_a_key_with_several_scopes(cli_env: None, ledger: Ledger) -> None:
    run("keys", "create", "cli-editor", "--scope", "events:write", "--scope", "events:correct")

    (key,) = ledger.keys.list()
    assert {s.value for s in key.scopes} == {"events:write", "events:correct"}


def test_cli_lists_keys_without_their_tokens(cli_env: None) -> None:
    output = run("keys", "create", "cli-desk", "--scope", "admin")
    found = TOKEN.search(output)
    assert found is not None

    listed = run("keys", "list")

    assert "cli-desk" in listed
    assert found.group() not in listed


def test_cli_revokes_a_key_by_name_and_it_stops_working(cli_env: None, client: TestClient) -> None:
    found = TOKEN.search(run("keys", "create", "cli-desk", "--scope", "events:write"))
    assert found is not None

    assert "revoked cli-desk" in run("keys", "revoke", "cli-desk")

    response = client.post("/v1/events", json=source_body(), headers=bearer(found.group()))
    assert response.status_code == 401


def test_cli_refuses_to_revoke_an_unknown_key(cli_env: None) -> None:
    result = CliRunner().invoke(cli, ["keys", "revoke", "nobody"])
    assert result.exit_code == 1


def test_cli_refuses_a_duplicate_name(cli_env: None) -> None:
    run("keys", "create", "cli-desk", "--scope", "admin")
    result = CliRunner().invoke(cli, ["keys", "create", "cli-desk", "--scope", "admin"])
    assert result.exit_code != 0
    assert "exists already" in result.output


def test_cli_creates_a_key_that_expires(cli_env: None, client: TestClient) -> None:
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    output = run("keys", "create", "cli-old", "--scope", "events:write", "--expires", past)
    found = TOKEN.search(output)
    assert found is not None

    response = client.post("/v1/events", json=source_body(), headers=bearer(found.group()))

    assert response.status_code == 401


def test_a_key_revoked_by_another_process_stops_working_within_the_cache_window(
    ledger: Ledger, client: TestClient
) -> None:
    """Each process trusts a checked key for `LEDGER_KEY_CACHE_SECONDS`: a revocation
    made elsewhere (here: a second KeyRing, as another worker or the CLI would hold)
    takes effect once that window has passed, without a restart."""
    clock = [1000.0]
    ledger.keys = replace(ledger.keys, monotonic_clock=lambda: clock[0])
    key, token = ledger.keys.create("other-worker-desk", {Scope.events_write})
    assert client.post("/v1/events", json=source_body(), headers=bearer(token)).status_code == 201
    elsewhere = KeyRing(ledger.engine, ledger.keys.secret)

    elsewhere.revoke(key.id)
    clock[0] += ledger.keys.cache_seconds + 0.01
    response = client.post("/v1/events", json=source_body("later"), headers=bearer(token))

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_a_cached_key_is_still_refused_once_it_expires(ledger: Ledger, client: TestClient) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=30)
    _, token = ledger.keys.create("short-lived", {Scope.events_write}, expires_at=soon)
    assert client.post("/v1/events", json=source_body(), headers=bearer(token)).status_code == 201
    ledger.keys = replace(ledger.keys, clock=lambda: soon + timedelta(seconds=1))
    response = client.post("/v1/events", json=source_body("after"), headers=bearer(token))

    assert response.status_code == 401
