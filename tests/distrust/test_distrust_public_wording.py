"""Text a distrust action copies from a security-sensitive incident is published only as staff choose.

The action started from such an incident copies its title (and reporter); Release waits until staff wrote and
confirmed the public title; after Release anonymous visitors, reviewers and another CA's representative read the
public wording, never the incident's title, on the distrust pages, the API, the OneCRL JSON, the managed
collection and the feeds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from distrust import actions, selectors, workflow
from distrust.models import DistrustAction, OneCRLEntry
from history.models import Event
from tests.distrust.distrust_helpers import advance

pytestmark = pytest.mark.django_db

MARKER = "EMBARGO-MARKER-7f3a"
REPORTER = "reporter-marker-7f3a"
PUBLIC = "Distrust of an Acme Trust issuing CA"


@pytest.fixture
def secret_incident(owner_a):
    from accounts.models import User
    from compliance.models import Incident

    reporter = User.objects.create_user(username=REPORTER, email="r@example.test", password="x")
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    return Incident.objects.create(number=1900002, ca_owner=owner_a, title=f"Acme Trust: {MARKER} key exposure",
                                   security_sensitive=True, reporter=reporter, first_disclosed_at=now,
                                   created_at=now, updated_at=now)


def _start_from_the_page(client_for, staff, incident, **overrides) -> DistrustAction:
    """What staff do: open the create page from the incident and submit its prefilled form."""
    page = client_for(staff).get(f"/distrust/new/?incident={incident.number}")
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data["incident_numbers"] = str(incident.number)
    data.update(overrides)
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (None, False)}
    r = client_for(staff).post("/distrust/new/", data)
    assert r.status_code == 302, (r.context["form"].errors if r.context else r.content, data)
    return DistrustAction.objects.get()


def _released(staff, action, scenario, *, public_title=PUBLIC):
    advance(staff, action, "release", scenario, waive=False)
    actions.step_save(actor=staff, action=action, step="release", complete=True, data=dict(
        nss_version="3.110", release_kind="chemspill", release_date=date(2025, 3, 10),
        onecrl_published_on=date(2025, 3, 9), public_title=public_title, public_wording_confirmed=True))
    action.refresh_from_db()
    return action


def test_the_prefill_marks_the_copied_text_and_offers_a_non_confidential_public_title(
        staff, client_for, secret_incident, scenario):
    page = client_for(staff).get(f"/distrust/new/?incident={secret_incident.number}")
    initial = page.context["form"].initial
    assert MARKER in initial["title"] and initial["reported_by"] == REPORTER
    assert initial["public_title"] == "Distrust of certificates of Acme Trust"
    action = _start_from_the_page(client_for, staff, secret_incident)
    assert action.confidential_fields == ["title", "reported_by"]
    assert action.published_title == "Distrust of certificates of Acme Trust"


def test_release_waits_for_staff_to_choose_and_confirm_the_public_wording(staff, client_for, secret_incident,
                                                                          scenario):
    action = _start_from_the_page(client_for, staff, secret_incident, public_title="")
    advance(staff, action, "release", scenario, waive=False)
    release = dict(nss_version="3.110", release_kind="chemspill", release_date=date(2025, 3, 10),
                   onecrl_published_on=date(2025, 3, 9))
    with pytest.raises(actions.TransitionError, match="write the public title"):
        actions.step_save(actor=staff, action=action, step="release", complete=True, data=release)
    with pytest.raises(actions.TransitionError, match="confirm that the public title"):
        actions.step_save(actor=staff, action=action, step="release", complete=True,
                          data={**release, "public_title": PUBLIC})
    action.refresh_from_db()
    assert action.steps.get(step="release").status == "open" and not OneCRLEntry.objects.exists()
    actions.step_save(actor=staff, action=action, step="release", complete=True,
                      data={**release, "public_title": PUBLIC, "public_wording_confirmed": True})
    action.refresh_from_db()
    assert action.state == "communicate"


def test_changing_the_public_title_without_confirming_again_clears_the_confirmation(staff, client_for,
                                                                                    secret_incident, scenario):
    action = _start_from_the_page(client_for, staff, secret_incident)
    advance(staff, action, "release", scenario, waive=False)
    actions.step_save(actor=staff, action=action, step="release",
                      data={"public_title": PUBLIC, "public_wording_confirmed": True})
    r = client_for(staff).post(f"/api/v1/distrust/{action.pk}/steps/release/",
                               {"public_title": f"{PUBLIC} ({MARKER})"}, content_type="application/json")
    assert r.status_code == 200, r.content
    action.refresh_from_db()
    assert action.public_wording_confirmed is False
    assert "confirm that the public title" in "; ".join(workflow.missing(action, "release"))


@pytest.mark.parametrize("embargoed", [True, False])
def test_after_release_nobody_but_staff_reads_the_confidential_title(
        embargoed, staff, reviewer, rep_b, anonymous, client_for, secret_incident, scenario, owner_a):
    action = _start_from_the_page(client_for, staff, secret_incident, is_embargoed=embargoed)
    action = _released(staff, action, scenario)
    assert not action.is_embargoed
    pk = action.pk
    urls = ["/distrust/", f"/distrust/{pk}/", f"/distrust/{pk}/onecrl.json?view=1", "/api/v1/distrust/",
            f"/api/v1/distrust/{pk}/", f"/api/v1/distrust/{pk}/onecrl.json", "/feeds/incidents.atom",
            f"/feeds/cas/{owner_a.pk}/incidents.atom", "/incidents/export.csv", "/incidents/1900001/"]
    for who in (anonymous, reviewer, rep_b):
        c = client_for(who)
        for url in urls:
            r = c.get(url)
            body = b"".join(r.streaming_content) if r.streaming else r.content
            assert MARKER.encode() not in body, (who, url)
            assert REPORTER.encode() not in body, (who, url)
        detail = c.get(f"/distrust/{pk}/")
        assert detail.status_code == 200 and PUBLIC.encode() in detail.content
        api = c.get(f"/api/v1/distrust/{pk}/").json()
        assert api["title"] == PUBLIC and api["public_title"] == PUBLIC and api["reported_by"] == ""
    # The published OneCRL records and the managed collection carry the public wording as their reason.
    entries = list(OneCRLEntry.objects.filter(action=action))
    assert entries and {e.why for e in entries} == {PUBLIC}
    collection = selectors.onecrl_collection_json()
    assert MARKER not in collection and PUBLIC in collection
    assert MARKER not in action.artifacts.get(kind="onecrl").content
    # Staff still read the internal title, and the history names no confidential text publicly.
    staff_page = client_for(staff).get(f"/distrust/{pk}/")
    assert MARKER.encode() in staff_page.content and b'data-testid="public-title"' in staff_page.content
    public_rows = Event.objects.filter(subject_id=pk, staff_only=False)
    assert not any(MARKER in str(e.detail) or MARKER in e.summary for e in public_rows)


def test_a_not_embargoed_action_from_a_secret_incident_never_shows_its_title_before_release_either(
        staff, client_for, anonymous, secret_incident):
    action = _start_from_the_page(client_for, staff, secret_incident, is_embargoed=False, public_title="")
    assert not action.is_embargoed
    for url in ("/distrust/", f"/distrust/{action.pk}/", "/api/v1/distrust/", f"/api/v1/distrust/{action.pk}/"):
        body = client_for(anonymous).get(url).content
        assert MARKER.encode() not in body and f"Distrust action {action.pk}".encode() in body, url


def test_an_action_from_a_public_incident_keeps_its_title_and_needs_no_confirmation(staff, make_action, scenario):
    action = make_action(title="Distrust the Acme issuing CA")
    assert action.confidential_fields == [] and action.published_title == "Distrust the Acme issuing CA"
    advance(staff, action, "communicate", scenario, waive=False)
    action.refresh_from_db()
    assert action.state == "communicate"
    assert {e.why for e in OneCRLEntry.objects.filter(action=action)} == {"Distrust the Acme issuing CA"}


def test_linking_a_secret_incident_later_marks_the_copied_fields(staff, make_action, secret_incident):
    action = make_action()
    actions.step_save(actor=staff, action=action, step="report",
                      data={"incident_numbers": [1900001, secret_incident.number]})
    action.refresh_from_db()
    assert action.confidential_fields == ["title", "reported_by"]
    assert workflow.needs_public_wording(action)


def test_the_announcement_draft_uses_the_public_wording_and_names_no_secret_incident(
        staff, client_for, secret_incident, scenario):
    action = _released(staff, _start_from_the_page(client_for, staff, secret_incident), scenario)
    page = client_for(staff).get(f"/distrust/{action.pk}/steps/communicate/")
    draft = page.context["form"].initial["announcement"]
    assert f"Announcement: {PUBLIC}" in draft
    assert MARKER not in draft and f"Bug {secret_incident.number}" not in draft
