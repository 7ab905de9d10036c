"""Incident severity (issue 15): set by staff at triage (page, API), a history row in labels, filterable on the
list and the API, shown on /rest/ as Bugzilla's `severity` and searchable there. Nobody else sets it."""

from __future__ import annotations

import pytest

from accounts import api_keys
from compliance.actions import incidents as act
from compliance.forms import TriageForm
from compliance.models import Incident
from config.errors import DomainError, NotPermitted
from history.selectors import for_subject
from tests.stale_helpers import as_post, base_of

pytestmark = pytest.mark.django_db


def _triage(client, incident, **changes):
    page = client.get(f"/incidents/{incident.number}/triage/")
    data = {**as_post(TriageForm.initial_for(incident)), "base": base_of(page), **changes}
    return client.post(f"/incidents/{incident.number}/triage/", data)


def _severity(incident) -> str:
    return Incident.objects.values_list("severity", flat=True).get(pk=incident.pk)


def test_staff_set_severity_at_triage_and_history_reads_labels(public_a, staff, client_for):
    client = client_for(staff)
    page = client.get(f"/incidents/{public_a.number}/triage/").content.decode()
    assert "S2 High" in page and "users at risk now" in page  # the scale and what it means
    response = _triage(client, public_a, severity="S2")
    assert response.status_code == 302
    assert _severity(public_a) == "S2"
    public_a.refresh_from_db()
    _triage(client, public_a, severity="S1")
    rows = [(e.field, e.old, e.new) for e in for_subject(public_a) if e.field == "severity"]
    assert rows == [("severity", "Not set", "S2 High"), ("severity", "S2 High", "S1 Critical")]
    detail = client_for(None).get(f"/incidents/{public_a.number}/").content.decode()
    assert "S1 Critical" in detail
    history = client_for(None).get(f"/incidents/{public_a.number}/history/").content.decode()
    assert "S2 High" in history and "S1 Critical" in history


def test_a_bad_severity_is_refused_beside_the_field_and_nothing_changes(public_a, staff, client_for):
    response = _triage(client_for(staff), public_a, severity="S9", title="Changed title")
    assert response.status_code == 400
    body = response.content.decode()
    assert "S9" in body and "Changed title" in body  # the refused form keeps what was typed
    public_a.refresh_from_db()
    assert public_a.severity == "" and public_a.title != "Changed title"
    with pytest.raises(DomainError, match="severity"):
        act.incident_update(actor=staff, incident=public_a, severity="blocker")
    assert _severity(public_a) == ""


@pytest.mark.parametrize("who", ["rep_a", "reviewer"])
def test_only_staff_set_severity_not_the_ca_nor_a_reviewer(who, public_a, request, client_for):
    user = request.getfixturevalue(who)
    client = client_for(user)
    assert client.get(f"/incidents/{public_a.number}/triage/").status_code in (403, 404)
    assert client.post(f"/incidents/{public_a.number}/triage/", {"severity": "S4"}).status_code in (403, 404)
    api = client.patch(f"/api/v1/incidents/{public_a.number}/", {"severity": "S4"}, content_type="application/json")
    assert api.status_code == 403
    with pytest.raises(NotPermitted):
        act.incident_update(actor=user, incident=public_a, severity="S4")
    assert _severity(public_a) == ""
    assert not [e for e in for_subject(public_a) if e.field == "severity"]


def test_api_sets_shows_and_filters_severity(make_incident, owner_a, owner_b, staff, rep_a, client_for):
    high = make_incident(owner_a, title="Many mis-issued")
    low = make_incident(owner_b, title="Late report")
    unset = make_incident(owner_a, title="Not triaged")
    staff_api = client_for(staff)
    bad = staff_api.patch(f"/api/v1/incidents/{high.number}/", {"severity": "S7"}, content_type="application/json")
    assert bad.status_code == 400 and "severity" in bad.json()["errors"]
    changed = staff_api.patch(f"/api/v1/incidents/{high.number}/", {"severity": "S2"},
                              content_type="application/json")
    assert changed.status_code == 200
    assert (changed.json()["severity"], changed.json()["severity_label"]) == ("S2", "S2 High")
    act.incident_update(actor=staff, incident=low, severity="S4")

    def numbers(client, query):
        response = client.get(f"/api/v1/incidents/?{query}")
        assert response.status_code == 200, response.content
        return {row["number"] for row in response.json()["results"]}

    assert numbers(client_for(rep_a), "severity=S2") == {high.number}
    assert numbers(client_for(None), "severity=S4") == {low.number}
    assert numbers(client_for(None), "severity=none") == {unset.number}
    assert client_for(None).get("/api/v1/incidents/?severity=huge").status_code == 400
    page = client_for(None).get("/incidents/?severity=S2").content.decode()
    assert "Many mis-issued" in page and "Late report" not in page and "Not triaged" not in page


def test_severity_filter_never_shows_a_hidden_incident(make_incident, owner_b, staff, rep_a, client_for):
    secret = make_incident(owner_b, sensitive=True, title="Key compromise")
    act.incident_update(actor=staff, incident=secret, severity="S1")
    response = client_for(rep_a).get("/api/v1/incidents/?severity=S1")
    assert response.status_code == 200 and response.json()["results"] == []
    assert "Key compromise" not in client_for(None).get("/incidents/?severity=S1").content.decode()


def test_rest_bug_shows_and_searches_bugzilla_severity(make_incident, owner_a, staff, rep_b, client_for):
    critical = make_incident(owner_a, title="Un-enumerated mis-issuance")
    normal = make_incident(owner_a, title="A few bad certificates")
    untriaged = make_incident(owner_a, title="Just filed")
    act.incident_update(actor=staff, incident=critical, severity="S1")
    act.incident_update(actor=staff, incident=normal, severity="S3")
    client = client_for(None)

    def bug_ids(query):
        response = client.get(f"/rest/bug?{query}")
        assert response.status_code == 200, response.content
        return {bug["id"] for bug in response.json()["bugs"]}

    shown = client.get(f"/rest/bug/{critical.number}").json()["bugs"][0]
    assert shown["severity"] == "S1"
    assert client.get(f"/rest/bug/{untriaged.number}").json()["bugs"][0]["severity"] == "--"
    assert bug_ids("severity=S1") == {critical.number}
    assert bug_ids("severity=S1&severity=S3") == {critical.number, normal.number}
    assert bug_ids("bug_severity=normal") == {normal.number}  # Bugzilla's older name for S3
    assert bug_ids("severity=--") == {untriaged.number}
    assert bug_ids("f1=bug_severity&o1=notequals&v1=S1") == {normal.number, untriaged.number}
    fields = {f["name"]: f for f in client.get("/rest/field/bug").json()["fields"]}
    assert [v["name"] for v in fields["bug_severity"]["values"]] == ["--", "S1", "S2", "S3", "S4"]
    # Someone who is not staff cannot change it through /rest/ either, with a key that may write.
    key = api_keys.api_key_create(actor=rep_b, name="k", read_only=False).plain
    client.put(f"/rest/bug/{critical.number}", {"severity": "S4"}, content_type="application/json",
               HTTP_X_BUGZILLA_API_KEY=key)
    assert _severity(critical) == "S1"
