"""Verification by the auditor: e-mailed signed links, their answers, and answers staff record."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone

from accounts import permissions as perm
from audits import signals
from audits.actions._common import _invalid
from audits.actions.findings import _file_incident_if_qualified
from audits.domain.binding import ShownStatement, statement_digest
from audits.models import AuditHistory, AuditStatement, VerificationRequest
from config.errors import DomainError, NotPermitted, TransitionError
from history import actions as history

# Decision where the issue is silent (see the issue note):
# - a verification link lives 30 days; every link of a statement stops working once any is answered.
VERIFICATION_LINK_LIFETIME = timedelta(days=30)
VERIFICATION_SALT = "audits.verification-link"


# --- verification by the auditor --------------------------------------------------------


class VerificationLinkError(DomainError):
    """A verification link that cannot be used; the message tells the auditor why."""


# Shown to the auditor who opens a link whose statement changed after it was sent (and to the CA and staff
# on the statement page): what they would confirm is no longer what the link showed.
CHANGED_AFTER_SENDING = (
    "This statement changed after the link was sent, so the link no longer works: a new request is needed. "
    "Nothing was recorded. Root program staff will send a new link showing the statement as it is now."
)


def current_digest(statement: AuditStatement) -> str:
    from audits.selectors import shown_to_auditor

    return statement_digest(shown_to_auditor(statement)[0])


def verification_content(request: VerificationRequest) -> tuple[ShownStatement, bytes | None]:
    """The content a still-valid link shows (and the PDF's bytes), or VerificationLinkError when the
    statement no longer has the digest the link was sent with."""
    from audits.selectors import shown_to_auditor

    shown, data = shown_to_auditor(request.statement)
    if not request.content_digest or not secrets.compare_digest(statement_digest(shown), request.content_digest):
        raise VerificationLinkError(CHANGED_AFTER_SENDING)
    return shown, data


def _invalidate_changed_links(statement: AuditStatement, *, actor: Any, now: datetime) -> int:
    """Mark every outstanding link whose content differs from the statement's now; a history row says so.
    Returns how many links died. Called with the statement row locked."""
    outstanding = list(VerificationRequest.objects.filter(statement=statement, used_at=None, invalidated_at=None)
                       .exclude(content_digest=current_digest(statement)).values_list("pk", flat=True))
    if not outstanding:
        return 0
    VerificationRequest.objects.filter(pk__in=outstanding).update(invalidated_at=now)
    history.record(actor=actor, subject=statement, action=AuditHistory.VERIFICATION_LINK_INVALIDATED,
        summary="The statement changed after the verification link was sent; that link no longer works and "
                "a new request is needed.",
        new={"requests": outstanding})
    return len(outstanding)


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def verification_token(request: VerificationRequest, nonce: str) -> str:
    return signing.dumps({"r": request.pk, "s": request.statement_id, "n": nonce}, salt=VERIFICATION_SALT)


def _request_verification(statement: AuditStatement, *, actor: Any, now: datetime) -> VerificationRequest:
    auditor = statement.auditor
    nonce = secrets.token_urlsafe(24)
    request = VerificationRequest.objects.create(
        statement=statement, nonce_hash=_nonce_hash(nonce), sent_to=auditor.contact_email,
        created_at=now, expires_at=now + VERIFICATION_LINK_LIFETIME, content_digest=current_digest(statement),
    )
    AuditStatement.objects.filter(pk=statement.pk).update(
        verification_requests_sent=statement.verification_requests_sent + 1, verification_last_sent_at=now
    )
    statement.verification_requests_sent += 1
    statement.verification_last_sent_at = now
    history.record(actor=actor, subject=statement, action=AuditHistory.VERIFICATION_REQUESTED,
        summary=f"Link sent to the auditor's verification contact; it expires {request.expires_at:%Y-%m-%d %H:%M} UTC.",
        new={"request": request.pk, "expires_at": request.expires_at.isoformat()})
    # The mail goes through the outbox (notifications), which asks verification_mail for the link.
    signals.verification_requested.send(sender=VerificationRequest, request=request)
    return request


def verification_mail(request_id: int) -> Any:
    """The auditor's mail for a request still waiting, with a link made now: a new nonce replaces the
    stored one, so only the link in the mail that actually goes out works (a retry after a failed send
    makes the earlier, never-delivered link useless). VerificationLinkError when nothing is to be sent
    any more (answered, expired, or the statement changed)."""
    from audits import emails

    nonce = secrets.token_urlsafe(24)
    with transaction.atomic():
        request = (VerificationRequest.objects.select_for_update(of=("self",))
                   .select_related("statement__ca_owner", "statement__auditor").get(pk=request_id))
        if request.used_at is not None or request.invalidated_at is not None or timezone.now() >= request.expires_at:
            raise VerificationLinkError("This verification request was answered, replaced or expired before it was sent.")
        if request.statement.verification != AuditStatement.Verification.PENDING:
            raise VerificationLinkError("The statement was answered before the request was sent.")
        request.nonce_hash = _nonce_hash(nonce)
        request.save(update_fields=["nonce_hash"])
    return emails.verification_message(request, verification_token(request, nonce))


@transaction.atomic
def statement_request_verification(*, actor: Any, statement: AuditStatement) -> VerificationRequest:
    """E-mail the auditor a fresh link. Staff, or Rootwatch itself (actor None: the reminders job)."""
    if actor is not None and not perm.can_manage_auditors(actor):
        raise NotPermitted("Only root program staff send verification requests.")
    statement = AuditStatement.objects.select_for_update(of=("self",)).select_related("auditor").get(pk=statement.pk)
    if statement.verification != AuditStatement.Verification.PENDING:
        raise TransitionError(f"The statement is {statement.get_verification_display().lower()}; nothing to verify.")
    if statement.auditor is None or not statement.auditor.contact_email:
        raise DomainError("The auditor has no verification contact e-mail; add one on the auditor's page first.")
    return _request_verification(statement, actor=actor, now=timezone.now())


def verification_request_for_token(token: str, *, now: datetime | None = None) -> VerificationRequest:
    """The request a link stands for, or VerificationLinkError saying why the link cannot be used."""
    now = now or timezone.now()
    try:
        # max_age is checked against the signature's own timestamp; expires_at below is the same rule
        # kept in the database, so a link's lifetime can be shown and shortened there.
        data = signing.loads(token, salt=VERIFICATION_SALT, max_age=VERIFICATION_LINK_LIFETIME)
    except signing.SignatureExpired:
        raise VerificationLinkError(
            "This verification link has expired. Ask root program staff for a new one.") from None
    except signing.BadSignature:
        raise VerificationLinkError(
            "This verification link is not valid: it was altered or copied incompletely.") from None
    try:
        request = VerificationRequest.objects.select_related("statement__ca_owner", "statement__auditor").get(
            pk=data["r"], statement_id=data["s"]
        )
    except (VerificationRequest.DoesNotExist, KeyError, TypeError):
        raise VerificationLinkError("This verification link does not match any statement.") from None
    if not secrets.compare_digest(request.nonce_hash, _nonce_hash(str(data.get("n", "")))):
        raise VerificationLinkError("This verification link is not valid: it was altered or copied incompletely.")
    if request.used_at is not None:
        raise VerificationLinkError(f"This verification link was already used on {request.used_at:%Y-%m-%d %H:%M} UTC.")
    if request.invalidated_at is not None or not request.content_digest:
        raise VerificationLinkError(CHANGED_AFTER_SENDING)
    if now >= request.expires_at:
        raise VerificationLinkError("This verification link has expired. Ask root program staff for a new one.")
    if request.statement.verification != AuditStatement.Verification.PENDING:
        raise VerificationLinkError("This statement has already been answered; the link no longer works.")
    return request


@transaction.atomic
def statement_answer_verification(*, token: str, confirmed: bool, name: str, note: str = "") -> AuditStatement:
    """The auditor's answer through the e-mailed link: no account, the signed link is the credential."""
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "Give your name, so the answer can be attributed.")
    request = verification_request_for_token(token)
    now = timezone.now()
    # The statement row is locked before its content is compared: statement_update takes the same lock,
    # so no change can land between the comparison and the answer.
    statement = AuditStatement.objects.select_for_update().get(pk=request.statement_id)
    if statement.verification != AuditStatement.Verification.PENDING:
        raise VerificationLinkError("This statement has already been answered; the link no longer works.")
    request.statement = statement
    verification_content(request)
    # Compare-and-set: of two simultaneous submissions of one link, only one changes the row.
    if not VerificationRequest.objects.filter(pk=request.pk, used_at=None, invalidated_at=None).update(
        used_at=now, answer="confirmed" if confirmed else "denied", answered_by_name=name[:255], note=note
    ):
        raise VerificationLinkError("This verification link was already used.")
    # The address the link went to is a verification contact (accounts.permissions.can_view_auditor_contacts):
    # the public row names the person, a staff-only row keeps where the link was sent.
    _conclude(statement, confirmed=confirmed, actor=None, actor_label=f"{name} (auditor, via the verification link)",
              note=note, now=now)
    history.record(actor=None, actor_name=name, subject=statement, action=AuditHistory.VERIFICATION_ANSWERED_FROM,
                   summary=f"The link answered was sent to {request.sent_to}.", new={"sent_to": request.sent_to},
                   staff_only=True)
    return statement


@transaction.atomic
def statement_set_verification(*, actor: Any, statement: AuditStatement, confirmed: bool, note: str) -> AuditStatement:
    """Staff record an answer the auditor gave another way (phone, signed letter); the note says how."""
    if not perm.can_manage_auditors(actor):
        raise NotPermitted("Only root program staff record the auditor's answer.")
    if not note.strip():
        raise _invalid("note", "Say how the auditor answered (e.g. 'confirmed by phone with J. Smith').")
    statement = AuditStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.verification != AuditStatement.Verification.PENDING:
        raise TransitionError(f"The statement is already {statement.get_verification_display().lower()}.")
    _conclude(statement, confirmed=confirmed, actor=actor, actor_label=None, note=note.strip(), now=timezone.now())
    return statement


def _conclude(statement: AuditStatement, *, confirmed: bool, actor, actor_label, note: str, now: datetime) -> None:
    old = {"verification": statement.verification, "is_public": statement.is_public}
    statement.verification = (
        AuditStatement.Verification.CONFIRMED if confirmed else AuditStatement.Verification.DENIED
    )
    # A denied statement stays visible to staff and the CA only: it is evidence, not an audit.
    statement.is_public = confirmed
    statement.verified_at = now
    statement.unverified_since = None
    statement.save(update_fields=["verification", "is_public", "verified_at", "unverified_since", "updated_at"])
    history.record(actor=actor, subject=statement,
        action=AuditHistory.VERIFICATION_CONFIRMED if confirmed else AuditHistory.VERIFICATION_DENIED,
        actor_name=actor_label, summary=note, old=old,
        new={"verification": statement.verification, "is_public": statement.is_public})
    if confirmed:
        _file_incident_if_qualified(statement, actor=actor)
