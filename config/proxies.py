"""The client's address, read the one way every place that needs it reads it: rate limits, sign-in
throttling, the access log.

X-Forwarded-For is written by whoever sends the request, so it is believed only as far as it is
known to come from proxies of this deployment: with BEHIND_PROXY=1, when the connecting peer
(REMOTE_ADDR) is one of TRUSTED_PROXIES, the address TRUSTED_PROXY_COUNT hops from the right of
the header is the client (each proxy appends the address it received from; anything a client
put further left is ignored). A client that reaches the app directly is its REMOTE_ADDR, whatever
header it sends. Takes request.META or a WSGI environ; imports no app.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(meta: Mapping[str, str]) -> str:
    peer = meta.get("REMOTE_ADDR", "") or "unknown"
    hops = settings.TRUSTED_PROXY_COUNT if settings.BEHIND_PROXY else 0
    if hops < 1 or not is_trusted_proxy(peer):
        return peer
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return peer
    # Fewer entries than proxies: the request skipped the outer ones, and the leftmost entry was
    # appended by a proxy of this deployment.
    return forwarded[-hops] if len(forwarded) >= hops else forwarded[0]
