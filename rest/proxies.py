"""Who the client is: the socket peer, or behind trusted proxies the right-most address of
`X-Forwarded-For` that no trusted proxy owns (VISAPI_TRUSTED_PROXIES).

Anyone can send `X-Forwarded-For`; only a proxy we run appends to it honestly, so the header is
read only when the peer is one of ours, and from the right: each trusted hop appended the
address it saw, and the first address that is not ours is the client. Whatever lies to its left
was written by the client itself. With no trusted proxies (the default) the header is never
read: uvicorn's own default trusted loopback, so any process on the host (a local service an
attacker can make send requests, too) could name any client and walk out of its limits.

uvicorn applies the same rule (`serve` passes it the networks as `forwarded_allow_ips`), so
`request.client` is right everywhere; the gate applies it again, which changes nothing behind
uvicorn (its answer is an address we do not trust) and keeps the rule under any other server.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # settings import this module: keep it light
    from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOST = 64  # a non-address hop (RFC 7239 "unknown", say) names a rate-limit bucket


def parse_networks(raw: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR networks; ValueError naming the first bad one."""
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            # strict: 10.1.2.3/8 is more likely a typo than 10.0.0.0/8, so say so.
            networks.append(ipaddress.ip_network(item))
        except ValueError as exc:
            raise ValueError(f"{item!r} is not an IP address or CIDR network ({exc})") from None
    return tuple(networks)


def client_address(scope: Scope, trusted: Sequence[Network]) -> str:
    peer = str((scope.get("client") or ("unknown",))[0])
    if not trusted or not _ours(peer, trusted):
        return peer
    values = [value for name, value in scope["headers"] if name == b"x-forwarded-for"]
    hops = [h.strip() for h in b",".join(values).decode("latin-1").split(",") if h.strip()]
    for hop in reversed(hops):
        host = _host(hop)
        if not _ours(host, trusted):
            return host[:MAX_HOST]
    # Every hop is ours: the request came from a proxy itself (uvicorn picks the left-most).
    return _host(hops[0])[:MAX_HOST] if hops else peer


def _host(hop: str) -> str:
    """The address of a hop written `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:5678`."""
    if hop.startswith("["):
        return hop[1:].partition("]")[0]
    if hop.count(":") == 1:
        return hop.partition(":")[0]
    return hop


def _ours(host: str, trusted: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in trusted)
