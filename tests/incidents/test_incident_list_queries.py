"""The incident list page and API list run a fixed number of queries for 10 or 500 incidents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from compliance.models import Comment, Incident, IncidentTag, Question


def _bulk_incidents(owner, count: int, reporter) -> None:
    """Rows as the import makes them, each with tags, a comment and an open question."""
    now = timezone.now()
    start = (Incident.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    incidents = Incident.objects.bulk_create([
        Incident(number=start + n, ca_owner=owner, title=f"{owner.name}: bulk {n}", status="ASSIGNED",
                 whiteboard="[ca-compliance] [dv-misissuance]", first_disclosed_at=now, created_at=now,
                 updated_at=now, assignee=reporter, reporter=reporter, next_due_at=now + timedelta(days=n % 9 - 4),
                 next_due_kind="next_update")
        for n in range(count)
    ])
    IncidentTag.objects.bulk_create([IncidentTag(incident=i, tag=t) for i in incidents for t in ("ca-compliance", "dv-misissuance")])
    comments = Comment.objects.bulk_create([Comment(incident=i, body="q?", kind="question", created_at=now, author=reporter)
                                            for i in incidents])
    Question.objects.bulk_create([Question(incident=c.incident, comment=c, asked_at=now) for c in comments])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["staff", "rep_a", "anonymous"])
def test_list_page_runs_the_same_queries_for_10_or_500_incidents(role, request, owner_a, reviewer, client_for,
                                                                 django_assert_num_queries):
    user = request.getfixturevalue(role) if role != "anonymous" else None
    client = client_for(user)
    counts = []
    for total in (10, 500):
        _bulk_incidents(owner_a, total - Incident.objects.count(), reviewer)
        client.get("/incidents/")  # warm the session
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/incidents/?status=open&sort=due&page=2" if total == 500 else "/incidents/")
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    # The count (bounded), the page's keys, its rows (tags and counts annotated), the tags prefetch, plus
    # session/user/owners (config.pagination: the keys query makes a deep page cost what page 1 does).
    print(f"\nlist page ({role}): {counts[0]} queries at 10 and at 500 incidents")
    assert counts[0] <= 10  # a representative: +1 (the owners they represent)


@pytest.mark.django_db
@pytest.mark.parametrize("total", [10, 500])
def test_api_list_runs_a_fixed_number_of_queries(total, staff, owner_a, reviewer, client_for,
                                                 django_assert_num_queries):
    _bulk_incidents(owner_a, total, reviewer)
    client = client_for(staff)
    client.get("/api/v1/incidents/")
    # session, user, count, the page's keys, its rows, tags prefetch
    with django_assert_num_queries(6):
        response = client.get("/api/v1/incidents/?page_size=200&tag=dv-misissuance&open_questions=true")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == total
    assert len(body["results"]) == min(total, 200)
    assert body["results"][0]["tags"] == ["ca-compliance", "dv-misissuance"]
    assert body["results"][0]["open_question_count"] == 1
