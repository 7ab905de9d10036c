"""Stale edit forms of audit statements and auditors: two people with the same form open (config.stale)."""

from __future__ import annotations

from datetime import date

import pytest

from audits.models import Auditor, AuditStatement
from audits.views import _criterion_line
from history.models import Event
from tests.stale_helpers import as_post, base_of

pytestmark = pytest.mark.django_db


def _open_statement(client, statement):
    page = client.get(f"/audits/statements/{statement.pk}/edit/")
    assert page.status_code == 200
    s = AuditStatement.objects.get(pk=statement.pk)
    initial = {
        "auditor": s.auditor_id, "kind": s.kind, "period_start": s.period_start, "period_end": s.period_end,
        "statement_date": s.statement_date, "url": s.url,
        "criteria": "\n".join(_criterion_line(c) for c in s.criteria.all()),
        "fingerprints": "\n".join(f.sha256 for f in s.fingerprints.all()),
        "findings": "\n".join(f"{f.severity}: {f.text}" for f in s.findings.all()),
    }
    return {**as_post(initial), "base": base_of(page)}


def _changes(subject):
    rows = Event.objects.filter(subject_type=subject._meta.label_lower, subject_id=subject.pk).exclude(new="")
    return [(e.actor_name, sorted(e.new)) for e in rows.order_by("pk") if isinstance(e.new, dict) and e.old]


@pytest.fixture
def pending_statement(owner_a, rep_a, make_statement):
    return make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), actor=rep_a, source="ca")


def test_rep_and_staff_change_different_fields_of_a_statement_both_stay(pending_statement, rep_a, staff,
                                                                         client_for):
    rep, desk = client_for(rep_a), client_for(staff)
    form_rep, form_staff = _open_statement(rep, pending_statement), _open_statement(desk, pending_statement)
    url = f"/audits/statements/{pending_statement.pk}/edit/"
    assert rep.post(url, {**form_rep, "url": "https://ca.example/corrected.pdf"}).status_code == 302
    assert desk.post(url, {**form_staff, "statement_date": "2025-02-15"}).status_code == 302
    s = AuditStatement.objects.get(pk=pending_statement.pk)
    assert s.url == "https://ca.example/corrected.pdf" and s.statement_date == date(2025, 2, 15)
    assert _changes(pending_statement) == [("rep_a", ["url"]), ("staff", ["statement_date"])]


def test_both_change_the_statement_url_the_second_gets_a_conflict_and_nothing_changes(pending_statement, rep_a,
                                                                                      staff, client_for):
    rep, desk = client_for(rep_a), client_for(staff)
    form_rep, form_staff = _open_statement(rep, pending_statement), _open_statement(desk, pending_statement)
    url = f"/audits/statements/{pending_statement.pk}/edit/"
    assert rep.post(url, {**form_rep, "url": "https://ca.example/rep.pdf"}).status_code == 302
    page = desk.post(url, {**form_staff, "url": "https://ca.example/staff.pdf", "statement_date": "2025-02-15"})
    assert page.status_code == 409
    body = page.content.decode()
    assert ("rep_a changed Statement URL from https://example.test/audit.pdf to https://ca.example/rep.pdf "
            "since you opened this form") in body
    assert "https://ca.example/staff.pdf" in body
    s = AuditStatement.objects.get(pk=pending_statement.pk)
    assert s.url == "https://ca.example/rep.pdf" and s.statement_date != date(2025, 2, 15)
    assert _changes(pending_statement) == [("rep_a", ["url"])]


def test_two_staff_edit_an_auditor_the_same_field_conflicts_other_fields_merge(make_auditor, staff, client_for):
    from tests.conftest import _user

    auditor = make_auditor()
    other = _user("staff2", staff=True)
    alice, bob = client_for(staff), client_for(other)

    def open_form(client):
        page = client.get(f"/audits/auditors/{auditor.pk}/edit/")
        assert page.status_code == 200
        a = Auditor.objects.get(pk=auditor.pk)
        fields = ("name", "location", "website", "contact_name", "contact_email")
        return {**as_post({f: getattr(a, f) for f in fields}), "base": base_of(page)}

    url = f"/audits/auditors/{auditor.pk}/edit/"
    form_a, form_b = open_form(alice), open_form(bob)
    assert alice.post(url, {**form_a, "location": "Tampa, FL, US"}).status_code == 302
    assert bob.post(url, {**form_b, "website": "https://schellman.com/"}).status_code == 302
    a = Auditor.objects.get(pk=auditor.pk)
    assert a.location == "Tampa, FL, US" and a.website == "https://schellman.com/"
    refused = bob.post(url, {**form_b, "location": "Tampa"})
    assert refused.status_code == 409 and "staff changed Location from Tampa, US to Tampa, FL, US" in (
        refused.content.decode())
    assert Auditor.objects.get(pk=auditor.pk).location == "Tampa, FL, US"


def test_after_a_statement_conflict_the_page_shows_the_others_changes_to_fields_left_alone(pending_statement, rep_a,
                                                                                         staff, client_for):
    rep, desk = client_for(rep_a), client_for(staff)
    form_rep, form_staff = _open_statement(rep, pending_statement), _open_statement(desk, pending_statement)
    url = f"/audits/statements/{pending_statement.pk}/edit/"
    assert rep.post(url, {**form_rep, "url": "https://ca.example/rep.pdf", "statement_date": "2025-02-15",
                          "findings": "minor: a late CRL"}).status_code == 302
    page = desk.post(url, {**form_staff, "url": "https://ca.example/staff.pdf"})
    assert page.status_code == 409
    body = page.content.decode()
    assert 'name="statement_date" value="2025-02-15"' in body and "minor: a late CRL" in body
    assert 'value="https://ca.example/staff.pdf"' in body
