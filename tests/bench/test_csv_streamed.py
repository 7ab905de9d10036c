"""The CSV export is streamed (issue 17): a StreamingHttpResponse read chunk by chunk from the database,
so memory holds one chunk whatever the number of incidents; the rows are those of the page's filter."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance import exports
from compliance.models import Incident, IncidentTag

pytestmark = pytest.mark.django_db


def test_export_streams_in_chunks_with_every_row(owner_a, staff, client_for, monkeypatch):
    now = timezone.now()
    made = Incident.objects.bulk_create([
        Incident(number=8000 + n, ca_owner=owner_a, title=f"=cmd {n}", status="ASSIGNED", created_at=now,
                 updated_at=now, first_disclosed_at=now) for n in range(7)
    ])
    IncidentTag.objects.bulk_create([IncidentTag(incident=i, tag="ca-compliance") for i in made])
    monkeypatch.setattr(exports, "CHUNK", 3)
    response = client_for(staff).get("/incidents/export.csv?status=open")
    assert response.status_code == 200 and response.streaming
    with CaptureQueriesContext(connection) as ctx:
        body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sorted(int(r["number"]) for r in rows) == [8000 + n for n in range(7)]
    assert all(r["title"].startswith("'=cmd") and r["tags"] == "ca-compliance" for r in rows)
    assert rows[0]["url"].endswith(f"/incidents/{rows[0]['number']}/")
    # Read while sending: the rows come in chunks of CHUNK (3 chunks for 7 rows, each with its tags).
    selects = [q for q in ctx.captured_queries if "compliance_incidenttag" in q["sql"]]
    assert len(selects) == 3, len(selects)
