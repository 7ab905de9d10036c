"""Submitting statements on the page and through the API; bad input gets a clear message and stores nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.models import Auditor, AuditStatement, StatementCertificate
from history.models import Event
from history.selectors import for_subject
from tests.audits.audit_helpers import ISRG_X1, minimal_pdf

pytestmark = pytest.mark.django_db

OTHER = "DA43F86604EB9619893C744D6AFBC37A7A57A0FBA3841E8D95488F5C798B150A"


def form_data(auditor, **over):
    today = date.today()
    end = today - timedelta(days=60)
    data = {
        "auditor": auditor.pk if auditor else "", "kind": "period",
        "period_start": (end - timedelta(days=364)).isoformat(), "period_end": end.isoformat(),
        "statement_date": (end + timedelta(days=30)).isoformat(), "url": "https://ca.example/audit-2024.pdf",
        "criteria": "WebTrust for CAs - SSL Baseline 2.8\nWebTrust for CAs 2.2.2",
        "fingerprints": "96:BC:EC:06:26:49:76:F3:74:60:77:9A:CF:28:C5:A7:CF:E8:A3:C0:AA:E1:1A:8F:FC:EE:05:C0:BD:DF:08:C6",
        "statement_text": f"Root CA SHA-256: {OTHER.lower()}",
        "findings": "",
    }
    data.update(over)
    return data


def nothing_stored():
    return AuditStatement.objects.count() == 0 and not Event.objects.filter(action="statement_submitted").exists()


def test_ca_rep_submits_with_a_pdf_and_the_statement_waits_for_the_auditor(
    owner_a, rep_a, make_auditor, client_for, django_capture_on_commit_callbacks
):
    auditor = make_auditor()
    data = form_data(auditor, file=SimpleUploadedFile("report.pdf", minimal_pdf(), content_type="application/pdf"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(rep_a).post(f"/audits/ca/{owner_a.pk}/statements/new/", data)
    statement = AuditStatement.objects.get()
    assert response.status_code == 302 and response.url == f"/audits/statements/{statement.pk}/"
    assert statement.source == "ca" and statement.verification == "pending"
    assert sorted(c.key for c in statement.criteria.all()) == ["webtrust-ca", "webtrust-tls-br"]
    assert {c.key: c.version for c in statement.criteria.all()} == {"webtrust-ca": "2.2.2", "webtrust-tls-br": "2.8"}
    assert sorted(statement.fingerprints.values_list("sha256", flat=True)) == sorted([ISRG_X1, OTHER])
    assert statement.file.read().startswith(b"%PDF-")
    assert len(mail.outbox) == 1
    detail = client_for(rep_a).get(response.url)
    assert b"Not matched" in detail.content  # fingerprints not in the registry are shown as such


def test_fingerprints_are_matched_to_the_registry(owner_a, make_statement, trusted_root):
    root = trusted_root(owner_a)
    statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), fingerprints=(root.sha256, ISRG_X1))
    matched = dict(StatementCertificate.objects.filter(statement=statement).values_list("sha256", "certificate_id"))
    assert matched == {root.sha256: root.pk, ISRG_X1: None}


@pytest.mark.parametrize("override, message", [
    ({"period_start": "2024-06-01", "period_end": "2024-05-31"}, b"before it starts"),
    ({"period_start": "2023-06-01", "period_end": "2024-05-31", "statement_date": "2024-05-30"},
     b"before the period ends"),
    ({"fingerprints": "96BCEC06264976F37460779ACF28C5A7CFE8A3C0AAE11A8FFCEE05C0BDDF08"}, b"64 hex digits"),
    ({"fingerprints": "ZZBCEC06264976F37460779ACF28C5A7CFE8A3C0AAE11A8FFCEE05C0BDDF08C6"}, b"64 hex digits"),
    ({"criteria": "ETSI EN 319 403"}, b"accreditation standard"),
    ({"findings": "severe: everything"}, b"minor: "),
])
def test_bad_input_on_the_page_says_what_is_wrong_and_stores_nothing(
    owner_a, rep_a, make_auditor, client_for, override, message
):
    response = client_for(rep_a).post(f"/audits/ca/{owner_a.pk}/statements/new/", form_data(make_auditor(), **override))
    assert response.status_code == 200
    assert message in response.content
    assert nothing_stored()


def test_a_text_file_renamed_pdf_is_refused(owner_a, rep_a, make_auditor, client_for, settings):
    fake = SimpleUploadedFile("statement.pdf", b"This is not a PDF, whatever its name says.\n",
                              content_type="application/pdf")
    response = client_for(rep_a).post(f"/audits/ca/{owner_a.pk}/statements/new/", form_data(make_auditor(), file=fake))
    assert response.status_code == 200 and b"is not a PDF" in response.content
    assert nothing_stored()


def test_pdf_check_holds_in_the_action_too(owner_a, rep_a, make_auditor):
    from audits import actions
    from config.errors import DomainError

    with pytest.raises(DomainError, match="not a PDF"):
        actions.statement_submit(
            actor=rep_a, ca_owner=owner_a, auditor=make_auditor(), source="ca", kind="period",
            period_start=date(2024, 1, 1), period_end=date(2024, 12, 31), statement_date=date(2025, 1, 31),
            file=SimpleUploadedFile("x.pdf", b"<html>%PDF-</html>"), criteria=[actions.CriterionInput("webtrust-ca")],
            today=date(2025, 6, 1),
        )
    assert nothing_stored()


def test_unlisted_auditor_is_created_pending_for_staff_to_qualify(owner_a, rep_a, client_for):
    response = client_for(rep_a).post(f"/audits/ca/{owner_a.pk}/statements/new/",
                                      form_data(None, new_auditor_name="Nordic Audit Oy"))
    assert response.status_code == 302
    auditor = Auditor.objects.get(name="Nordic Audit Oy")
    assert auditor.approval == "pending" and auditor.statements.count() == 1


def test_point_in_time_audit_takes_one_date(owner_a, rep_a, make_auditor, client_for):
    response = client_for(rep_a).post(f"/audits/ca/{owner_a.pk}/statements/new/", form_data(
        make_auditor(), kind="point", period_start="2024-03-01", period_end="", statement_date="2024-04-01"))
    assert response.status_code == 302
    s = AuditStatement.objects.get()
    assert s.kind == "point" and s.period_start == s.period_end == date(2024, 3, 1)


def test_staff_records_a_statement_from_the_auditor_via_the_api(owner_a, staff, make_auditor, client_for):
    auditor = make_auditor()
    response = client_for(staff).post("/api/v1/audits/", {
        "ca_owner": owner_a.pk, "auditor": auditor.pk, "source": "auditor", "period_start": "2023-09-01",
        "period_end": "2024-08-31", "statement_date": "2024-11-20",
        "url": "https://www.cpacanada.ca/api/getPDFWebTrust?attachmentId=137241c2-c9e1-4c2f-b529-86f3a0f12dab",
        "criteria": [{"key": "webtrust-tls-br", "version": "2.8"}, {"key": "etsi-en-319-411-1-tls-baseline",
                                                                    "policies": ["DVCP", "OVCP"]}],
        "fingerprints": [ISRG_X1.lower()], "findings": [{"severity": "minor", "text": "Late CPS review"}],
    }, content_type="application/json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["verification"] == "from_auditor" and body["is_public"]
    assert body["fingerprints"] == [{"sha256": ISRG_X1, "in_registry": False}]
    assert {c["key"]: c["policies"] for c in body["criteria"]}["etsi-en-319-411-1-tls-baseline"] == ["DVCP", "OVCP"]
    assert body["findings"] == [{"severity": "minor", "text": "Late CPS review", "incident": None}]


@pytest.mark.parametrize("override, field", [
    ({"period_start": "2024-06-01", "period_end": "2024-05-31"}, "period_end"),
    ({"statement_date": "2024-08-30"}, "statement_date"),
    ({"fingerprints": ["not-a-fingerprint"]}, "fingerprints"),
    ({"criteria": [{"key": "webtrust-code-signing"}]}, "criteria"),
])
def test_bad_input_through_the_api_is_a_400_naming_the_field(owner_a, rep_a, make_auditor, client_for, override, field):
    data = {"ca_owner": owner_a.pk, "auditor": make_auditor().pk, "period_start": "2023-09-01",
            "period_end": "2024-08-31", "statement_date": "2024-11-20", "url": "https://x.test/a.pdf",
            "criteria": [{"key": "webtrust-tls-br"}]}
    data.update(override)
    response = client_for(rep_a).post("/api/v1/audits/", data, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json().get("errors", {}), response.json()
    assert nothing_stored()


def test_edit_records_old_and_new_values(owner_a, rep_a, make_statement, client_for):
    statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), actor=rep_a, source="ca")
    data = form_data(statement.auditor, period_start="2024-01-01", period_end="2024-12-31",
                     statement_date="2025-02-15", criteria="WebTrust for CAs - SSL Baseline 2.8",
                     fingerprints=ISRG_X1, statement_text="")
    response = client_for(rep_a).post(f"/audits/statements/{statement.pk}/edit/", data)
    assert response.status_code == 302
    event = for_subject(statement).get(action="statement_changed")
    assert event.old["statement_date"] == "2025-01-30" and event.new["statement_date"] == "2025-02-15"
