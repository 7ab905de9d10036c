"""Mail the notifications feature sends, through Django's e-mail backend.

Every message to a user carries a signed one-click unsubscribe link, in the body and as
List-Unsubscribe / List-Unsubscribe-Post headers (RFC 8058), so mail clients offer it too.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

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


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "rootwatch.invalid"


def thread_headers(notification) -> dict[str, str]:
    """Threading as Bugzilla does it: per recipient, the incident's "New incident" mail has the thread's
    root Message-ID and every later mail refers to it (In-Reply-To, References), so one incident is one
    thread. Other mails' Message-ID is fixed per row: a mail sent again after a crash is the same message."""
    host = _host()
    headers = {"Message-ID": f"<notification-{notification.pk}@{host}>"}
    if notification.thread:
        who = notification.recipient_id or hashlib.sha256(notification.email.encode()).hexdigest()[:12]
        root = f"<{notification.thread}-{who}@{host}>"
        if notification.kind == "incident_filed":
            headers["Message-ID"] = root
        else:
            headers["In-Reply-To"] = root
            headers["References"] = root
    if notification.reason:
        headers["X-Rootwatch-Reason"] = notification.reason
    headers["X-Rootwatch-Type"] = notification.kind
    return headers


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
    headers = _headers(user, key=str(notification.pk)) if user else {"X-Rootwatch-Notification": str(notification.pk)}
    message = EmailMessage(
        subject=f"[Rootwatch] {notification.title}",
        body=render_to_string("notifications/email/notification.txt", context),
        to=[to],
        headers={**headers, **thread_headers(notification)},
    )
    _send(message)


def send_outbox_message(message: EmailMessage, notification) -> None:
    """A message another app built (the auditor's verification request), sent for its outbox row."""
    message.extra_headers = {**message.extra_headers, "X-Rootwatch-Notification": str(notification.pk),
                             **thread_headers(notification)}
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
        subject=f"[Rootwatch] Daily digest: {count} notification{'' if count == 1 else 's'}",
        body=render_to_string("notifications/email/digest.txt", context),
        to=[user.email],
        headers=_headers(user, key=",".join(str(n.pk) for n in notifications)),
    )
    _send(message)
