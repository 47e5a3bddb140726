"""Webhook targets: nothing on the service's own machine or network, in any spelling,
at registration and again at every delivery (DNS rebinding).

The DNS here is a table of the test's own (no lookup leaves the machine); a name that
is not in it does not resolve.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.api.v1.webhooks import target_rules
from service.follow.delivery import DeliveryPolicy
from service.follow.targets import TargetRules
from tests.factories import source_body
from tests.follow.conftest import DeliverPending, Webhooks
from tests.follow.servers import TEST_SECRET, Receiver

pytestmark = pytest.mark.settings(webhooks_allow_private_targets=False)

PUBLIC_ADDRESS = "93.184.215.14"  # never connected to: no test delivers to it


@dataclass
class TableDns:
    """A resolver answering from `names`; any other name does not resolve."""

    names: dict[str, list[str]] = field(default_factory=dict)

    def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.names[host]


@pytest.fixture
def dns(app: FastAPI) -> Iterator[TableDns]:
    table = TableDns(
        {
            "newsroom.example.org": [PUBLIC_ADDRESS],
            "intranet.example.net": ["10.0.0.5"],
            "half.example.net": [PUBLIC_ADDRESS, "192.168.1.20"],
            "metadata.example.net": ["169.254.169.254"],
            "v6.example.net": ["fd00:ec2::254"],
        }
    )
    app.dependency_overrides[target_rules] = lambda: TargetRules(resolve=table)
    yield table
    app.dependency_overrides.clear()


def assert_refused(response: Any, *words: str) -> None:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in problem["errors"]] == ["url"]
    for word in words:
        assert word in problem["detail"], problem["detail"]


REFUSED = {
    "loopback": "http://127.0.0.1/hook",
    "loopback-one-integer": "http://2130706433/hook",
    "loopback-hex": "http://0x7f000001/hook",
    "loopback-short": "http://127.1/hook",
    "loopback-octal": "http://0177.0.0.1/hook",
    "loopback-other": "http://127.8.9.10:8080/hook",
    "loopback-v6": "http://[::1]/hook",
    "loopback-v4-mapped": "http://[::ffff:127.0.0.1]/hook",
    "loopback-v4-compatible": "http://[::127.0.0.1]/hook",
    "loopback-6to4": "http://[2002:7f00:1::]/hook",
    "localhost": "http://localhost:8000/v1/admin/keys",
    "localhost-upper-dot": "http://LOCALHOST./hook",
    "localhost-subdomain": "http://api.localhost/hook",
    "metadata-address": "http://169.254.169.254/latest/meta-data/",
    "metadata-mapped": "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "metadata-name": "http://metadata.google.internal/computeMetadata/v1/",
    "private-10": "http://10.0.0.1/hook",
    "private-172": "http://172.16.0.1/hook",
    "private-192": "https://192.168.1.1/hook",
    "shared-address-space": "http://100.64.0.1/hook",
    "unique-local": "http://[fd00:ec2::254]/hook",
    "link-local-v6": "http://[fe80::1]/hook",
    "unspecified": "http://0.0.0.0/hook",
    "unspecified-v6": "http://[::]/hook",
    "multicast": "http://224.0.0.1/hook",
    "multicast-v6": "http://[ff02::1]/hook",
    "reserved": "http://240.0.0.1/hook",
    "documentation": "http://192.0.2.1/hook",
    "single-label": "http://intranet/hook",
    "mdns": "http://printer.local/hook",
}


@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_a_target_on_the_services_own_machine_or_network_is_refused_naming_url(
    client: TestClient, admin: dict[str, str], webhooks: Webhooks, dns: TableDns, url: str
) -> None:
    response = webhooks.register(url)

    assert_refused(response, "refused")
    assert client.get("/v1/admin/webhooks", headers=admin).json() == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://intranet.example.net/hook", "private address (10.0.0.5)"),
        ("https://metadata.example.net/hook", "link-local address (169.254.169.254)"),
        ("https://v6.example.net/hook", "unique-local address (fd00:ec2::254)"),
        ("https://half.example.net/hook", "private address (192.168.1.20)"),
    ],
    ids=["private", "metadata", "unique-local-v6", "one-of-two-addresses"],
)
def test_a_name_resolving_to_a_refused_address_is_refused(
    webhooks: Webhooks, dns: TableDns, url: str, reason: str
) -> None:
    assert_refused(webhooks.register(url), reason)


def test_a_name_that_does_not_resolve_is_refused(webhooks: Webhooks, dns: TableDns) -> None:
    assert_refused(webhooks.register("https://typo.example.org/hook"), "does not resolve")


@pytest.mark.parametrize(
    "url",
    ["https://user:pass@newsroom.example.org/hook", "https://token@newsroom.example.org/hook"],
    ids=["user-and-password", "user-only"],
)
def test_a_url_with_credentials_is_refused(webhooks: Webhooks, dns: TableDns, url: str) -> None:
    assert_refused(webhooks.register(url), "user name or password")


@pytest.mark.parametrize(
    "url",
    ["https://newsroom.example.org/ledger-hook", f"http://{PUBLIC_ADDRESS}:8443/hook"],
    ids=["public-name", "public-address"],
)
def test_a_public_target_is_accepted(webhooks: Webhooks, dns: TableDns, url: str) -> None:
    response = webhooks.register(url)

    assert response.status_code == 201, response.text
    assert response.json()["webhook"]["url"] == url


@pytest.mark.settings(webhooks_allow_private_targets=True)
def test_the_development_setting_allows_private_targets_but_never_credentials(
    webhooks: Webhooks,
) -> None:
    assert webhooks.register("http://127.0.0.1:9/hook").status_code == 201
    assert webhooks.register("http://localhost:9/hook").status_code == 201
    assert_refused(webhooks.register("http://user:pass@127.0.0.1:9/hook"), "password")


def test_a_name_that_comes_to_resolve_to_loopback_gets_nothing_and_the_webhook_is_parked(
    client: TestClient,
    admin: dict[str, str],
    webhooks: Webhooks,
    writer: dict[str, str],
    dns: TableDns,
    receiver: Receiver,
    deliver_pending: DeliverPending,
) -> None:
    # given a webhook to a name that was public when registered
    port = receiver.url.split(":")[2].split("/")[0]
    dns.names["rebind.example.net"] = [PUBLIC_ADDRESS]
    created = webhooks.register(f"http://rebind.example.net:{port}/hook")
    assert created.status_code == 201, created.text
    webhook_id = created.json()["webhook"]["id"]
    client.post("/v1/events", json=source_body(), headers=writer)

    # when the name now resolves to the receiver on loopback (DNS rebinding)
    dns.names["rebind.example.net"] = ["127.0.0.1"]
    policy = DeliveryPolicy(secret_key=TEST_SECRET)
    assert deliver_pending(policy, targets=TargetRules(resolve=dns)) == 1

    # then nothing reached it, the webhook is parked, and its error names no port
    assert receiver.received() == []
    status = webhooks.status(webhook_id)
    assert (status["status"], status["pending_deliveries"]) == ("failing", 1)
    assert "loopback address (127.0.0.1)" in status["last_error"]
    assert port not in status["last_error"]

    # and re-enabling it is refused while the name leads there
    enabled = client.post(f"/v1/admin/webhooks/{webhook_id}/enable", headers=admin)
    assert_refused(enabled, "loopback")


@pytest.mark.settings(webhooks_allow_private_targets=True)
def test_a_failed_connection_is_reported_without_the_systems_words_or_the_port(
    client: TestClient,
    webhooks: Webhooks,
    writer: dict[str, str],
    deliver_pending: DeliverPending,
) -> None:
    """An open port and a closed one must not be told apart by `last_error`."""
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    created = webhooks.register(f"http://127.0.0.1:{port}/hook")
    client.post("/v1/events", json=source_body(), headers=writer)
    policy = DeliveryPolicy(allow_private_targets=True, secret_key=TEST_SECRET)
    deliver_pending(policy)

    error = webhooks.status(created.json()["webhook"]["id"])["last_error"]
    assert error == "ConnectError: the receiver was not reached"
    assert port not in error
