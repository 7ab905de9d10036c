"""The sweep reads a fixed number of queries whatever the number of incidents (10 vs 1,000)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import actions
from notifications.models import Notification
from tests.notifications.notif_support import NOW

pytestmark = pytest.mark.django_db


def _incidents(owner, n: int, start: int):
    from compliance.models import Comment, Incident, Question

    disclosed = NOW - timedelta(days=20)  # first response and full report overdue
    incidents = Incident.objects.bulk_create(
        Incident(number=start + i, ca_owner=owner, title=f"{owner.name}: case {i}", status="ASSIGNED",
                 first_disclosed_at=disclosed, created_at=disclosed, updated_at=disclosed,
                 whiteboard="[ca-compliance] Next update 2025-03-01")
        for i in range(n)
    )
    incidents = list(Incident.objects.filter(number__gte=start, number__lt=start + n))
    comments = Comment.objects.bulk_create(
        Comment(incident=inc, kind="question", body="?", created_at=NOW - timedelta(days=9)) for inc in incidents
    )
    Question.objects.bulk_create(
        Question(incident=c.incident, comment=c, asked_at=NOW - timedelta(days=9)) for c in comments
    )


def _sweep_queries():
    with CaptureQueriesContext(connection) as ctx:
        run = actions.sweep_run(now=NOW, enqueue=False)
    sql = [q["sql"].lstrip().upper() for q in ctx.captured_queries]
    inserts = [s for s in sql if s.startswith("INSERT") and 'INTO "NOTIFICATIONS_NOTIFICATION"' in s[:60]]
    return run, len(sql) - len(inserts), len(inserts)


def test_sweep_query_count_does_not_grow_with_incidents(owner_a, owner_b, rep_a, rep_b, staff, reviewer):
    from notifications.models import Watch

    Watch.objects.create(user=reviewer, ca_owner=owner_a)
    _incidents(owner_a, 10, 3000000)
    small, reads_small, inserts_small = _sweep_queries()
    assert small.found == 10 * 3  # first response, full report, question
    Notification.objects.all().delete()

    _incidents(owner_b, 990, 4000000)
    big, reads_big, inserts_big = _sweep_queries()
    assert big.found == 1000 * 3
    assert big.created == Notification.objects.count() > 3000

    assert reads_small == reads_big, (reads_small, reads_big)
    if connection.vendor == "postgresql":
        # The new rows go in one INSERT ... ON CONFLICT DO NOTHING, however many.
        assert inserts_small == inserts_big == 1
    else:
        # SQLite caps a statement at 999 parameters, so Django splits the batches further.
        assert inserts_big >= inserts_small >= 1
    print(f"\nsweep queries: {reads_small} reads + {inserts_small} inserts (10 incidents), "
          f"{reads_big} reads + {inserts_big} inserts (1,000 incidents, {big.created} notifications)")
