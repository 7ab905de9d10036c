"""An SMTP failure leaves the notification unsent and retried with backoff; it is never lost or doubled.

Real SMTP on loopback (aiosmtpd): first nothing listens on the port, then the server comes up.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from notifications import actions
from notifications.models import Notification, NotificationPreference
from tests.notifications.notif_support import NOW, RecordingHandler, free_port

pytestmark = pytest.mark.django_db


def test_smtp_down_then_up_sends_each_reminder_once(settings, make_incident, owner_a, rep_a, staff,
                                                     django_capture_on_commit_callbacks):
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 3
    NotificationPreference.objects.create(user=staff, delivery="digest")
    make_incident(owner_a, disclosed=NOW - timedelta(days=4))

    with django_capture_on_commit_callbacks(execute=True):
        actions.sweep_run(now=NOW)
    row = Notification.objects.get(recipient=rep_a)
    assert row.state == "pending" and row.attempts == 1 and row.sent_at is None
    assert "Connection refused" in row.last_error or "Errno" in row.last_error
    assert row.next_attempt_at > row.created_at  # backed off, not retried in a hot loop

    # Before its retry time a sweep does not hammer the server.
    with django_capture_on_commit_callbacks(execute=True):
        actions.sweep_run(now=NOW)
    assert Notification.objects.get(pk=row.pk).attempts == 1

    handler = RecordingHandler()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    try:
        retry_at = Notification.objects.get(pk=row.pk).next_attempt_at
        assert actions.notification_send(notification_id=row.pk, now=retry_at).sent
        assert not actions.notification_send(notification_id=row.pk, now=retry_at).claimed  # a duplicate task
        with django_capture_on_commit_callbacks(execute=True):
            actions.sweep_run(now=NOW + timedelta(minutes=30))
        actions.digest_run()
        actions.digest_run()
    finally:
        server.stop()
    row.refresh_from_db()
    assert row.state == "sent" and row.attempts == 2
    keys = handler.keys()
    assert keys.count((rep_a.email, str(row.pk))) == 1
    assert [to for to, _ in keys].count(staff.email) == 1  # one digest
    assert len(keys) == 2


def test_backoff_doubles_and_gives_up_after_max_attempts():
    assert [actions.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert actions.backoff(30) == actions.BACKOFF_MAX
