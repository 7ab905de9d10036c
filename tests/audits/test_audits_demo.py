"""The audits demo loads for present CA owners, skips absent ones, and keeps rows when run again."""

from io import StringIO

import pytest

from audits import demo
from audits.models import AuditStatement

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_skips_absent_owners(staff, rep_a):
    from registry.models import CAOwner

    owner = CAOwner.objects.create(name="DigiCert")
    rep_a.represented_owners.add(owner)
    out = StringIO()
    demo.load(out)
    assert AuditStatement.objects.filter(ca_owner=owner).count() == 4
    assert "Sectigo: not in the registry, skipped" in out.getvalue()
    pending = AuditStatement.objects.get(ca_owner=owner, source="ca")
    assert pending.submitted_by == rep_a and pending.verification == "pending"
    demo.load(StringIO())
    assert AuditStatement.objects.count() == 4
