"""The demo incidents load on top of the demo CA owners and users, and again without duplicates."""

from __future__ import annotations

import io

import pytest

from compliance.models import Comment, Incident, Question, ReportVersion
from registry.models import CAOwner


@pytest.mark.django_db
def test_demo_incidents_load_real_bugs_of_demo_owners_and_worked_examples_once():
    from accounts import demo as account_demo
    from compliance import demo as demo_incidents

    for name in ("DigiCert", "Sectigo", "Let's Encrypt"):
        CAOwner.objects.get_or_create(name=name)
    account_demo.load(io.StringIO())
    out = io.StringIO()
    demo_incidents.load(out)
    real = Incident.objects.filter(imported_at__isnull=False)
    assert real.count() == real.exclude(ca_owner=None).count() >= 125 + 94 + 38
    assert Incident.objects.filter(title__endswith="(demo)").count() == 3
    assert Question.objects.exists() and ReportVersion.objects.exists()
    assert Comment.objects.filter(is_private=True).exists()
    assert Incident.objects.filter(title__endswith="(demo)", security_sensitive=True).count() == 1
    before = (Incident.objects.count(), Comment.objects.count())
    demo_incidents.load(io.StringIO())
    assert (Incident.objects.count(), Comment.objects.count()) == before
    assert "worked examples" in out.getvalue()
