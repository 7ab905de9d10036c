"""Audit pages and API lists: what they show, and a fixed number of queries whatever their size."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from history.models import Event

pytestmark = pytest.mark.django_db


def add_statements(owner, make_statement, n, *, start=date(2015, 1, 1)):
    for i in range(n):
        s = start.replace(year=start.year + i)
        make_statement(owner, s, s.replace(year=s.year + 1) - timedelta(days=1),
                       criteria=("webtrust-tls-br", "webtrust-ca"), findings=[("minor", f"note {i}")])


@pytest.mark.parametrize("path", ["/audits/", "/api/v1/audits/"])
def test_statement_lists_run_a_fixed_number_of_queries(path, owner_a, make_statement, client_for, staff,
                                                         django_assert_max_num_queries, django_assert_num_queries):
    c = client_for(staff)
    add_statements(owner_a, make_statement, 2)
    c.get(path)  # warm the session and user caches
    with django_assert_max_num_queries(50) as small:
        assert c.get(path).status_code == 200
    add_statements(owner_a, make_statement, 8, start=date(2005, 1, 1))
    with django_assert_num_queries(len(small.captured_queries)):
        assert c.get(path).status_code == 200


def test_ca_audit_page_runs_a_fixed_number_of_queries(owner_a, make_statement, client_for, staff, trusted_root,
                                                      django_assert_max_num_queries, django_assert_num_queries):
    trusted_root(owner_a)
    c = client_for(staff)
    add_statements(owner_a, make_statement, 2)
    with django_assert_max_num_queries(60) as small:
        assert c.get(f"/audits/ca/{owner_a.pk}/").status_code == 200
    add_statements(owner_a, make_statement, 8, start=date(2005, 1, 1))
    with django_assert_num_queries(len(small.captured_queries)):
        assert c.get(f"/audits/ca/{owner_a.pk}/").status_code == 200


def test_auditor_list_and_api_run_a_fixed_number_of_queries(make_auditor, client_for, reviewer,
                                                             django_assert_max_num_queries, django_assert_num_queries):
    c = client_for(reviewer)
    make_auditor("Firm 0")
    for path in ("/audits/auditors/", "/api/v1/auditors/"):
        c.get(path)
        with django_assert_max_num_queries(30) as small:
            c.get(path)
        n = len(small.captured_queries)
        for i in range(1, 6):
            make_auditor(f"Firm {path}{i}")
        with django_assert_num_queries(n):
            assert c.get(path).status_code == 200


def test_ca_page_marks_gaps_late_statements_and_findings_in_text(owner_a, make_statement, client):
    make_statement(owner_a, date(2022, 1, 1), date(2022, 12, 31))
    make_statement(owner_a, date(2023, 1, 5), date(2023, 12, 31), statement_date=date(2024, 6, 1))
    html = client.get(f"/audits/ca/{owner_a.pk}/").content.decode()
    assert 'data-family="tls-baseline"' in html
    assert "Gap 2023-01-01..2023-01-04" in html
    assert "tl-bar status-counts is-late" in html and ", late</span>" in html
    assert 'data-code="period_gap"' in html and 'data-code="late_statement_received"' in html
    assert "Gap between audit periods" in html


def test_findings_api_lists_the_checks_with_the_seed_response(owner_a, make_statement, client):
    statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31),
                               findings=[("critical", "Audit logs deleted")])
    body = client.get(f"/api/v1/cas/{owner_a.pk}/audit-findings/").json()
    assert body["ca_owner"] == owner_a.pk
    serious = [f for f in body["findings"] if f["code"] == "serious_qualifications"]
    assert serious[0]["statements"] == [statement.pk]
    assert serious[0]["severity"] == "critical" and serious[0]["action"].startswith("File a CA compliance bug")
    assert serious[0]["incidents"] == [statement.findings.get().incident.number]
    assert client.get("/api/v1/cas/999999/audit-findings/").status_code == 404


def test_api_filters_are_validated(client):
    assert client.get("/api/v1/audits/?family=code-signing").status_code == 400
    assert client.get("/api/v1/audits/?ca_owner=abc").status_code == 400
    assert client.get("/api/v1/audits/?family=ev").status_code == 200


def test_schema_documents_the_audit_endpoints(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    for path in ("/api/v1/audits/", "/api/v1/audits/{id}/", "/api/v1/auditors/", "/api/v1/auditors/{id}/",
                 "/api/v1/cas/{id}/audit-findings/"):
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/v1/audits/"]


def test_staff_qualify_and_approve_an_auditor_on_its_pages(staff, client_for):
    c = client_for(staff)
    response = c.post("/audits/auditors/new/", {"name": "TÜV Example GmbH", "location": "Essen, DE",
                                                "contact_email": "cab@tuv.example"})
    assert response.status_code == 302
    url = response.url
    refused = c.post(url + "approval/", {"approval": "approved", "reason": "ACAB'c member"}, follow=True)
    assert b"no verified qualification" in refused.content
    bad = c.post(url + "qualifications/new/", {"scheme": "etsi", "method": "listed", "verified_on": "2025-01-10"})
    assert b"national accreditation body" in bad.content or b"URL of the scheme" in bad.content
    ok = c.post(url + "qualifications/new/", {
        "scheme": "etsi", "method": "listed", "accrediting_body": "DAkkS",
        "evidence_url": "https://www.acab-c.com/members/", "verified_on": date.today().isoformat()})
    assert ok.status_code == 302
    page = c.post(url + "approval/", {"approval": "approved", "reason": "ACAB'c member, DAkkS"}, follow=True)
    assert b"is now approved" in page.content
    assert Event.objects.filter(action="approval_changed", summary="ACAB'c member, DAkkS").exists()


def test_staff_record_an_answer_given_by_phone(owner_a, rep_a, staff, make_statement, client_for):
    statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), actor=rep_a, source="ca")
    c = client_for(staff)
    c.post(f"/audits/statements/{statement.pk}/verification/", {"decision": "confirm",
                                                                "note": "Phoned the audit partner"})
    statement.refresh_from_db()
    assert statement.verification == "confirmed" and statement.is_public
    again = c.post(f"/audits/statements/{statement.pk}/verification/",
                   {"decision": "deny", "note": "x"}, follow=True)
    assert b"already confirmed" in again.content.lower()
