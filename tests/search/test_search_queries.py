"""Full-text search runs a fixed number of queries whatever the matches, and its plan uses the index."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance import search
from compliance.models import Comment, Incident
from compliance.search import index


def _bulk(owner, reporter, count: int, word: str) -> None:
    now = timezone.now()
    start = (Incident.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    incidents = Incident.objects.bulk_create([
        Incident(number=start + n, ca_owner=owner, title=f"{owner.name}: bulk {n}", status="NEW",
                 whiteboard="[ca-compliance]", first_disclosed_at=now, created_at=now, updated_at=now,
                 reporter=reporter)
        for n in range(count)
    ])
    Comment.objects.bulk_create([Comment(incident=i, body=f"The {word} was late, {n}.", created_at=now, author=reporter)
                                 for n, i in enumerate(incidents)])
    index.refresh([i.pk for i in incidents])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["staff", "rep_a", "anonymous"])
def test_search_list_runs_the_same_queries_for_5_or_120_matches(role, request, owner_a, reviewer, client_for,
                                                                 django_assert_max_num_queries):
    user = request.getfixturevalue(role) if role != "anonymous" else None
    client = client_for(user)
    counts = []
    for total in (5, 120):
        _bulk(owner_a, reviewer, total - Incident.objects.count(), "lyrebird")
        client.get("/incidents/")  # warm the session
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/incidents/", {"q": "lyrebird late", "page": 2 if total > 50 else 1})
        assert response.status_code == 200
        assert response.context["page"].paginator.count == total
        assert "<mark>lyrebird</mark>" in response.content.decode()
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[0]):
        client.get("/incidents/", {"q": "lyrebird", "status": "open"})
    # The API list too.
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/incidents/", {"q": "lyrebird", "page_size": 200}).json()["count"] == 120
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        client.get("/api/v1/incidents/", {"q": "lyrebird late -nothinghere", "page_size": 10})


@pytest.mark.django_db
def test_the_search_plan_uses_the_full_text_index(owner_a, reviewer, anonymous):
    _bulk(owner_a, reviewer, 1000, "lyrebird")
    Comment.objects.filter(incident__number=7).update(body="A currawong was seen.")
    index.refresh(Incident.objects.values_list("pk", flat=True))
    qs = search.search(Incident.objects.visible_to(anonymous), "currawong", user=anonymous)
    assert list(qs.values_list("number", flat=True)) == [7]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            search.backend().settle(cursor)  # what autovacuum does after a bulk write
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = qs.explain()
        assert "compliance_search_document_public_gin" in plan, plan
        assert "Bitmap Index Scan" in plan, plan
        # Migration 0008: the planner is told a match costs more than `=` (it decompresses a vector).
        with connection.cursor() as cursor:
            cursor.execute("SELECT procost FROM pg_proc WHERE oid = 'ts_match_vq'::regproc")
            assert cursor.fetchone()[0] == 100
    else:
        plan = qs.explain()
        # FTS5 answers MATCH from its own index ("VIRTUAL TABLE INDEX"), never by reading every document.
        assert "compliance_search_fts VIRTUAL TABLE INDEX" in plan, plan
