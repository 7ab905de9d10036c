"""API tests: keys for the fixed cast, incidents of CA owners A and B (public and security-sensitive)."""

from __future__ import annotations

import pytest

from accounts import api_keys
from compliance.actions import incidents as act


@pytest.fixture
def make_key(db):
    """make_key(user, read_only=False) -> the plain key (as a client would hold it)."""

    def make(user, *, read_only=False, name="test key"):
        return api_keys.api_key_create(actor=user, name=name, read_only=read_only).plain

    return make


@pytest.fixture
def api(client):
    """api(method, path, key=None, **kw): a request with `Authorization: Token <key>` when key is given."""

    def call(method, path, key=None, **kw):
        headers = kw.pop("headers", {})
        if key is not None:
            headers["Authorization"] = f"Token {key}"
        return getattr(client, method.lower())(path, headers=headers, **kw)

    return call


@pytest.fixture
def make_incident(db):
    def make(owner, *, sensitive=False, title="Certificates with a bad OU", **kw):
        return act.incident_create(
            actor=None, ca_owner=owner, title=title, description=kw.pop("description", "What happened."),
            security_sensitive=sensitive, **kw,
        )

    return make


@pytest.fixture
def incidents(make_incident, owner_a, owner_b):
    """One public and one security-sensitive incident for each of CA owners A and B."""
    return {
        "public_a": make_incident(owner_a, title="Public A"),
        "secret_a": make_incident(owner_a, sensitive=True, title="Secret A"),
        "public_b": make_incident(owner_b, title="Public B"),
        "secret_b": make_incident(owner_b, sensitive=True, title="Secret B"),
    }


@pytest.fixture
def fresh_throttle(settings):
    """A private, empty rate-limit counter store, with limits the test sets through `settings`."""
    settings.CACHES = {
        **settings.CACHES,
        "api_throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"t-{id(settings)}"},
    }
    return settings
