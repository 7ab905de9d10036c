"""The auditor's verification request goes through the outbox: a CA's submission never fails or waits
because SMTP is down, the mail is retried until it goes, it goes once, and only its link works."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.models import AuditStatement, VerificationRequest
from notifications.models import Notification
from tests.audits.audit_helpers import minimal_pdf
from tests.audits.test_audits_submission import form_data

pytestmark = pytest.mark.django_db


def test_smtp_down_the_submission_succeeds_once_and_the_mail_goes_later(
        owner_a, rep_a, make_auditor, client_for, settings, smtp_server, django_capture_on_commit_callbacks):
    from notifications import actions as notes

    auditor = make_auditor()
    port = smtp_server.port
    settings.EMAIL_PORT = 1  # nothing listens there
    data = form_data(auditor, file=SimpleUploadedFile("report.pdf", minimal_pdf(), content_type="application/pdf"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(rep_a).post(f"/audits/ca/{owner_a.pk}/statements/new/", data)
    assert response.status_code == 302
    statement = AuditStatement.objects.get()
    row = Notification.objects.get(kind="verification_request")
    assert (row.email, row.recipient, row.state, row.attempts) == ("verify@auditor.test", None, "pending", 1)
    assert "Connection refused" in row.last_error or "Errno" in row.last_error
    assert smtp_server.keys() == []

    settings.EMAIL_PORT = port
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        notes.sweep_run()
    assert smtp_server.keys() == [("verify@auditor.test", str(row.pk))]
    message = smtp_server.messages[0]["msg"]
    assert "Please confirm an audit statement for Acme Trust" in message["Subject"]
    link = re.search(r"/audits/verify/(\S+?)/", message.get_payload(decode=True).decode()).group(0)
    # The link the auditor got works; the request is the one stored with the statement.
    assert client_for(None).get(link).status_code == 200
    assert VerificationRequest.objects.filter(statement=statement).count() == 1
    # Sent once: the row is claimed-and-sent, a second send finds nothing to claim.
    assert not notes.notification_send(notification_id=row.pk).claimed
    assert len(smtp_server.keys()) == 1


def test_a_request_answered_before_its_mail_went_is_not_sent(
        owner_a, rep_a, make_statement, staff, settings, smtp_server, django_capture_on_commit_callbacks):
    from audits import actions
    from notifications import actions as notes

    settings.EMAIL_PORT = 1
    statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), actor=rep_a, source="ca")
    row = Notification.objects.get(kind="verification_request")
    assert row.state == "pending"
    actions.statement_set_verification(actor=staff, statement=statement, confirmed=True,
                                       note="Confirmed by phone with the audit partner.")
    settings.EMAIL_PORT = smtp_server.port
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        notes.sweep_run()
    row.refresh_from_db()
    assert row.state == "skipped" and "answered" in row.last_error
    assert [to for to, _ in smtp_server.keys() if to == "verify@auditor.test"] == []
