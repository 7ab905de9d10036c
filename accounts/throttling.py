"""Rate limits for REST clients: per API key and per client address.

Rates come from settings.API_RATE_LIMITS ({"key": "1000/hour", "address": "300/minute"}, set
from the environment; None turns a limit off) and are read on every request, so tests and
operators can change them without a restart of the module. Counting is a fixed window in the
"api_throttle" cache (Redis when REDIS_URL is set, so every web process shares the counts):
one atomic increment per request and limit. Over the limit, the API answers 429 with
Retry-After set to the seconds left in the window.

`check(request, key)` is the one entry point; the DRF throttle classes below wrap it for
/api/v1/, and the Bugzilla-compatible API, the feeds and the CSV export call it directly.

Sign-in and password-reset throttling (below) count in the same cache: failed sign-ins per
account and per address, reset requests per e-mail and per address.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from config import proxies

logger = logging.getLogger(__name__)
CACHE_RETRY_AFTER = 10
_cache_down_until = 0.0


def fail_open(default):
    """The counters are a guard, not a gate: while Redis refuses or hangs (its client gives up after
    the short socket timeouts in settings.CACHES["api_throttle"]), a request is let through and the
    outage is logged, so the API and sign-in keep answering instead of 500s or 30 s hangs."""

    def wrap(fn):
        @functools.wraps(fn)
        def guarded(*args, **kwargs):
            global _cache_down_until
            if time.monotonic() < _cache_down_until:
                return default() if callable(default) else default
            try:
                return fn(*args, **kwargs)
            except (RedisError, OSError) as exc:
                # One timeout, then CACHE_RETRY_AFTER seconds without asking: a request never waits twice.
                _cache_down_until = time.monotonic() + CACHE_RETRY_AFTER
                logger.warning("rate limiting skipped for %s s: its cache does not answer (%s)", CACHE_RETRY_AFTER, exc)
                return default() if callable(default) else default

        return guarded

    return wrap


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
    """The client's address, as config.proxies reads it (X-Forwarded-For only from trusted proxies)."""
    return proxies.client_address(request.META)


@fail_open(None)
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


# ---------------------------------------------------------------- sign-in and password reset
#
# Failed sign-ins are counted per account and per address in the same cache (Redis when
# REDIS_URL is set). At SIGNIN_MAX_FAILURES within SIGNIN_WINDOW_SECONDS of the first one, every
# sign-in for that account, or from that address, is refused until the window ends, the right
# password included: a guesser must not learn which guess was right. Enforced by an
# authentication backend placed before ModelBackend, so the admin's sign-in is covered too.


def _ident(text: str) -> str:
    # Cache keys of a fixed shape whatever a client typed as a user name.
    return hashlib.sha256(text.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()[:32]


@fail_open(lambda: (0, time.time()))
def _window_count(cache_key: str, seconds: int) -> tuple[int, float]:
    """The count under cache_key and when its window ends (0, now if none)."""
    cache = caches["api_throttle"]
    values = cache.get_many([cache_key, cache_key + ":ends"])
    return int(values.get(cache_key) or 0), float(values.get(cache_key + ":ends") or time.time())


@fail_open(0)
def _count(cache_key: str, seconds: int) -> int:
    cache = caches["api_throttle"]
    if cache.add(cache_key + ":ends", time.time() + seconds, timeout=seconds):
        cache.set(cache_key, 0, timeout=seconds)
    cache.add(cache_key, 0, timeout=seconds)
    try:
        return cache.incr(cache_key)
    except ValueError:  # the window ended between add() and incr()
        cache.add(cache_key, 1, timeout=seconds)
        return 1


def _signin_keys(request, username: str) -> list[str]:
    keys = [f"signin:account:{_ident(username)}"]
    if request is not None:
        keys.append(f"signin:address:{_ident(client_address(request))}")
    return keys


def signin_wait(request, username: str) -> int | None:
    """Seconds until this account and address may try again, or None if they may now."""
    limit, seconds = settings.SIGNIN_MAX_FAILURES, settings.SIGNIN_WINDOW_SECONDS
    waits = []
    for cache_key in _signin_keys(request, username):
        count, ends = _window_count(cache_key, seconds)
        if count >= limit:
            waits.append(max(1, math.ceil(ends - time.time())))
    return max(waits) if waits else None


def signin_failed(request, username: str) -> None:
    for cache_key in _signin_keys(request, username):
        _count(cache_key, settings.SIGNIN_WINDOW_SECONDS)


@fail_open(None)
def signin_succeeded(request, username: str) -> None:
    """A right password below the limit clears the account's failures (the address keeps its count)."""
    caches["api_throttle"].delete_many([f"signin:account:{_ident(username)}", f"signin:account:{_ident(username)}:ends"])


def signin_refusal(wait: int) -> str:
    minutes = max(1, math.ceil(wait / 60))
    return (
        f"Too many failed sign-ins for this account or from your address: sign-in is paused for "
        f"{minutes} minute{'s' if minutes != 1 else ''} (retry after {wait} seconds), even with the right "
        "password. If you forgot your password, reset it."
    )


class SignInThrottle(ModelBackend):
    """Django's ModelBackend, refusing while the account or the address is paused. First in
    AUTHENTICATION_BACKENDS (so sessions and force_login use it); the plain ModelBackend stays
    listed for sessions made before, and is never asked a password a second time: a refusal here
    is a PermissionDenied, which stops Django trying the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        wait = signin_wait(request, username)
        if wait is not None:
            if request is not None:
                request.signin_wait = wait
            raise PermissionDenied(signin_refusal(wait))
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            raise PermissionDenied("Wrong user name or password.")
        return user


def password_reset_wait(request, email: str) -> int | None:
    """Count one reset request for this address and this e-mail; seconds to wait if over the limit."""
    limit, seconds = settings.PASSWORD_RESET_MAX, settings.PASSWORD_RESET_WINDOW_SECONDS
    waits = []
    for cache_key in (f"reset:email:{_ident(email)}", f"reset:address:{_ident(client_address(request))}"):
        count = _count(cache_key, seconds)
        if count > limit:
            waits.append(max(1, math.ceil(_window_count(cache_key, seconds)[1] - time.time())))
    return max(waits) if waits else None
