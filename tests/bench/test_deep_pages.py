"""Deep pages (issue 17, config.pagination): a bounded count and a deferred join, so page N runs the
same queries as page 1, shows the same rows as an OFFSET would, and `?page=N` keeps working past the cap."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.models import Incident
from config import pagination

pytestmark = pytest.mark.django_db


@pytest.fixture
def incidents(owner_a, monkeypatch):
    now = timezone.now()
    Incident.objects.bulk_create([
        Incident(number=7000 + n, ca_owner=owner_a, title=f"{owner_a.name}: deep {n}", status="ASSIGNED",
                 created_at=now, updated_at=now, first_disclosed_at=now)
        for n in range(130)
    ])
    monkeypatch.setattr(pagination.BoundedPaginator, "cap", 100)  # 130 rows: past the cap
    return sorted(Incident.objects.values_list("number", flat=True), reverse=True)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return response, len(ctx.captured_queries)


def test_html_list_deep_page_same_queries_and_rows_as_offset(incidents, staff, client_for):
    client = client_for(staff)
    client.get("/incidents/")
    first, q1 = _queries(client, "/incidents/?page=1")
    deep, q3 = _queries(client, "/incidents/?page=3")
    assert q1 == q3, (q1, q3)
    page1, page3 = first.content.decode(), deep.content.decode()
    assert "100+ incidents" in page1 and "Page 1 of 2+" in page1
    # Page 3 lies past the cap (rows 101-130) and still shows its rows, newest number first, as OFFSET would.
    assert f"Bug {incidents[100]}" in page3 or f">{incidents[100]}<" in page3
    assert f">{incidents[99]}<" not in page3
    assert 'rel="prev"' in page3 and 'rel="next"' not in page3  # the last page: not full
    assert client.get("/incidents/?page=9").status_code == 200  # beyond the end: Django's get_page, the last known page


def test_api_deep_page_same_queries_rows_and_a_capped_count(incidents, staff, client_for):
    client = client_for(staff)
    client.get("/api/v1/incidents/")
    r1, q1 = _queries(client, "/api/v1/incidents/?page_size=50&page=1")
    r3, q3 = _queries(client, "/api/v1/incidents/?page_size=50&page=3")
    assert q1 == q3
    body1, body3 = r1.json(), r3.json()
    assert body1["count"] == 100 and body1["count_capped"] is True and body1["next"]
    assert [i["number"] for i in body3["results"]] == incidents[100:130]
    assert body3["next"] is None and body3["previous"]
    assert client.get("/api/v1/incidents/?page_size=50&page=4").status_code == 404


def test_rest_search_deep_offset_same_queries_and_rows(incidents, staff, client_for):
    client = client_for(staff)
    r1, q1 = _queries(client, "/rest/bug?limit=20&offset=0&order=bug_id%20DESC&include_fields=id")
    r2, q2 = _queries(client, "/rest/bug?limit=20&offset=110&order=bug_id%20DESC&include_fields=id")
    assert q1 == q2
    ids = [b["id"] for b in r2.json()["bugs"]]
    assert ids == incidents[110:130]
    assert [b["id"] for b in r1.json()["bugs"]] == incidents[:20]


def test_uncapped_lists_count_and_page_exactly(owner_a, staff, client_for):
    now = timezone.now()
    Incident.objects.bulk_create([Incident(number=9000 + n, ca_owner=owner_a, title=f"t {n}", status="NEW",
                                           created_at=now, updated_at=now, first_disclosed_at=now) for n in range(60)])
    body = client_for(staff).get("/api/v1/incidents/?page_size=50&page=2").json()
    assert body["count"] == 60 and body["count_capped"] is False and len(body["results"]) == 10
    html = client_for(staff).get("/incidents/").content.decode()
    assert "60 incidents" in html and "Page 1 of 2" in html
