"""The auditor's verification link: works without an account; refuses altered, expired and reused links."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

import pytest
from django.core import mail, signing
from django.utils import timezone

from audits import actions
from audits.models import AuditStatement, VerificationRequest
from history.models import Event
from history.selectors import for_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(owner_a, rep_a, make_statement, django_capture_on_commit_callbacks):
    """A statement Acme's representative provided: pending, and a link mailed to the auditor (after commit)."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        return make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), actor=rep_a, source="ca")


def link_from_mail() -> str:
    assert len(mail.outbox) == 1
    return re.search(r"http://\S+/audits/verify/(\S+)/", mail.outbox[0].body).group(0).split("127.0.0.1:8000")[1]


def test_ca_provided_statement_is_pending_and_the_auditor_is_mailed_a_link(pending):
    assert pending.verification == "pending" and not pending.is_public
    assert pending.verification_requests_sent == 1 and pending.unverified_since is not None
    assert mail.outbox[0].to == ["verify@auditor.test"]
    assert "Acme Trust" in mail.outbox[0].subject
    assert "/audits/verify/" in mail.outbox[0].body
    assert list(AuditStatement.objects.awaiting_verification()) == [pending]


def test_statement_from_the_auditor_is_legitimate_at_once_and_mails_nobody(owner_a, staff, make_statement,
                                                                          django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), actor=staff, source="auditor")
    assert statement.verification == "from_auditor" and statement.is_public
    assert mail.outbox == []


def test_auditor_confirms_without_an_account(pending, client):
    url = link_from_mail()
    page = client.get(url)
    assert page.status_code == 200 and b"Acme Trust" in page.content
    # Looking at the page does not use the link up.
    assert VerificationRequest.objects.get().used_at is None
    response = client.post(url, {"name": "Jane Auditor", "note": "Our report no. 17", "decision": "confirm"})
    assert response.status_code == 200 and b"confirmed" in response.content
    pending.refresh_from_db()
    assert pending.verification == "confirmed" and pending.is_public and pending.unverified_since is None
    event = for_subject(pending).get(action="verification_confirmed")
    assert event.actor is None and event.actor_name.startswith("Jane Auditor (auditor")
    assert event.summary == "Our report no. 17"


def test_auditor_denies_and_the_statement_stays_private_with_a_critical_finding(pending, client, staff):
    from audits import selectors

    client.post(link_from_mail(), {"name": "Jane Auditor", "decision": "deny"})
    pending.refresh_from_db()
    assert pending.verification == "denied" and not pending.is_public
    assert for_subject(pending).filter(action="verification_denied").exists()
    found = selectors.ca_audit_findings(user=staff, ca_owner_id=pending.ca_owner_id, today=date(2025, 2, 1))
    assert [f.severity for f in found if f.code == "denied_statement"] == ["critical"]


def test_reused_link_is_refused_and_changes_nothing(pending, client):
    url = link_from_mail()
    client.post(url, {"name": "Jane Auditor", "decision": "confirm"})
    events = Event.objects.count()
    again = client.post(url, {"name": "Someone Else", "decision": "deny"})
    assert again.status_code == 400 and b"already used" in again.content
    pending.refresh_from_db()
    assert pending.verification == "confirmed"
    assert Event.objects.count() == events
    assert client.get(url).status_code == 400


def test_altered_link_is_refused(pending, client):
    url = link_from_mail()
    token = url.rstrip("/").rsplit("/", 1)[1]
    value, sep, signature = token.rpartition(":")
    tampered_sig = f"/audits/verify/{value}{sep}{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}/"
    payload = signing.loads(token, salt=actions.VERIFICATION_SALT)
    # Pointing a genuine-looking token at another request needs the secret: re-encoding without it fails.
    forged = signing.dumps({**payload, "r": payload["r"] + 1}, salt=actions.VERIFICATION_SALT, key="not-the-secret")
    for bad in (tampered_sig, f"/audits/verify/{forged}/", "/audits/verify/garbage/"):
        response = client.post(bad, {"name": "Mallory", "decision": "confirm"})
        assert response.status_code == 400, bad
        assert b"not valid" in response.content
    pending.refresh_from_db()
    assert pending.verification == "pending"
    assert VerificationRequest.objects.get().used_at is None


def test_link_with_a_valid_signature_but_the_wrong_nonce_is_refused(pending, client):
    request = VerificationRequest.objects.get()
    wrong = actions.verification_token(request, "a-guessed-nonce")
    assert client.post(f"/audits/verify/{wrong}/", {"name": "M", "decision": "confirm"}).status_code == 400
    pending.refresh_from_db()
    assert pending.verification == "pending"


def test_link_older_than_its_lifetime_is_refused_by_its_signature(pending, client):
    request = VerificationRequest.objects.get()

    class PastSigner(signing.TimestampSigner):
        def timestamp(self):
            old = time.time() - actions.VERIFICATION_LINK_LIFETIME.total_seconds() - 60
            return signing.b62_encode(int(old))

    url = link_from_mail()
    token = url.rstrip("/").rsplit("/", 1)[1]
    payload = signing.loads(token, salt=actions.VERIFICATION_SALT)
    old_token = PastSigner(salt=actions.VERIFICATION_SALT).sign_object(payload)
    response = client.post(f"/audits/verify/{old_token}/", {"name": "Jane", "decision": "confirm"})
    assert response.status_code == 400 and b"expired" in response.content
    request.refresh_from_db()
    assert request.used_at is None


def test_link_past_its_recorded_expiry_is_refused(pending, client):
    url = link_from_mail()
    VerificationRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(url, {"name": "Jane", "decision": "confirm"})
    assert response.status_code == 400 and b"expired" in response.content
    pending.refresh_from_db()
    assert pending.verification == "pending"


def test_link_is_bound_to_its_statement(pending, owner_a, rep_a, make_statement, client):
    first_url = link_from_mail()
    mail.outbox.clear()
    other = make_statement(owner_a, date(2023, 1, 1), date(2023, 12, 31), actor=rep_a, source="ca")
    client.post(first_url, {"name": "Jane", "decision": "confirm"})
    pending.refresh_from_db()
    other.refresh_from_db()
    assert pending.verification == "confirmed" and other.verification == "pending"


def test_other_links_of_an_answered_statement_stop_working(pending, staff, client, django_capture_on_commit_callbacks):
    first_url = link_from_mail()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.statement_request_verification(actor=staff, statement=pending)
    second_url = link_from_mail()
    assert second_url != first_url
    pending.refresh_from_db()
    assert pending.verification_requests_sent == 2 and pending.verification_last_sent_at is not None
    client.post(second_url, {"name": "Jane", "decision": "confirm"})
    response = client.post(first_url, {"name": "Jane", "decision": "deny"})
    assert response.status_code == 400 and b"already been answered" in response.content


def test_answer_without_a_name_is_refused_and_keeps_the_link(pending, client):
    url = link_from_mail()
    response = client.post(url, {"name": "", "decision": "confirm"})
    assert response.status_code == 200 and b"required" in response.content
    assert VerificationRequest.objects.get().used_at is None


def test_statement_pdf_is_available_through_a_valid_link_only(owner_a, rep_a, make_statement, client,
                                                            django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.audits.audit_helpers import minimal_pdf

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), actor=rep_a, source="ca",
                   file=SimpleUploadedFile("s.pdf", minimal_pdf(), content_type="application/pdf"))
    url = link_from_mail()
    response = client.get(url + "file/")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF-")
    assert client.get("/audits/verify/garbage/file/").status_code == 400


def test_only_staff_or_rootwatch_send_verification_requests(pending, rep_a):
    from config.errors import NotPermitted

    with pytest.raises(NotPermitted):
        actions.statement_request_verification(actor=rep_a, statement=pending)
    # The reminders job acts as Rootwatch itself.
    actions.statement_request_verification(actor=None, statement=pending)
    assert VerificationRequest.objects.count() == 2
