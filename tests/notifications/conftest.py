"""Factories and a real SMTP server on loopback for the reminders tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from notif_support import RecordingHandler, free_port  # noqa: E402


@pytest.fixture(autouse=True)
def _eager_unless_worker(request):
    """Run tasks in-process except in `worker` tests, also when REDIS_URL is set.

    Setting `conf.task_always_eager` alone does not win over the CELERY_-namespaced key read
    from Django settings, so both are set.
    """
    from config.celery import app

    eager = request.node.get_closest_marker("worker") is None
    previous = app.conf.task_always_eager
    app.conf.update(task_always_eager=eager, CELERY_TASK_ALWAYS_EAGER=eager)
    yield
    app.conf.update(task_always_eager=previous, CELERY_TASK_ALWAYS_EAGER=previous)


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


from notif_support import NOW  # noqa: E402


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
