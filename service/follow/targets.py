"""Which URLs a webhook may POST to: public http(s) hosts, never the service's own network.

A webhook makes the service send requests on an admin's behalf. Left open, it reaches
what only the server can reach: its loopback, the private network, the cloud's
metadata endpoint (`169.254.169.254`). So a target is refused when its host is, or
resolves to, any address that is not a public unicast one, whatever the spelling
(`2130706433`, `0x7f000001`, `127.1`, `[::ffff:127.0.0.1]`). It is checked when the
webhook is registered and again at every connection (`guarded_http.py`): a name that
resolved to a public address then may resolve to `127.0.0.1` now (DNS rebinding).

`LEDGER_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true` lifts the address rules, for development
and tests with a receiver on the same machine.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from service.domain.errors import LedgerError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

Resolver = Callable[[str, int], Sequence[str]]
"""(host, port) → the addresses the host resolves to; OSError when it resolves to none."""

SCHEMES = {"http": 80, "https": 443}

# Names that mean "this machine" or "this network" however DNS answers for them
# (RFC 6761, RFC 8375, ICANN's `.internal`), the cloud metadata names among them.
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")
_LOCAL_NAMES = {"localhost", "localhost.localdomain"}


class RefusedTarget(LedgerError):
    """A webhook URL the service will not send to; `reason` never names a port."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The webhook URL is refused: {reason}.", pointer=("url",))
        self.reason = reason


class UnresolvedTarget(RefusedTarget):
    """The host resolves to nothing (now): refused at registration, retried at delivery."""


def resolve_with_dns(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in found})


@dataclass(frozen=True)
class TargetRules:
    """Checks webhook targets; `resolve` is the DNS (a test passes a table of its own)."""

    allow_private: bool = False
    resolve: Resolver = field(default=resolve_with_dns)

    def check_url(self, url: str) -> None:
        """Refuse a URL whose form or host's addresses are not allowed (`RefusedTarget`)."""
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise RefusedTarget("only http and https URLs are delivered to")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise RefusedTarget("a URL may not carry a user name or password (user:pass@)")
        if not parts.hostname:
            raise RefusedTarget("the URL has no host")
        if not self.allow_private:
            self.addresses(parts.hostname, parts.port or SCHEMES[parts.scheme])

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to for `host`, each one public; else `RefusedTarget`.

        Every address the name resolves to must be allowed, not only the first: a
        client may connect to any of them."""
        host = host.strip("[]").rstrip(".").lower()
        literal = ip_literal(host)
        if literal is not None:
            _refuse_address(literal)
            return [literal]
        if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
            raise RefusedTarget(f"{host} names the service's own machine or network")
        if "." not in host:
            raise RefusedTarget(f"{host} is a single-label name, of a machine on a local network")
        found = [ipaddress.ip_address(a) for a in self._lookup(host, port)]
        for address in found:
            _refuse_address(address, host)
        return found

    def _lookup(self, host: str, port: int) -> Sequence[str]:
        try:
            found = self.resolve(host, port)
        except (OSError, UnicodeError):
            found = ()
        if not found:
            raise UnresolvedTarget(f"{host} does not resolve to any address")
        return found


def ip_literal(host: str) -> IPAddress | None:
    """The address a host written as a number means, in any spelling a resolver accepts:
    dotted (`127.0.0.1`), short (`127.1`), one integer (`2130706433`), hex
    (`0x7f000001`), octal (`0177.0.0.1`), or IPv6 (`::1`, `::ffff:7f00:1`)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not host or not all(c in "0123456789abcdefx." for c in host) or not host[0].isdigit():
        return None
    try:
        # inet_aton reads every legacy IPv4 form; getaddrinfo would read them alike.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def refusal(address: IPAddress) -> str | None:
    """Why an address may not be a webhook's target; None for a public unicast one."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return refusal(embedded)
    checks: list[tuple[bool, str]] = [
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (isinstance(address, ipaddress.IPv6Address) and address in _UNIQUE_LOCAL, "unique-local"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local, "site-local"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not public"),
    ]
    return next((reason for failed, reason in checks if failed), None)


_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and leads to: mapped (`::ffff:a.b.c.d`),
    compatible (`::a.b.c.d`) or 6to4 (`2002:AABB:CCDD::`)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d, but not :: or ::1
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _refuse_address(address: IPAddress, host: str | None = None) -> None:
    reason = refusal(address)
    if reason is not None:
        named = f"{host} resolves to" if host else "the host is"
        raise RefusedTarget(f"{named} a {reason} address ({address})")
