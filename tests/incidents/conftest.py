"""Factories for incident tests: incidents of the fixed cast's CA owners, public and security-sensitive."""

from __future__ import annotations

import pytest

from compliance.actions import incidents as act


@pytest.fixture
def make_incident(db):
    def make(owner, *, sensitive=False, title="Certificates with a bad OU", actor=None, **kw):
        return act.incident_create(
            actor=actor, ca_owner=owner, title=title, description=kw.pop("description", "What happened."),
            security_sensitive=sensitive, **kw,
        )

    return make


@pytest.fixture
def public_a(make_incident, owner_a):
    return make_incident(owner_a, title="Public A")


@pytest.fixture
def secret_a(make_incident, owner_a):
    return make_incident(owner_a, sensitive=True, title="Secret A")


@pytest.fixture
def public_b(make_incident, owner_b):
    return make_incident(owner_b, title="Public B")


@pytest.fixture
def secret_b(make_incident, owner_b):
    return make_incident(owner_b, sensitive=True, title="Secret B")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The fixed cast is created with passwords in every test; PBKDF2 would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
