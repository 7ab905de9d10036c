"""The sweep runs a fixed number of statements whatever the number of incidents (10 vs 200) and rows:
the rows go in by two set-based INSERT ... SELECT ... ON CONFLICT DO NOTHING (notifications.sweep_sql)."""

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
    sql = [" ".join(q["sql"].split()).upper() for q in ctx.captured_queries]
    inserts = [s for s in sql if "INSERT INTO NOTIFICATIONS_NOTIFICATION" in s.replace('"', "")]
    return run, len(sql), len(inserts)


def test_sweep_statement_count_does_not_grow_with_incidents_or_rows(owner_a, owner_b, rep_a, rep_b, staff, reviewer):
    from compliance.models import Incident
    from notifications.models import Watch

    Watch.objects.create(user=reviewer, ca_owner=owner_a)
    _incidents(owner_a, 10, 3000000)
    # One security-sensitive incident in each run: its findings take the path that asks
    # accounts.permissions person by person (a fixed number of queries once any such finding exists).
    Incident.objects.filter(number=3000000).update(security_sensitive=True)
    small, statements_small, inserts_small = _sweep_queries()
    assert small.found == 10 * 3  # first response, full report, question
    assert small.created == Notification.objects.count() > 10 * 3
    Notification.objects.all().delete()

    _incidents(owner_b, 190, 4000000)
    Incident.objects.filter(number__gte=4000000, number__lt=4000050).update(security_sensitive=True)
    big, statements_big, inserts_big = _sweep_queries()
    assert big.found == 200 * 3
    assert big.created == Notification.objects.count() > 600

    assert statements_small == statements_big, (statements_small, statements_big)
    # The rows go in by two INSERT ... SELECT ... ON CONFLICT DO NOTHING, however many, on both engines.
    assert inserts_small == inserts_big == 2
    # A second sweep finds every row made and adds none, in the same statements.
    again, statements_again, _ = _sweep_queries()
    assert again.created == 0 and Notification.objects.count() == big.created
    assert statements_again == statements_big
    print(f"\nsweep: {statements_small} statements (10 incidents, {small.created} rows), "
          f"{statements_big} (200 incidents, {big.created} rows)")
