"""Mail the audits feature sends. Called from transaction.on_commit, never inside a transaction."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse


def verification_url(token: str) -> str:
    return settings.SITE_URL + reverse("audits:verify", args=[token])


def send_verification_request(request_id: int, token: str) -> None:
    """Ask the auditor's verification contact to confirm or deny a statement a CA says they issued."""
    from audits.models import VerificationRequest

    request = VerificationRequest.objects.select_related("statement__ca_owner", "statement__auditor").get(pk=request_id)
    statement = request.statement
    context = {
        "statement": statement,
        "auditor": statement.auditor,
        "criteria": list(statement.criteria.all()),
        "url": verification_url(token),
        "expires_at": request.expires_at,
    }
    send_mail(
        subject=f"Please confirm an audit statement for {statement.ca_owner}",
        message=render_to_string("audits/email/verification_request.txt", context),
        from_email=None,
        recipient_list=[request.sent_to],
    )
