"""Mail about a person's own account, built when the outbox (notifications) sends it."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def password_reset_message(user) -> EmailMessage | None:
    """The reset mail with a link made now; None when the account can no longer reset (inactive,
    or its password cannot be used), as Django's own form would not have mailed it."""
    if not user.is_active or not user.has_usable_password() or not user.email:
        return None
    site = urlsplit(settings.SITE_URL)
    context = {
        "email": user.email, "domain": site.netloc, "site_name": "Rootwatch", "protocol": site.scheme or "https",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)), "user": user,
        "token": default_token_generator.make_token(user),
    }
    return EmailMessage(
        subject="Reset your Rootwatch password",
        body=render_to_string("registration/password_reset_email.html", context),
        to=[user.email],
    )
