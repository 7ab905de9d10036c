"""Feeds and exports: incidents of CA owners A and B, public and security-sensitive, with comments."""

from __future__ import annotations

import pytest

from accounts import api_keys
from compliance.actions import incidents as act


@pytest.fixture
def make_key(db):
    def make(user, *, read_only=True):
        return api_keys.api_key_create(actor=user, name="feed reader", read_only=read_only).plain

    return make


@pytest.fixture
def incidents(db, staff, rep_a, owner_a, owner_b):
    make = lambda owner, title, sensitive=False, **kw: act.incident_create(  # noqa: E731
        actor=None, ca_owner=owner, title=title, description=f"About {title}.", security_sensitive=sensitive, **kw
    )
    found = {
        "public_a": make(owner_a, "Public A", whiteboard="[ca-compliance] [crl-failure]"),
        "secret_a": make(owner_a, "Secret A", sensitive=True),
        "public_b": make(owner_b, "Public B", whiteboard="[ca-compliance] [audit-delay]"),
        "secret_b": make(owner_b, "Secret B", sensitive=True),
    }
    act.comment_create(actor=rep_a, incident=found["public_a"], body="A public update.")
    act.comment_create(actor=staff, incident=found["public_a"], body="PRIVATE staff remark.", is_private=True)
    return found
