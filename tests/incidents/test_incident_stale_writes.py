"""Stale edits of incidents: two staff with the triage form open, reports posted on an old version,
the API's ETag and If-Match (config.stale)."""

from __future__ import annotations

import re

import pytest

from compliance.actions import incidents as act
from compliance.domain import reports
from compliance.forms import TriageForm
from compliance.models import Incident, ReportVersion
from history.models import Event
from tests.conftest import _user
from tests.incidents import incident_helpers as h
from tests.incidents.test_incident_reports import _form_post
from tests.stale_helpers import as_post, base_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff2(db):
    return _user("staff2", staff=True)


def _open_triage(client, incident):
    page = client.get(f"/incidents/{incident.number}/triage/")
    assert page.status_code == 200
    return {**as_post(TriageForm.initial_for(incident)), "base": base_of(page)}


def _changes(incident):
    rows = Event.objects.filter(subject_type="compliance.incident", subject_id=incident.pk).exclude(field="")
    return {(e.actor_name, e.field, e.new) for e in rows}


def test_two_staff_change_different_fields_both_changes_stay_and_history_names_each(public_a, staff, staff2,
                                                                                    client_for):
    alice, bob = client_for(staff), client_for(staff2)
    form_a, form_b = _open_triage(alice, public_a), _open_triage(bob, public_a)
    saved = alice.post(f"/incidents/{public_a.number}/triage/", {**form_a, "whiteboard": "[ca-compliance]"})
    assert saved.status_code == 302
    saved = bob.post(f"/incidents/{public_a.number}/triage/", {**form_b, "status": "NEW"})
    assert saved.status_code == 302
    incident = Incident.objects.get(pk=public_a.pk)
    assert incident.whiteboard == "[ca-compliance]" and incident.status == "NEW"
    changes = _changes(public_a)
    assert ("staff", "whiteboard", "[ca-compliance]") in changes and ("staff2", "status", "NEW") in changes
    # Bob's stale form held the old whiteboard: he is not blamed for it, nor is Alice for the status.
    assert not {c for c in changes if c[0] == "staff2" and c[1] == "whiteboard"}
    assert not {c for c in changes if c[0] == "staff" and c[1] == "status"}


def test_two_staff_change_the_same_field_the_second_gets_a_conflict_and_nothing_is_overwritten(
        public_a, staff, staff2, client_for):
    alice, bob = client_for(staff), client_for(staff2)
    form_a, form_b = _open_triage(alice, public_a), _open_triage(bob, public_a)
    assert alice.post(f"/incidents/{public_a.number}/triage/", {**form_a, "title": "Alice's title"}).status_code == 302
    before = set(Event.objects.values_list("pk", flat=True))
    page = bob.post(f"/incidents/{public_a.number}/triage/", {**form_b, "title": "Bob's title",
                                                             "whiteboard": "[bob]"})
    assert page.status_code == 409
    body = page.content.decode()
    assert "staff changed Title from" in body and "Alice&#x27;s title" in body and "since you opened this form" in body
    assert 'value="Bob&#x27;s title"' in body  # what Bob typed is kept
    incident = Incident.objects.get(pk=public_a.pk)
    assert incident.title == "Alice's title" and incident.whiteboard == ""  # not even Bob's other field
    assert set(Event.objects.values_list("pk", flat=True)) == before
    # Saving again on the new base the page offers puts Bob's values over Alice's, blamed on Bob.
    again = bob.post(f"/incidents/{public_a.number}/triage/", {**form_b, "title": "Bob's title",
                                                              "whiteboard": "[bob]", "base": base_of(page)})
    assert again.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Bob's title" and incident.whiteboard == "[bob]"
    assert ("staff2", "title", "Bob's title") in _changes(public_a)


def test_a_page_without_base_is_not_checked_and_a_damaged_base_is_a_400(public_a, staff, client_for):
    client = client_for(staff)
    form = _open_triage(client, public_a)
    del form["base"]
    assert client.post(f"/incidents/{public_a.number}/triage/", {**form, "title": "Plain"}).status_code == 302
    damaged = client.post(f"/incidents/{public_a.number}/triage/", {**form, "title": "Other", "base": "{not json"})
    assert damaged.status_code == 400 and "reload the page" in damaged.content.decode()
    assert Incident.objects.get(pk=public_a.pk).title == "Plain"


def test_api_get_gives_an_etag_and_a_stale_if_match_is_412_changing_nothing(public_a, staff, reviewer, client_for):
    client = client_for(staff)
    url = f"/api/v1/incidents/{public_a.number}/"
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert client_for(reviewer).get(url)["ETag"] == etag  # the version of what everyone may read
    changed = client.patch(url, {"status": "NEW"}, content_type="application/json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    before = set(Event.objects.values_list("pk", flat=True))
    stale = client.patch(url, {"title": "Stale"}, content_type="application/json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    body = stale.json()
    assert body["error"] == "precondition_failed" and "If-Match" in body["errors"]
    assert stale["ETag"] == changed["ETag"] == f'"{body["version"]}"'
    assert Incident.objects.get(pk=public_a.pk).title != "Stale"
    assert set(Event.objects.values_list("pk", flat=True)) == before
    fresh = client.patch(url, {"title": "Fresh"}, content_type="application/json", HTTP_IF_MATCH=changed["ETag"])
    assert fresh.status_code == 200 and Incident.objects.get(pk=public_a.pk).title == "Fresh"
    # Without If-Match (clients written before versions) the write is not checked.
    assert client.patch(url, {"title": "Unchecked"}, content_type="application/json").status_code == 200
    bad = client.patch(url, {"title": "x"}, content_type="application/json", HTTP_IF_MATCH="no-quotes")
    assert bad.status_code == 400 and "If-Match" in bad.json()["errors"]


def test_a_stale_if_match_from_someone_who_may_not_triage_is_still_403(public_a, reviewer, client_for):
    url = f"/api/v1/incidents/{public_a.number}/"
    refused = client_for(reviewer).patch(url, {"title": "x"}, content_type="application/json",
                                         HTTP_IF_MATCH='"0000"')
    assert refused.status_code == 403


# ----------------------------------------------------------------------------- reports


def _report_page_base(client, incident, kind="full"):
    page = client.get(f"/incidents/{incident.number}/reports/{kind}/")
    assert page.status_code == 200
    found = re.search(r'name="base_version" value="(\d+)"', page.content.decode())
    assert found, "the report form carries no base version"
    return found.group(1)


def test_a_report_posted_on_an_older_version_is_refused_with_the_newer_changes_shown(public_a, rep_a, staff,
                                                                                   client_for):
    act.report_post(actor=rep_a, incident=public_a, kind="full", data=h.full_report_data())
    url = f"/incidents/{public_a.number}/reports/full/"
    rep_client = client_for(rep_a)
    base = _report_page_base(rep_client, public_a)
    assert base == "1"
    # Staff post version 2 while the representative's form (on version 1) is open.
    act.report_post(actor=staff, incident=public_a, kind="full", data=h.full_report_data(went_well="Staff's words."))
    mine = h.full_report_data(got_lucky="The rep's words.")
    refused = rep_client.post(url, {**_form_post(mine), "base_version": base, "action": "post"})
    assert refused.status_code == 409
    body = refused.content.decode()
    assert "staff changed it from Quick stop. to Staff&#x27;s words. in version 2" in body
    assert "The rep&#x27;s words." in body  # what was typed is kept
    assert list(ReportVersion.objects.filter(incident=public_a).values_list("version", flat=True)) == [1, 2]
    assert re.search(r'name="base_version" value="2"', body)  # offered: post again on version 2
    again = rep_client.post(url, {**_form_post(mine), "base_version": "2", "action": "post"})
    assert again.status_code == 302
    latest = ReportVersion.objects.get(incident=public_a, version=3)
    assert latest.author == rep_a and latest.data["got_lucky"] == "The rep's words."


def test_a_first_report_racing_another_first_report_is_refused(public_a, rep_a, staff, client_for):
    rep_client = client_for(rep_a)
    base = _report_page_base(rep_client, public_a, "preliminary")
    assert base == "0"
    act.report_post(actor=staff, incident=public_a, kind="full", data=h.full_report_data())  # another kind: no matter
    data = {"incident_description": "Bad OU.", "relevant_policies": "BR 7.1", "source_of_disclosure": "Audit"}
    prelim = reports.validate("preliminary", {**{f.key: "N/A" for f in reports.TEMPLATES[
        reports.ReportKind.PRELIMINARY].fields()}, **data}).to_data()
    act.report_post(actor=staff, incident=public_a, kind="preliminary", data=prelim)
    refused = rep_client.post(f"/incidents/{public_a.number}/reports/preliminary/",
                              {**_form_post(prelim), "base_version": base, "action": "post"})
    assert refused.status_code == 409
    assert ReportVersion.objects.filter(incident=public_a, kind="preliminary").count() == 1


def test_api_report_on_an_older_base_version_is_409_with_the_changes(public_a, rep_a, staff, client_for):
    act.report_post(actor=rep_a, incident=public_a, kind="full", data=h.full_report_data())
    act.report_post(actor=staff, incident=public_a, kind="full", data=h.full_report_data(went_well="Staff's words."))
    url = f"/api/v1/incidents/{public_a.number}/reports/"
    client = client_for(rep_a)
    stale = client.post(url, {"kind": "full", "base_version": 1, "data": h.full_report_data(got_lucky="Mine.")},
                        content_type="application/json")
    assert stale.status_code == 409
    body = stale.json()
    assert body["error"] == "edit_conflict" and body["version"] == 2
    assert {"field": "went_well", "old": "Quick stop.", "new": "Staff's words."} in body["changes"]
    assert ReportVersion.objects.filter(incident=public_a).count() == 2
    fresh = client.post(url, {"kind": "full", "base_version": 2, "data": h.full_report_data(got_lucky="Mine.")},
                        content_type="application/json")
    assert fresh.status_code == 201 and fresh.json()["version"] == 3


# -------------------------------------------------------------------------- assessment


def _open_assessment(client, incident):
    from compliance.forms import AssessmentForm
    from compliance.models import Assessment

    page = client.get(f"/incidents/{incident.number}/assessment/")
    assert page.status_code == 200
    initial = AssessmentForm.initial_for(Assessment.objects.filter(incident=incident).first())
    return {**as_post(initial), "base": base_of(page)}


def test_two_staff_assess_different_considerations_both_stay_the_same_one_conflicts(public_a, staff, staff2,
                                                                                   client_for):
    from compliance.domain import responses as resp
    from compliance.models import Assessment

    first, second = (c.key for c in resp.CONSIDERATIONS[:2])
    alice, bob = client_for(staff), client_for(staff2)
    form_a, form_b = _open_assessment(alice, public_a), _open_assessment(bob, public_a)
    url = f"/incidents/{public_a.number}/assessment/"
    assert alice.post(url, {**form_a, f"{first}__answer": "yes", "notes": "Alice's note"}).status_code == 302
    assert bob.post(url, {**form_b, f"{second}__answer": "no"}).status_code == 302
    assessment = Assessment.objects.get(incident=public_a)
    assert assessment.considerations[first]["answer"] == "yes" and assessment.considerations[second]["answer"] == "no"
    assert assessment.notes == "Alice's note"
    refused = bob.post(url, {**form_b, f"{first}__answer": "unknown"})
    assert refused.status_code == 409 and "since you opened this form" in refused.content.decode()
    assessment.refresh_from_db()
    assert assessment.considerations[first]["answer"] == "yes"


def test_after_a_conflict_the_page_shows_what_others_changed_so_saving_again_keeps_it(public_a, staff, staff2,
                                                                                      client_for):
    alice, bob = client_for(staff), client_for(staff2)
    form_a, form_b = _open_triage(alice, public_a), _open_triage(bob, public_a)
    url = f"/incidents/{public_a.number}/triage/"
    assert alice.post(url, {**form_a, "title": "Alice's title", "whiteboard": "[alice]"}).status_code == 302
    page = bob.post(url, {**form_b, "title": "Bob's title"})
    assert page.status_code == 409
    body = page.content.decode()
    # Bob left the whiteboard alone: the page now shows Alice's, and his title as he typed it.
    shown = dict(re.findall(r'<input type="text" name="(title|whiteboard)" value="([^"]*)"', body))
    assert shown == {"title": "Bob&#x27;s title", "whiteboard": "[alice]"}
    again = bob.post(url, {**form_b, "title": "Bob's title", "whiteboard": "[alice]", "base": base_of(page)})
    assert again.status_code == 302
    incident = Incident.objects.get(pk=public_a.pk)
    assert incident.title == "Bob's title" and incident.whiteboard == "[alice]"
    assert not [c for c in _changes(public_a) if c[0] == "staff2" and c[1] == "whiteboard"]
