"""Where a webhook may be sent: the SSRF guard, applied when an endpoint is saved and again before every send.

A tenant chooses the URL, so without this guard any admin could make the server POST to its own
loopback services, the cloud metadata endpoint (169.254.169.254) or the company's internal network.
The name is resolved and *every* address must be public; the sender then connects to one of exactly
these addresses, so a DNS answer that changes between check and connect (rebinding) cannot slip past.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

ALLOWED_SCHEMES = ("http", "https")
_LEGACY_IPV4_CHARACTERS = set("0123456789abcdefx.")


class TargetRefused(ValueError):
    """The URL may not receive webhooks; the message says why in words an admin can act on."""


@dataclass(frozen=True, slots=True)
class Target:
    url: httpx.URL
    addresses: tuple[IPAddress, ...]

    def pinned_request(self) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
        """URL, extra headers and httpx extensions that reach the checked address, not a fresh DNS answer.

        The Host header and TLS SNI keep the original name, so virtual hosts and certificate checks
        behave exactly as for a normal request."""
        address = self.addresses[0]
        headers = {"Host": self.url.netloc.decode("ascii")}
        extensions = {"sni_hostname": self.url.host} if self.url.scheme == "https" else {}
        return self.url.copy_with(host=str(address)), headers, extensions


def resolve_host(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def check_target(url: str, *, allow_private: bool, resolve: Resolver = resolve_host) -> Target:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise TargetRefused("the webhook URL is not a valid URL") from None
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise TargetRefused(f"webhook URLs must use http or https, not {parsed.scheme or 'no scheme'!r}")
    if not parsed.host:
        raise TargetRefused("the webhook URL has no host name")
    if parsed.userinfo:
        # Credentials in the URL would end up in logs and admin screens; receivers verify signatures instead.
        raise TargetRefused("the webhook URL must not contain a user name or password")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = _addresses(parsed.host, port, resolve)
    if not allow_private:
        for address in addresses:
            reason = _non_public_reason(address)
            if reason is not None:
                raise TargetRefused(
                    f"the webhook host {parsed.host!r} resolves to {address}, which is not a public "
                    f"internet address ({reason}); webhooks are only sent to public addresses"
                )
    return Target(parsed, addresses)


def _addresses(host: str, port: int, resolve: Resolver) -> tuple[IPAddress, ...]:
    literal = _literal_address(host)
    if literal is not None:
        return (literal,)
    try:
        found = tuple(ipaddress.ip_address(raw.split("%", 1)[0]) for raw in resolve(host, port))
    except (OSError, UnicodeError):
        raise TargetRefused(f"the webhook host {host!r} cannot be resolved") from None
    if not found:
        raise TargetRefused(f"the webhook host {host!r} cannot be resolved")
    return found


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    # The C resolver also accepts the legacy forms `0x7f000001`, `2130706433`, `127.1` and `0177.0.0.1`;
    # read them the way it will, so the check sees the address the connection would really reach.
    if set(host.lower()) <= _LEGACY_IPV4_CHARACTERS:
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _non_public_reason(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:127.0.0.1 is delivered to 127.0.0.1 by a dual-stack socket.
        return _non_public_reason(address.ipv4_mapped)
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    )
    for reason, applies in checks:
        if applies:
            return reason
    # Carrier-grade NAT (100.64/10), documentation ranges and the like are neither private nor global.
    return None if address.is_global else "non-public"
