"""The fixed cast every test speaks of.

- staff: root program staff.
- rep_a: represents CA owner A ("Acme Trust"); rep_b represents B ("Borealis PKI").
- reviewer: a signed-up community member.
- anonymous: nobody signed in.
Factories for everything else live beside the features that need them.
"""

from __future__ import annotations

import pytest

from config.celery import app as celery_app

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _eager_celery_unless_worker(request):
    """Feature tests run tasks in-process; tests marked `worker` talk to a real worker on Redis.

    Both keys are set: `conf.task_always_eager` alone loses to the CELERY_-namespaced key
    read from Django settings.
    """
    eager = request.node.get_closest_marker("worker") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.update(task_always_eager=eager, CELERY_TASK_ALWAYS_EAGER=eager)
    yield
    celery_app.conf.update(task_always_eager=previous, CELERY_TASK_ALWAYS_EAGER=previous)


@pytest.fixture
def owner_a(db):
    from registry.models import CAOwner

    return CAOwner.objects.create(name="Acme Trust", ccadb_id="A000001", country="US")


@pytest.fixture
def owner_b(db):
    from registry.models import CAOwner

    return CAOwner.objects.create(name="Borealis PKI", ccadb_id="A000002", country="FI")


def _user(username: str, *, staff: bool = False, owners=()):
    from accounts.models import User

    user = User.objects.create_user(
        username=username, email=f"{username}@example.test", password=PASSWORD, is_staff=staff
    )
    for owner in owners:
        user.represented_owners.add(owner)
    return user


@pytest.fixture
def staff(db):
    return _user("staff", staff=True)


@pytest.fixture
def rep_a(db, owner_a):
    return _user("rep_a", owners=[owner_a])


@pytest.fixture
def rep_b(db, owner_b):
    return _user("rep_b", owners=[owner_b])


@pytest.fixture
def reviewer(db):
    return _user("reviewer")


@pytest.fixture
def anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


@pytest.fixture
def client_for(client):
    """client_for(user) returns a test client signed in as that user (None: anonymous)."""
    from django.test import Client

    def make(user):
        c = Client()
        if user is not None and getattr(user, "is_authenticated", False):
            c.force_login(user)
        return c

    return make


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 that records what arrived; Django's SMTP backend points at it."""
    from aiosmtpd.controller import Controller

    from tests.notifications.notif_support import RecordingHandler, free_port

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
def fresh_counts(settings):
    """An empty counter store of the kind the settings chose: Redis under its own prefix when
    REDIS_URL is set (so the counts shared by web processes are the ones tested), else local memory."""
    import uuid

    unique = uuid.uuid4().hex
    if settings.REDIS_URL:
        store = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL,
                 "KEY_PREFIX": f"rw-test-{unique}"}
    else:
        store = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": unique}
    settings.CACHES = {**settings.CACHES, "api_throttle": store}
    return settings
