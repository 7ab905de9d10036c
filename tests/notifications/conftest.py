"""Factories and a real SMTP server on loopback for the reminders tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.notifications.notif_support import NOW, RecordingHandler, free_port


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 that records what arrived; Django's SMTP backend points at it."""
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    handler.port = controller.port
    yield handler
    controller.stop()



@pytest.fixture
def make_incident(db):
    from compliance.models import Incident

    counter = {"n": 1900000}

    def make(owner, *, disclosed: datetime | None = None, **kwargs):
        counter["n"] += 1
        disclosed = disclosed or NOW - timedelta(days=4)
        fields = dict(
            number=counter["n"], ca_owner=owner, title=f"{owner.name if owner else 'Unknown'}: test {counter['n']}",
            status=Incident.Status.ASSIGNED, first_disclosed_at=disclosed, created_at=disclosed, updated_at=disclosed,
        )
        fields.update(kwargs)
        return Incident.objects.create(**fields)

    return make
