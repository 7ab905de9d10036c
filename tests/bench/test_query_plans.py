"""The listed queries use their indexes (issue 17): EXPLAIN (FORMAT JSON) of each on PostgreSQL must scan
the expected index. Sequential scans are disabled for the check (SET LOCAL enable_seqscan = off), so the
small test tables do not hide a plan: if the index is dropped or the query stops matching it (a new
ORDER BY, a function around the column), the planner falls back to a sequential scan and the test fails.
SQLite has no comparable plan to check: skipped there."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.utils import timezone

from compliance import selectors as sel
from compliance.models import Comment, Incident

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="plan check on PostgreSQL only"),
]


def _indexes_used(qs) -> set[str]:
    sql, params = qs.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found: set[str] = set()

    def walk(node):
        if "Index Name" in node and "Scan" in node["Node Type"]:
            found.add(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


@pytest.fixture
def rows(owner_a, owner_b, reviewer):  # noqa: ARG001 (owner_b: two owners in the table)
    now = timezone.now()
    made = Incident.objects.bulk_create([
        Incident(number=5000 + n, ca_owner=owner_a if n % 2 else owner_b, title=f"plan {n}", status="ASSIGNED",
                 created_at=now, updated_at=now, first_disclosed_at=now) for n in range(40)
    ])
    Comment.objects.bulk_create([Comment(incident=made[0], body=f"c{n}", created_at=now, author=reviewer)
                                 for n in range(20)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE compliance_incident; ANALYZE compliance_comment")
    return made


def _list_keys(user, params):
    """The list's keys query, as config.pagination's deferred join runs it for a page."""
    qs = sel.incident_rows(sel.incident_filter(user=user, params=params))
    return qs.values_list("pk", flat=True)[50:100]


def test_default_list_walks_the_number_index(rows, staff):
    assert "compliance_incident_number_key" in _indexes_used(_list_keys(staff, {"status": "open"}))


def test_feed_order_uses_the_updated_index(rows, staff):
    qs = Incident.objects.order_by("-updated_at").values_list("pk", flat=True)[:50]
    assert "incident_updated_idx" in _indexes_used(qs)


def test_an_incidents_comments_use_an_incident_index(rows):
    """(incident, created_at) or the foreign key's own index: on a small table the planner picks either by its
    statistics (which the tests before this one leave behind); never a scan of every comment."""
    qs = Comment.objects.filter(incident=rows[0]).order_by("created_at").values_list("pk", flat=True)
    used = _indexes_used(qs)
    assert used and all(name == "comment_incident_time_idx" or name.startswith("compliance_comment_incident_id")
                        for name in used), used
