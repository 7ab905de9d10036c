"""Fixtures for the distrust tests; the factories they use are in distrust_helpers.py."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.distrust.distrust_helpers import Scenario, build_registry


@pytest.fixture
def scenario(db) -> Scenario:
    return build_registry()


@pytest.fixture
def incident(db, owner_a):
    from compliance.models import Incident

    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    return Incident.objects.create(number=1900001, ca_owner=owner_a, title="Acme Trust: intermediate key compromise",
                                   first_disclosed_at=now, created_at=now, updated_at=now)


@pytest.fixture
def make_action(staff, incident):
    from distrust import actions

    def make(**kw):
        kw.setdefault("title", "Distrust the Acme issuing CA")
        kw.setdefault("incident_numbers", [incident.number])
        kw.setdefault("reported_by", "A security researcher")
        kw.setdefault("reported_on", date(2025, 3, 1))
        kw.setdefault("bug", "1900001")
        return actions.action_create(actor=staff, **kw)

    return make


