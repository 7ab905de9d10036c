"""Mail the notifications feature sends, through Django's e-mail backend.

Every message to a user carries a signed one-click unsubscribe link, in the body and as
List-Unsubscribe / List-Unsubscribe-Post headers (RFC 8058), so mail clients offer it too.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse


def unsubscribe_url(user) -> str:
    from notifications.tokens import unsubscribe_token

    return settings.SITE_URL + reverse("notifications:unsubscribe", args=[unsubscribe_token(user)])


def _headers(user, *, key: str) -> dict[str, str]:
    url = unsubscribe_url(user)
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        # Lets tests and mail logs tie a message to its row(s).
        "X-Rootwatch-Notification": key,
    }


def _send(message: EmailMessage) -> None:
    # fail_silently=False: a refused or failed SMTP conversation must raise, so the row is retried.
    with get_connection(fail_silently=False) as connection:
        message.connection = connection
        message.send()


def send_notification(notification) -> None:
    user = notification.recipient
    to = user.email if user else notification.email
    context = {
        "n": notification,
        "user": user,
        "site_url": settings.SITE_URL,
        "unsubscribe_url": unsubscribe_url(user) if user else "",
        "settings_url": settings.SITE_URL + reverse("notifications:settings"),
    }
    message = EmailMessage(
        subject=f"[Rootwatch] {notification.title}",
        body=render_to_string("notifications/email/notification.txt", context),
        to=[to],
        headers=_headers(user, key=str(notification.pk)) if user else {"X-Rootwatch-Notification": str(notification.pk)},
    )
    _send(message)


def send_digest(user, notifications: list) -> None:
    context = {
        "notifications": notifications,
        "user": user,
        "site_url": settings.SITE_URL,
        "unsubscribe_url": unsubscribe_url(user),
        "settings_url": settings.SITE_URL + reverse("notifications:settings"),
    }
    count = len(notifications)
    message = EmailMessage(
        subject=f"[Rootwatch] Daily digest: {count} reminder{'' if count == 1 else 's'}",
        body=render_to_string("notifications/email/digest.txt", context),
        to=[user.email],
        headers=_headers(user, key=",".join(str(n.pk) for n in notifications)),
    )
    _send(message)
