"""Signed one-click unsubscribe links (their own module: the mails build them, the actions read them)."""

from __future__ import annotations

from typing import Any

from django.core import signing

from config.errors import DomainError

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


def unsubscribe_token(user: Any) -> str:
    return signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=UNSUBSCRIBE_SALT, compress=True)


def user_for_unsubscribe_token(token: str):
    """The user a one-click link stands for; DomainError when the link is forged or the address changed."""
    from accounts.models import User

    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise DomainError("This unsubscribe link is not valid.") from None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or user.email.lower() != data.get("e"):
        raise DomainError("This unsubscribe link no longer matches an account.")
    return user
