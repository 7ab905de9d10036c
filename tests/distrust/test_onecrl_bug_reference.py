"""OneCRL records carry the linked incident's bug reference (was "" whenever the action had no bug of its own).

Decision (distrust.artifacts.onecrl_bug): the bug staff gave the action wins (typing it is their choice to publish
it); otherwise the lowest-numbered linked incident anyone may open -- its Bugzilla URL when imported from Bugzilla,
its page here otherwise. A security-sensitive incident is never named on Rootwatch's own initiative: rep_b,
reviewer and anonymous, who may not open it but may read a non-embargoed action's onecrl.json, never find its
number there; staff read why on the page. Release reads the incidents again, so one made public meanwhile is
named in what ships.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from django.conf import settings

from accounts import permissions
from distrust import actions, workflow
from tests.distrust.distrust_helpers import advance

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SECRET = 1900777
PUBLIC = 1900888


@pytest.fixture
def secret_incident(db, owner_a):
    from compliance.models import Incident

    return Incident.objects.create(number=SECRET, ca_owner=owner_a, title="Acme: key compromise (embargoed)",
                                   security_sensitive=True, first_disclosed_at=NOW, created_at=NOW, updated_at=NOW,
                                   imported_at=NOW)


@pytest.fixture
def imported_incident(db, owner_a):
    from compliance.models import Incident

    return Incident.objects.create(number=PUBLIC, ca_owner=owner_a, title="Acme: mis-issuance", first_disclosed_at=NOW,
                                   created_at=NOW, updated_at=NOW, imported_at=NOW)


def _bugs(action) -> set[str]:
    records = json.loads(action.artifacts.get(kind="onecrl").content)["data"]
    assert records
    return {r["details"]["bug"] for r in records}


@pytest.mark.django_db
def test_records_carry_the_imported_incidents_bugzilla_url(staff, scenario, make_action, imported_incident):
    action = advance(staff, make_action(bug="", incident_numbers=[imported_incident.number]), "implement", scenario)
    actions.artifacts_generate(actor=staff, action=action)
    assert _bugs(action) == {f"https://bugzilla.mozilla.org/show_bug.cgi?id={PUBLIC}"}


@pytest.mark.django_db
def test_an_incident_born_here_is_named_by_its_page(staff, scenario, make_action, incident):
    assert incident.imported_at is None
    action = advance(staff, make_action(bug=""), "implement", scenario)
    actions.artifacts_generate(actor=staff, action=action)
    assert _bugs(action) == {settings.SITE_URL + incident.get_absolute_url()}


@pytest.mark.django_db
def test_the_bug_staff_give_the_action_wins(staff, scenario, make_action, imported_incident):
    action = advance(staff, make_action(bug="1234567", incident_numbers=[imported_incident.number]), "implement",
                     scenario)
    actions.artifacts_generate(actor=staff, action=action)
    assert _bugs(action) == {"https://bugzilla.mozilla.org/show_bug.cgi?id=1234567"}


def _download_texts(client, action) -> list[str]:
    page = client.get(f"/distrust/{action.pk}/onecrl.json")
    api = client.get(f"/api/v1/distrust/{action.pk}/onecrl.json")
    detail = client.get(f"/distrust/{action.pk}/")
    api_detail = client.get(f"/api/v1/distrust/{action.pk}/")
    for r in (page, api, detail, api_detail):
        assert r.status_code == 200
    return [page.content.decode(), api.content.decode(), detail.content.decode(), api_detail.content.decode()]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep_b", "reviewer", "anonymous"])
def test_a_security_sensitive_incidents_number_never_reaches_those_who_may_not_open_it(
        request, who, client_for, staff, scenario, make_action, secret_incident, imported_incident):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    assert not permissions.can_view_incident(user or request.getfixturevalue("anonymous"), secret_incident)
    # Not embargoed: anyone may read the action and download its records while it is carried through.
    action = make_action(bug="", incident_numbers=[secret_incident.number, imported_incident.number],
                         is_embargoed=False)
    action = advance(staff, action, "implement", scenario)
    actions.artifacts_generate(actor=staff, action=action)
    # The public incident is named, the sensitive one is not (nor anywhere else they may read: the history
    # row of the action's creation, which lists its incidents, stays with staff).
    assert _bugs(action) == {f"https://bugzilla.mozilla.org/show_bug.cgi?id={PUBLIC}"}
    for text in _download_texts(client_for(user), action):
        assert str(SECRET) not in text
    # Released: the published collection does not name it either.
    advance(staff, action, "communicate", scenario, waive=False)
    action.refresh_from_db()
    assert action.state == "communicate"
    for text in _download_texts(client_for(user), action):
        assert str(SECRET) not in text
    from distrust import selectors
    from distrust.models import OneCRLEntry

    assert str(SECRET) not in selectors.onecrl_collection_json()  # what export_onecrl publishes

    published = set(OneCRLEntry.objects.filter(action=action).values_list("bug", flat=True))
    assert published == {f"https://bugzilla.mozilla.org/show_bug.cgi?id={PUBLIC}"}


@pytest.mark.django_db
def test_staff_read_why_the_sensitive_incident_is_left_out(client_for, staff, scenario, make_action,
                                                           secret_incident):
    action = advance(staff, make_action(bug="", incident_numbers=[secret_incident.number]), "implement", scenario)
    actions.artifacts_generate(actor=staff, action=action)
    assert _bugs(action) == {""}
    html = client_for(staff).get(f"/distrust/{action.pk}/steps/implement/").content.decode()
    assert f"name no bug of Bug {SECRET}: security-sensitive" in html
    # Staff choose to publish it: given as the action's bug (step 2), the regenerated records carry it.
    actions.step_reopen(actor=staff, action=action, step="decide", reason="publish the bug")
    actions.step_save(actor=staff, action=action, step="decide", data={"bug": str(SECRET)}, complete=True)
    actions.step_save(actor=staff, action=action, step="impact", data={}, complete=True)
    actions.artifacts_generate(actor=staff, action=action)
    assert _bugs(action) == {f"https://bugzilla.mozilla.org/show_bug.cgi?id={SECRET}"}
    html = client_for(staff).get(f"/distrust/{action.pk}/steps/implement/").content.decode()
    assert "onecrl-withheld" not in html


@pytest.mark.django_db
def test_made_sensitive_after_generation_the_records_are_stale(staff, scenario, make_action, imported_incident):
    from compliance.actions.incidents import incident_update

    action = advance(staff, make_action(bug="", incident_numbers=[imported_incident.number]), "implement", scenario)
    actions.artifacts_generate(actor=staff, action=action)
    incident_update(actor=staff, incident=imported_incident, security_sensitive=True)
    action.refresh_from_db()
    assert any("regenerate the OneCRL records" in m for m in workflow.missing(action, "implement"))
    actions.artifacts_generate(actor=staff, action=action)
    assert _bugs(action) == {""}


@pytest.mark.django_db
def test_made_public_before_release_the_shipped_records_name_it(staff, scenario, make_action, secret_incident):
    from compliance.actions.incidents import incident_update
    from distrust.models import OneCRLEntry

    action = advance(staff, make_action(bug="", incident_numbers=[secret_incident.number]), "release", scenario,
                     waive=False)
    assert _bugs(action) == {""}
    incident_update(actor=staff, incident=secret_incident, security_sensitive=False)
    actions.step_save(actor=staff, action=action, step="release", complete=True, data=dict(
        nss_version="3.110", release_kind="chemspill", release_date=date(2025, 3, 10),
        onecrl_published_on=date(2025, 3, 9), public_title="Distrust of an Acme intermediate",
        public_wording_confirmed=True))
    url = f"https://bugzilla.mozilla.org/show_bug.cgi?id={SECRET}"
    assert _bugs(action) == {url}
    assert set(OneCRLEntry.objects.filter(action=action).values_list("bug", flat=True)) == {url}
