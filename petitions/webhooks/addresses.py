"""Which network addresses a webhook may reach: one rule, used at registration and delivery.

A webhook makes our worker open a connection wherever an organiser says, so an address that
leads inside our own network (or the cloud provider's metadata service) must never be called.
:func:`refusal` is the rule. It refuses anything that is not a plain public unicast address:

* private, loopback, link-local, multicast, reserved, unspecified, shared (CGNAT) and
  documentation ranges, i.e. anything :mod:`ipaddress` does not call global;
* IPv6 addresses that carry an IPv4 address inside them — IPv4-mapped (``::ffff:a.b.c.d``),
  NAT64 (``64:ff9b::/96``), 6to4 (``2002::/16``) and Teredo (``2001::/32``) — are judged by the
  IPv4 address inside: a NAT64 gateway turns ``64:ff9b::a00:1`` into ``10.0.0.1``, refused,
  while ``64:ff9b::808:808`` is 8.8.8.8, allowed. The deprecated IPv4-compatible ``::a.b.c.d``
  and the local-use NAT64 prefix ``64:ff9b:1::/48`` are refused outright.

It runs twice, with the same function:

* **at registration** (:func:`check_host`): an IP-literal host, ``localhost``, or a name that
  resolves to a refused address is refused with a clear message. A name that does not resolve
  now is accepted (DNS may not be set up yet); delivery decides;
* **at delivery**, on the address the socket actually connected to (:func:`public_connection`,
  used by the webhook opener), after DNS and before a byte is sent. There is no gap between
  checking a name and connecting to it, so DNS rebinding (a name that answers with a public
  address to the check and a private one to the connection) gets nowhere.

Proxies from the environment are not used for webhook calls, since the peer to check would be
the proxy.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated; also holds :: and ::1
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


class RefusedAddress(OSError):
    """The connection would reach an address webhooks must not call."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a translator or tunnel would really reach for this IPv6 address."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)  # (server, client): both are IPv4 addresses
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def refusal(address: IPAddress | str) -> str | None:
    """Why a webhook must not connect to this address, else None."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    except ValueError:
        return "the address is not an IP address"
    if ip.is_loopback:
        return "the address is this machine (loopback)"
    if ip.is_unspecified:
        return "the address is reserved"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded:
            # Decided by where the packets really go (NAT64 64:ff9b::a00:1 is 10.0.0.1).
            if any(refusal(inner) is not None for inner in embedded):
                return "the address points to a private network (an IPv4 address inside IPv6)"
            return None
        if ip in _IPV4_COMPATIBLE:
            return "the address is reserved"
    if ip.is_multicast:
        return "the address is a multicast address"
    if ip.is_link_local:
        return "the address is link-local"
    if ip.is_reserved:
        return "the address is reserved"
    if ip.is_private or not ip.is_global:
        return "the address points to a private network"
    return None


def check_host(host: str) -> str | None:
    """Registration: why a URL with this host must be refused now, else None."""
    name = (host or "").strip().rstrip(".").lower()
    if not name:
        return "the address has no host"
    try:
        literal: IPAddress | None = ipaddress.ip_address(name.strip("[]").split("%", 1)[0])
    except ValueError:
        literal = None
    if literal is not None:
        return refusal(literal)
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        return "the host is a local name"
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return None  # not resolvable now: delivery checks the address it actually reaches
    for info in infos:
        reason = refusal(str(info[4][0]))
        if reason:
            return reason.replace("the address", "the host resolves to an address that", 1)
    return None


def check_peer(sock: socket.socket) -> None:
    """Delivery: close the socket and raise unless its connected peer may be called."""
    peer = sock.getpeername()[0]
    reason = refusal(str(peer))
    if reason:
        sock.close()
        raise RefusedAddress(f"refused: {reason}")


def public_connection(
    address: tuple[str, int],
    timeout: float | None = None,
    source_address: tuple[str, int] | None = None,
    *args: Any,
    **kwargs: Any,
) -> socket.socket:
    """``socket.create_connection`` that only ever connects to an address :func:`refusal` allows.

    The name is resolved once; each answer is checked before connecting to exactly it, and the
    connected peer is checked again. Nothing is ever sent to, nor a connection opened with, a
    refused address, and what was checked is what is connected to.
    """
    host, port = address[0], address[1]
    reasons: list[str] = []
    last_error: OSError | None = None
    for family, kind, proto, _name, sockaddr in socket.getaddrinfo(
        host, port, 0, socket.SOCK_STREAM
    ):
        reason = refusal(str(sockaddr[0]))
        if reason:
            reasons.append(reason)
            continue
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        check_peer(sock)
        return sock
    if last_error is not None:
        raise last_error
    raise RefusedAddress(f"refused: {reasons[0] if reasons else 'the host has no address'}")
