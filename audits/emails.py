"""Mail the audits feature sends, built for the outbox (notifications) when it sends."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse


def verification_url(token: str) -> str:
    return settings.SITE_URL + reverse("audits:verify", args=[token])


def verification_message(request, token: str) -> EmailMessage:
    """Ask the auditor's verification contact to confirm or deny a statement a CA says they issued.
    Built when the outbox sends it (audits.actions.verification_mail), never inside a request."""
    statement = request.statement
    context = {
        "statement": statement,
        "auditor": statement.auditor,
        "criteria": list(statement.criteria.all()),
        "url": verification_url(token),
        "expires_at": request.expires_at,
    }
    return EmailMessage(
        subject=f"Please confirm an audit statement for {statement.ca_owner}",
        body=render_to_string("audits/email/verification_request.txt", context),
        to=[request.sent_to],
    )
