"""`/v1/admin/webhooks`: what an admin sees and may do."""

from __future__ import annotations

from uuid import UUID

from fastapi.testclient import TestClient

HOOK = "https://newsroom.example.org/ledger-hook"
PROBLEM = "application/problem+json"


def test_a_new_webhook_shows_its_secret_once_and_never_again(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = client.post(
        "/v1/admin/webhooks",
        json={"url": HOOK, "event_types": ["workers.dispatched"], "description": "Seoul desk"},
        headers=admin,
    )

    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    webhook = body["webhook"]
    assert webhook["url"] == HOOK
    assert webhook["event_types"] == ["workers.dispatched"]
    assert (webhook["status"], webhook["created_by"], webhook["from_position"]) == (
        "active",
        "admin",
        0,
    )
    listed = client.get("/v1/admin/webhooks", headers=admin).json()
    one = client.get(f"/v1/admin/webhooks/{webhook['id']}", headers=admin).json()
    assert [w["id"] for w in listed] == [webhook["id"]]
    assert body["secret"] not in str(listed) + str(one)
    assert "secret" not in one


def test_webhooks_need_the_admin_scope(client: TestClient, writer: dict[str, str]) -> None:
    anonymous = client.post("/v1/admin/webhooks", json={"url": HOOK})
    desk = client.get("/v1/admin/webhooks", headers=writer)

    assert anonymous.status_code == 401
    assert desk.status_code == 403
    assert desk.headers["content-type"] == PROBLEM


def test_a_webhook_url_must_be_http_or_https(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/v1/admin/webhooks", json={"url": "ftp://example.org/x"}, headers=admin)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "url"


def test_an_unknown_event_type_is_named(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/v1/admin/webhooks",
        json={"url": HOOK, "event_types": ["workers.kidnapped"]},
        headers=admin,
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "event_types.0"


def test_an_unknown_webhook_is_a_404_problem(client: TestClient, admin: dict[str, str]) -> None:
    nobody = UUID(int=7)
    for response in (
        client.get(f"/v1/admin/webhooks/{nobody}", headers=admin),
        client.post(f"/v1/admin/webhooks/{nobody}/enable", headers=admin),
        client.delete(f"/v1/admin/webhooks/{nobody}", headers=admin),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM


def test_a_disabled_webhook_can_be_enabled_again(client: TestClient, admin: dict[str, str]) -> None:
    webhook = client.post("/v1/admin/webhooks", json={"url": HOOK}, headers=admin).json()["webhook"]

    disabled = client.delete(f"/v1/admin/webhooks/{webhook['id']}", headers=admin)
    enabled = client.post(f"/v1/admin/webhooks/{webhook['id']}/enable", headers=admin)

    assert disabled.json()["status"] == "disabled"
    assert enabled.json()["status"] == "active"


def test_max_attempts_must_be_a_whole_number_not_true(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/v1/admin/webhooks", json={"url": HOOK, "max_attempts": True}, headers=admin
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "max_attempts"
    assert client.get("/v1/admin/webhooks", headers=admin).json() == []
