"""Factories and a real SMTP server on loopback for the reminders tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.notifications.notif_support import NOW


@pytest.fixture
def make_incident(db):
    from compliance.models import Incident

    counter = {"n": 1900000}

    def make(owner, *, disclosed: datetime | None = None, **kwargs):
        counter["n"] += 1
        disclosed = disclosed or NOW - timedelta(days=4)
        fields = dict(
            number=counter["n"], ca_owner=owner, title=f"{owner.name if owner else 'Unknown'}: test {counter['n']}",
            status=Incident.Status.ASSIGNED, first_disclosed_at=disclosed, created_at=disclosed, updated_at=disclosed,
        )
        fields.update(kwargs)
        return Incident.objects.create(**fields)

    return make
