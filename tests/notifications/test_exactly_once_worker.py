"""Exactly once, for real: two Celery workers on Redis, sweeps in parallel and back to back,
duplicate send tasks, and an SMTP server on loopback that records every message that arrived.

Needs PostgreSQL (the workers are other processes and must see the test database) and Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL unset: no broker for a real worker"),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="DATABASE_URL is not PostgreSQL: a worker process cannot share an in-memory SQLite test database",
    ),
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def workers(smtp_server):
    from config.celery import app

    # Tasks left in the queue by an earlier, interrupted run point at rows that no longer exist.
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("notifications")
    env = dict(os.environ, DATABASE_URL=_database_url(), EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
               EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp_server.port))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "notifications", "--pool", "threads",
             "--concurrency", "4", "--without-gossip", "--without-mingle", "-l", "warning",
             "-n", f"notif-{i}-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for i in range(2)
    ]
    yield procs
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def _wait_until_outbox_settles(smtp, expected: int, timeout: float = 90) -> None:
    from notifications.models import Notification

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = Notification.objects.filter(state__in=["pending", "claimed"], delivery="immediate").exists()
        if not busy and len(smtp.keys()) >= expected:
            time.sleep(2)  # anything still in flight would arrive now
            return
        time.sleep(0.3)
    raise AssertionError(f"outbox did not settle: {len(smtp.keys())} of {expected} mails")


def test_parallel_and_repeated_sweeps_on_two_workers_send_each_reminder_once(
    workers, smtp_server, owner_a, owner_b, rep_a, rep_b, staff, reviewer, make_incident
):
    from notifications import tasks
    from notifications.models import Notification, NotificationPreference, SweepRun, Watch

    assert connection.vendor == "postgresql"
    NotificationPreference.objects.create(user=staff, delivery="immediate")
    Watch.objects.create(user=reviewer, ca_owner=owner_a)
    now = timezone.now()
    for i in range(15):
        make_incident(owner_a if i % 2 else owner_b, disclosed=now - timedelta(days=4 + i))

    # Two sweeps at once (one per worker), then one more back to back.
    first = [tasks.sweep.apply_async() for _ in range(2)]
    for r in first:
        r.get(timeout=60)
    tasks.sweep.apply_async().get(timeout=60)

    rows = list(Notification.objects.filter(delivery="immediate").values_list("pk", "recipient__email"))
    assert len(rows) > 30
    _wait_until_outbox_settles(smtp_server, expected=len(rows))

    # A redelivered or duplicated send task (acks_late after a lost worker) finds the row sent.
    for r in [tasks.send.apply_async((pk,)) for pk, _ in rows[:10]]:
        assert r.get(timeout=30) == "not claimed"
    tasks.sweep.apply_async().get(timeout=60)
    time.sleep(2)

    arrived = smtp_server.keys()
    expected = sorted((email, str(pk)) for pk, email in rows)
    assert sorted(arrived) == expected, "each reminder arrives exactly once"
    assert set(Notification.objects.filter(delivery="immediate").values_list("state", flat=True)) == {"sent"}
    runs = list(SweepRun.objects.filter(job="sweep").order_by("started_at"))
    assert len(runs) == 4 and sum(r.created for r in runs) == Notification.objects.count()
    assert runs[-1].created == 0
    print(f"\n{len(rows)} reminders mailed once each by 2 workers over 4 sweeps; "
          f"created per sweep: {[r.created for r in runs]}")
