"""Who sees and changes which statements and auditors: including everyone who must be refused."""

from __future__ import annotations

from datetime import date

import pytest

from audits.models import AuditStatement

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_a(owner_a, rep_a, make_statement):
    """Acme's pending statement, provided by Acme's representative."""
    return make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), actor=rep_a, source="ca")


def test_other_cas_rep_cannot_see_a_pending_statement_anywhere(pending_a, rep_b, client_for):
    c = client_for(rep_b)
    assert c.get(f"/audits/statements/{pending_a.pk}/").status_code == 404
    assert c.get(f"/audits/statements/{pending_a.pk}/file/").status_code == 404
    assert str(pending_a.pk) not in [r["id"] for r in c.get("/api/v1/audits/").json()["results"]]
    assert c.get("/api/v1/audits/").json()["count"] == 0
    assert c.get(f"/api/v1/audits/{pending_a.pk}/").status_code == 404
    page = c.get(f"/audits/ca/{pending_a.ca_owner_id}/")
    assert page.status_code == 200 and f"/audits/statements/{pending_a.pk}/".encode() not in page.content
    findings = c.get(f"/api/v1/cas/{pending_a.ca_owner_id}/audit-findings/").json()["findings"]
    assert all(pending_a.pk not in f["statements"] for f in findings)
    index = c.get("/audits/")
    assert f"/audits/statements/{pending_a.pk}/".encode() not in index.content


def test_other_cas_rep_cannot_change_a_pending_statement(pending_a, rep_b, client_for):
    c = client_for(rep_b)
    assert c.get(f"/audits/statements/{pending_a.pk}/edit/").status_code == 404
    response = c.post(f"/audits/statements/{pending_a.pk}/edit/", {"period_start": "2020-01-01"})
    assert response.status_code == 404
    pending_a.refresh_from_db()
    assert pending_a.period_start == date(2024, 1, 1)


def test_other_cas_rep_cannot_submit_for_another_ca(owner_a, rep_b, client_for):
    c = client_for(rep_b)
    assert c.get(f"/audits/ca/{owner_a.pk}/statements/new/").status_code == 403
    response = c.post("/api/v1/audits/", {
        "ca_owner": owner_a.pk, "auditor_name": "X", "period_start": "2024-01-01", "period_end": "2024-12-31",
        "statement_date": "2025-01-31", "url": "https://x.test/a.pdf", "criteria": [{"key": "webtrust-ca"}],
    }, content_type="application/json")
    assert response.status_code == 403
    assert AuditStatement.objects.count() == 0


def test_reviewer_and_anonymous_cannot_see_pending_statements(pending_a, reviewer, client_for):
    for user in (reviewer, None):
        c = client_for(user)
        assert c.get(f"/audits/statements/{pending_a.pk}/").status_code == 404
        assert c.get("/api/v1/audits/").json()["count"] == 0


def test_own_rep_and_staff_see_and_own_rep_edits_the_pending_statement(pending_a, rep_a, staff, client_for):
    for user in (rep_a, staff):
        c = client_for(user)
        assert c.get(f"/audits/statements/{pending_a.pk}/").status_code == 200
        assert c.get("/api/v1/audits/").json()["count"] == 1
    assert client_for(rep_a).get(f"/audits/statements/{pending_a.pk}/edit/").status_code == 200


def test_ca_rep_cannot_change_a_statement_once_it_counts(owner_a, rep_a, staff, make_statement, client_for):
    from audits import actions
    from config.errors import NotPermitted

    statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), actor=rep_a, source="ca")
    actions.statement_set_verification(actor=staff, statement=statement, confirmed=True, note="Letter on file")
    assert client_for(rep_a).get(f"/audits/statements/{statement.pk}/edit/").status_code == 403
    with pytest.raises(NotPermitted):
        actions.statement_update(actor=rep_a, statement=statement, auditor=statement.auditor, kind="period",
                                 period_start=date(2024, 1, 1), period_end=date(2024, 12, 31),
                                 statement_date=date(2025, 1, 31), url="https://x.test", criteria=[
                                     actions.CriterionInput("webtrust-ca")])


def test_public_statement_is_visible_to_everyone(owner_a, make_statement, rep_b, reviewer, client_for):
    statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31))
    for user in (rep_b, reviewer, None):
        assert client_for(user).get(f"/audits/statements/{statement.pk}/").status_code == 200


def test_ca_rep_cannot_record_a_statement_as_from_the_auditor(owner_a, rep_a, make_auditor):
    from audits import actions
    from config.errors import NotPermitted

    with pytest.raises(NotPermitted, match="Only root program staff"):
        actions.statement_submit(
            actor=rep_a, ca_owner=owner_a, auditor=make_auditor(), source="auditor", kind="period",
            period_start=date(2024, 1, 1), period_end=date(2024, 12, 31), statement_date=date(2025, 1, 31),
            url="https://x.test/a.pdf", criteria=[actions.CriterionInput("webtrust-ca")], today=date(2025, 6, 1),
        )
    assert AuditStatement.objects.count() == 0


def test_only_staff_manage_auditors_and_see_verification_contacts(make_auditor, rep_a, reviewer, staff, client_for):
    auditor = make_auditor()
    for user in (rep_a, reviewer):
        c = client_for(user)
        assert c.get("/audits/auditors/new/").status_code == 403
        assert c.post(f"/audits/auditors/{auditor.pk}/approval/",
                      {"approval": "not_approved", "reason": "x"}).status_code == 403
        assert c.get(f"/audits/auditors/{auditor.pk}/qualifications/new/").status_code == 403
        assert b"verify@auditor.test" not in c.get(f"/audits/auditors/{auditor.pk}/").content
        assert "contact_email" not in c.get(f"/api/v1/auditors/{auditor.pk}/").json()
        assert c.post("/api/v1/auditors/", {"name": "Rogue"}, content_type="application/json").status_code == 403
    assert client_for(None).get("/audits/auditors/new/").status_code == 302
    assert b"verify@auditor.test" in client_for(staff).get(f"/audits/auditors/{auditor.pk}/").content
    assert client_for(staff).get(f"/api/v1/auditors/{auditor.pk}/").json()["contact_email"] == "verify@auditor.test"
    auditor.refresh_from_db()
    assert auditor.approval == "approved"
