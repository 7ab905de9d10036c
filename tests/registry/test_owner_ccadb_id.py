"""The full incident report's CCADB ID comes from the CA owner record (issue 14): the report form
shows the record's ID (also after staff change it), and a report posted without one gets it."""

from __future__ import annotations

import json

import pytest

from registry.actions.owners import ca_owner_update

pytestmark = pytest.mark.django_db


def _api(client_for, user):
    c = client_for(user)

    def call(method, url, body=None):
        return getattr(c, method)(url, json.dumps(body or {}), content_type="application/json")

    return call


def test_the_full_report_takes_its_ccadb_id_from_the_owner_record(client_for, staff, rep_a, owner_a):
    from compliance.actions import incidents as act
    from compliance.models import ReportVersion
    from tests.incidents import incident_helpers as h

    incident = act.incident_create(actor=None, ca_owner=owner_a, title="Acme Trust: OU", description="d")
    form_url = f"/incidents/{incident.number}/reports/full/"
    assert 'value="A000001"' in client_for(rep_a).get(form_url).content.decode()
    # Posted without the ID (an API client need not repeat it): filled in from the owner record.
    data = h.full_report_data()
    del data["ca_owner_ccadb_id"]
    posted = _api(client_for, rep_a)("post", f"/api/v1/incidents/{incident.number}/reports/",
                                     {"kind": "full", "data": data})
    assert posted.status_code == 201, posted.content
    assert ReportVersion.objects.get(incident=incident, kind="full").data["ca_owner_ccadb_id"] == "A000001"
    # Staff correct the owner's record: the next version's form shows the record's ID, not the old report's.
    ca_owner_update(actor=staff, owner=owner_a, ccadb_id="A000123")
    assert 'value="A000123"' in client_for(rep_a).get(form_url).content.decode()
    act.report_post(actor=rep_a, incident=incident, kind="full", data={**data, "ca_owner_ccadb_id": "",
                                                                      "incident_description": "Updated."})
    latest = ReportVersion.objects.filter(incident=incident, kind="full").order_by("-version").first()
    assert latest.data["ca_owner_ccadb_id"] == "A000123"
