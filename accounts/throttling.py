"""Rate limits for REST clients: per API key and per client address.

Rates come from settings.API_RATE_LIMITS ({"key": "1000/hour", "address": "300/minute"}, set
from the environment; None turns a limit off) and are read on every request, so tests and
operators can change them without a restart of the module. Counting is a fixed window in the
"api_throttle" cache (Redis when REDIS_URL is set, so every web process shares the counts):
one atomic increment per request and limit. Over the limit, the API answers 429 with
Retry-After set to the seconds left in the window.

`check(request, key)` is the one entry point; the DRF throttle classes below wrap it for
/api/v1/, and the Bugzilla-compatible API and feeds call it directly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count} per {self.seconds} s"


def parse_rate(text: str | None) -> Rate | None:
    """'100/minute' -> Rate(100, 60); '' or None -> no limit. Raises ValueError on anything else."""
    if text is None or not str(text).strip():
        return None
    number, _, period = str(text).strip().partition("/")
    if not number.strip().isdigit() or int(number) < 1 or period.strip().lower() not in PERIODS:
        raise ValueError(f"{text!r} is not a rate: write '<count>/<second|minute|hour|day>', e.g. '300/minute'.")
    return Rate(int(number), PERIODS[period.strip().lower()])


def client_address(request) -> str:
    """The client's address; behind a TLS-terminating proxy, the one the proxy appended last."""
    meta = request.META
    # BEHIND_PROXY=1 is what sets SECURE_PROXY_SSL_HEADER: then the proxy's X-Forwarded-For is trusted.
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return meta.get("REMOTE_ADDR", "") or "unknown"


def _hit(scope: str, ident: str, rate: Rate) -> int | None:
    """Count one request; None if within the rate, else the seconds until the window ends."""
    cache = caches["api_throttle"]
    now = time.time()
    window = int(now // rate.seconds)
    cache_key = f"rl:{scope}:{ident}:{rate.seconds}:{window}"
    # add() creates the counter with an expiry; incr() is atomic in Redis and in the local-memory cache.
    cache.add(cache_key, 0, timeout=rate.seconds + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # the counter expired between add() and incr()
        cache.add(cache_key, 1, timeout=rate.seconds + 1)
        count = 1
    if count <= rate.count:
        return None
    return max(1, math.ceil((window + 1) * rate.seconds - now))


@dataclass(frozen=True)
class Verdict:
    scope: str  # "key" or "address"
    rate: Rate
    wait: int

    @property
    def message(self) -> str:
        who = "this API key" if self.scope == "key" else "your address"
        return (
            f"Rate limit exceeded for {who} ({self.rate.count} requests per {self.rate.seconds} seconds): "
            f"retry after {self.wait} seconds."
        )


def check(request, key=None) -> Verdict | None:
    """Count this request against its key (if any) and its address; a Verdict when over a limit."""
    limits = getattr(settings, "API_RATE_LIMITS", {}) or {}
    checks = []
    if key is not None:
        checks.append(("key", str(key.pk), parse_rate(limits.get("key"))))
    checks.append(("address", client_address(request), parse_rate(limits.get("address"))))
    for scope, ident, rate in checks:
        if rate is None:
            continue
        wait = _hit(scope, ident, rate)
        if wait is not None:
            return Verdict(scope=scope, rate=rate, wait=wait)
    return None


class ApiRateThrottle(BaseThrottle):
    """DRF throttle for /api/v1/: per key (request.auth is an ApiKey) and per address."""

    def allow_request(self, request, view):
        from accounts.models import ApiKey

        key = request.auth if isinstance(request.auth, ApiKey) else None
        self.verdict = check(request, key)
        if self.verdict is not None:
            # Kept on the request so the error handler can say which limit was hit.
            request._rate_verdict = self.verdict
            return False
        return True

    def wait(self):
        verdict = getattr(self, "verdict", None)
        return verdict.wait if verdict else None
