"""Bugzilla-API tests: incidents of CA owners A and B, a rich one with comments, a needinfo and history."""

from __future__ import annotations

import pytest

from accounts import api_keys
from compliance.actions import incidents as act


@pytest.fixture
def make_key(db):
    def make(user, *, read_only=True, name="bugzilla client"):
        return api_keys.api_key_create(actor=user, name=name, read_only=read_only).plain

    return make


@pytest.fixture
def bugs(db, staff, rep_a, owner_a, owner_b):
    """public_a (whiteboard, comments incl. a private one, an open needinfo, history), secret_a, public_b, secret_b."""
    make = lambda owner, title, sensitive=False, **kw: act.incident_create(  # noqa: E731
        actor=None, ca_owner=owner, title=title, description=f"Description of {title}.", security_sensitive=sensitive, **kw
    )
    public_a = make(owner_a, "OCSP responder returned unknown", whiteboard="[ca-compliance] [ocsp-failure]")
    secret_a = make(owner_a, "Key compromise of an issuing CA", sensitive=True)
    public_b = make(owner_b, "Late audit statement", whiteboard="[ca-compliance] [audit-delay]")
    secret_b = make(owner_b, "Private key found in a repository", sensitive=True)
    act.comment_create(actor=rep_a, incident=public_a, body="Preliminary: we are investigating.")
    act.comment_create(actor=staff, incident=public_a, body="Staff-only note about the CA.", is_private=True)
    act.question_ask(actor=staff, incident=public_a, body="When will the responder be fixed?")
    act.incident_update(actor=staff, incident=public_a, whiteboard="[ca-compliance] [ocsp-failure] Next update 2030-01-15")
    for incident in (public_a, secret_a, public_b, secret_b):
        incident.refresh_from_db()
    return {"public_a": public_a, "secret_a": secret_a, "public_b": public_b, "secret_b": secret_b}
