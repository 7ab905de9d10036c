"""An auditor's confirmation binds to exactly the content the link showed.

A CA representative who changes the auditor, a qualification, the report URL, the PDF or the scope after the
link was sent cannot get a confirmation with the old link: the link is refused with a page saying a new request
is needed, nothing becomes public or confirmed, the CA and staff see that the link died, and a new link (showing
the changed content) works.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from audits import actions
from audits.models import AuditStatement, VerificationRequest
from history.models import Event
from history.selectors import for_subject
from tests.audits.audit_helpers import ISRG_X1, TODAY, minimal_pdf

pytestmark = pytest.mark.django_db

OTHER_FP = "A" * 64


def _pdf(extra: bytes = b"") -> SimpleUploadedFile:
    return SimpleUploadedFile("statement.pdf", minimal_pdf() + extra, content_type="application/pdf")


@pytest.fixture
def sent(owner_a, rep_a, make_statement, django_capture_on_commit_callbacks):
    """A pending statement with a qualification and a PDF, provided by Acme's representative; its link mailed."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), actor=rep_a, source="ca",
                                   findings=[("minor", "Two CRLs were published late")], file=_pdf())
    return statement


def _links() -> list[str]:
    return [re.search(r"/audits/verify/\S+?/", m.body).group(0) for m in mail.outbox]


def _edit(statement: AuditStatement, actor, **changes):
    """statement_update with the statement's current values, except `changes`."""
    values = {
        "auditor": statement.auditor, "kind": statement.kind, "period_start": statement.period_start,
        "period_end": statement.period_end, "statement_date": statement.statement_date, "url": statement.url,
        "file": None,
        "criteria": [actions.CriterionInput(c.key, c.version, tuple(filter(None, c.policies.split(","))))
                     for c in statement.criteria.all()],
        "fingerprints": list(statement.fingerprints.values_list("sha256", flat=True)),
        "findings": [actions.FindingInput(f.severity, f.text) for f in statement.findings.all()],
    }
    values.update(changes)
    return actions.statement_update(actor=actor, statement=statement, today=TODAY, **values)


def _assert_refused_and_unchanged(client, link: str, statement: AuditStatement) -> None:
    events = Event.objects.count()
    page = client.get(link)
    assert page.status_code == 400 and b"changed after the link was sent" in page.content
    assert b"a new request is needed" in page.content
    answer = client.post(link, {"name": "Jane Auditor", "decision": "confirm"})
    assert answer.status_code == 400 and b"changed after the link was sent" in answer.content
    assert client.get(link + "file/").status_code == 400
    statement.refresh_from_db()
    assert statement.verification == "pending" and not statement.is_public and statement.verified_at is None
    assert Event.objects.count() == events
    assert not for_subject(statement).filter(action="verification_confirmed").exists()
    old = VerificationRequest.objects.get(pk=_request_pk(link))
    assert old.used_at is None and old.answer == ""


def _request_pk(link: str) -> int:
    from django.core import signing

    token = link.rstrip("/").rsplit("/", 1)[1]
    return signing.loads(token, salt=actions.VERIFICATION_SALT)["r"]


CHANGES = {
    "auditor": lambda s, make_auditor: {"auditor": make_auditor("Friendly Auditors LLP", contact="friendly@audit.test")},
    "finding removed": lambda s, make_auditor: {"findings": []},
    "report url": lambda s, make_auditor: {"url": "https://example.test/another-audit.pdf"},
    "pdf": lambda s, make_auditor: {"file": _pdf(b"% another report\n")},
    "scope": lambda s, make_auditor: {"fingerprints": [ISRG_X1, OTHER_FP]},
    "finding reworded": lambda s, make_auditor: {"findings": [actions.FindingInput("minor", "One CRL was late")]},
}


@pytest.mark.parametrize("what", list(CHANGES))
def test_ca_rep_who_changes_the_statement_after_sending_cannot_use_the_old_link(
        what, sent, rep_a, make_auditor, client, django_capture_on_commit_callbacks):
    (link,) = _links()
    changes = CHANGES[what](sent, make_auditor)
    with django_capture_on_commit_callbacks(execute=True):
        _edit(sent, rep_a, **changes)
    _assert_refused_and_unchanged(client, link, sent)
    old = VerificationRequest.objects.get(pk=_request_pk(link))
    assert old.invalidated_at is not None
    row = for_subject(sent).get(action="verification_link_invalidated")
    assert row.actor == rep_a and "new request is needed" in row.summary


def test_the_ca_rep_and_staff_are_told_on_the_statement_page(sent, rep_a, staff, client_for):
    _edit(sent, rep_a, url="https://example.test/another-audit.pdf")
    for who in (rep_a, staff):
        page = client_for(who).get(sent.get_absolute_url())
        assert page.status_code == 200
        assert b'data-testid="link-invalidated"' in page.content and b"a new request is needed" in page.content


def test_a_new_request_after_the_change_confirms_the_changed_content(sent, rep_a, staff, client, client_for,
                                                                    django_capture_on_commit_callbacks):
    (old_link,) = _links()
    _edit(sent, rep_a, url="https://example.test/another-audit.pdf", findings=[])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.statement_request_verification(actor=staff, statement=sent)
    (new_link,) = _links()
    page = client.get(new_link)
    assert page.status_code == 200 and b"another-audit.pdf" in page.content
    assert b"Two CRLs were published late" not in page.content
    assert client.post(new_link, {"name": "Jane Auditor", "decision": "confirm"}).status_code == 200
    sent.refresh_from_db()
    assert sent.verification == "confirmed" and sent.is_public
    # The dead link stays dead, and the page no longer asks for a new request.
    assert client.get(old_link).status_code == 400
    assert b"link-invalidated" not in client_for(staff).get(sent.get_absolute_url()).content


def test_switching_the_auditor_mails_the_new_auditor_a_link_that_works(sent, rep_a, make_auditor, client,
                                                                      django_capture_on_commit_callbacks):
    (old_link,) = _links()
    other = make_auditor("Friendly Auditors LLP", contact="friendly@audit.test")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _edit(sent, rep_a, auditor=other)
    (new_link,) = _links()
    assert mail.outbox[0].to == ["friendly@audit.test"]
    assert client.post(old_link, {"name": "Schellman", "decision": "confirm"}).status_code == 400
    page = client.get(new_link)
    assert page.status_code == 200 and b"Friendly Auditors LLP" in page.content
    assert client.post(new_link, {"name": "Friendly", "decision": "confirm"}).status_code == 200
    sent.refresh_from_db()
    assert sent.verification == "confirmed" and sent.auditor == other


def test_an_unaltered_statement_still_confirms_even_after_a_save_that_changes_nothing_shown(
        sent, rep_a, client):
    (link,) = _links()
    _edit(sent, rep_a)  # the same values saved again: the auditor would see the same thing
    assert VerificationRequest.objects.get().invalidated_at is None
    page = client.get(link)
    assert page.status_code == 200 and b"Two CRLs were published late" in page.content
    assert b"".join(client.get(link + "file/").streaming_content) == minimal_pdf()
    assert client.post(link, {"name": "Jane Auditor", "decision": "confirm"}).status_code == 200
    sent.refresh_from_db()
    assert sent.verification == "confirmed" and sent.is_public


def test_a_denial_with_the_old_link_is_refused_too(sent, rep_a, client):
    (link,) = _links()
    _edit(sent, rep_a, findings=[])
    assert client.post(link, {"name": "Jane Auditor", "decision": "deny"}).status_code == 400
    sent.refresh_from_db()
    assert sent.verification == "pending"


def test_a_change_made_around_the_actions_is_caught_when_the_auditor_answers(sent, staff, client):
    """Renaming the auditor, or a PDF replaced in storage, changes what the page shows without
    statement_update: the stored digest no longer matches, so the link is refused all the same."""
    (link,) = _links()
    with sent.file.open("wb") as fh:
        fh.write(minimal_pdf() + b"% swapped in storage\n")
    _assert_refused_and_unchanged(client, link, sent)


def test_renaming_the_auditor_after_sending_refuses_the_link(sent, staff, client):
    (link,) = _links()
    actions.auditor_update(actor=staff, auditor=sent.auditor, name="Schellman Renamed LLC")
    _assert_refused_and_unchanged(client, link, sent)


def test_a_link_sent_before_links_were_bound_is_refused(sent, client):
    (link,) = _links()
    VerificationRequest.objects.update(content_digest="")
    _assert_refused_and_unchanged(client, link, sent)


def test_the_stored_digest_is_that_of_the_content_sent(sent):
    from audits.domain.binding import statement_digest
    from audits.selectors import shown_to_auditor

    shown, data = shown_to_auditor(sent)
    assert data == minimal_pdf()
    assert VerificationRequest.objects.get().content_digest == statement_digest(shown)
    assert shown.findings[0].text == "Two CRLs were published late" and shown.fingerprints == (ISRG_X1,)
