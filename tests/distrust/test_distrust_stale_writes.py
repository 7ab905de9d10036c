"""Stale step forms and API step writes of a distrust action: two staff with the same step open,
the API's ETag and If-Match (config.stale)."""

from __future__ import annotations

import pytest

from distrust import forms
from distrust.models import DistrustAction
from history.models import Event
from tests.conftest import _user
from tests.stale_helpers import as_post, base_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff2(db):
    return _user("staff2", staff=True)


def _open_step(client, action, step="report"):
    page = client.get(f"/distrust/{action.pk}/steps/{step}/")
    assert page.status_code == 200
    form = forms.STEP_FORMS[step](instance=DistrustAction.objects.get(pk=action.pk),
                                  initial={"incident_numbers": list(action.incidents.values_list("number", flat=True))})
    values = {name: form[name].value() for name in form.fields}
    values = {k: ", ".join(str(n) for n in v) if isinstance(v, list) else v for k, v in values.items()}
    return {**as_post(values), "save": "1", "base": base_of(page)}


def _saved(action):
    return [(e.actor_name, sorted(e.detail)) for e in Event.objects.filter(
        subject_type="distrust.distrustaction", subject_id=action.pk, action="saved").order_by("pk")]


def test_two_staff_save_different_fields_of_a_step_both_stay_and_history_names_each(make_action, staff, staff2,
                                                                                    client_for):
    action = make_action()
    alice, bob = client_for(staff), client_for(staff2)
    form_a, form_b = _open_step(alice, action), _open_step(bob, action)
    url = f"/distrust/{action.pk}/steps/report/"
    assert alice.post(url, {**form_a, "reported_by": "Alice's researcher"}).status_code == 302
    assert bob.post(url, {**form_b, "reported_on": "2025-03-05"}).status_code == 302
    action.refresh_from_db()
    assert action.reported_by == "Alice's researcher" and str(action.reported_on) == "2025-03-05"
    assert _saved(action) == [("staff", ["reported_by"]), ("staff2", ["reported_on"])]


def test_two_staff_change_the_same_field_the_second_gets_a_conflict_and_nothing_changes(make_action, staff, staff2,
                                                                                        client_for):
    action = make_action()
    alice, bob = client_for(staff), client_for(staff2)
    form_a, form_b = _open_step(alice, action), _open_step(bob, action)
    url = f"/distrust/{action.pk}/steps/report/"
    assert alice.post(url, {**form_a, "reported_by": "Alice's researcher"}).status_code == 302
    page = bob.post(url, {**form_b, "reported_by": "Bob's researcher", "reported_on": "2025-03-09"})
    assert page.status_code == 409
    body = page.content.decode()
    assert "staff changed Reported by from A security researcher to Alice&#x27;s researcher" in body
    assert "since you opened this form" in body and "Bob&#x27;s researcher" in body
    action.refresh_from_db()
    assert action.reported_by == "Alice's researcher" and str(action.reported_on) == "2025-03-01"
    assert _saved(action) == [("staff", ["reported_by"])]
    again = bob.post(url, {**form_b, "reported_by": "Bob's researcher", "base": base_of(page)})
    assert again.status_code == 302
    action.refresh_from_db()
    assert action.reported_by == "Bob's researcher"


def test_api_step_write_with_a_stale_if_match_is_412_and_changes_nothing(make_action, staff, reviewer, client_for):
    action = make_action()
    client = client_for(staff)
    url = f"/api/v1/distrust/{action.pk}/"
    etag = client.get(url)["ETag"]
    step_url = f"/api/v1/distrust/{action.pk}/steps/report/"
    saved = client.post(step_url, {"reported_by": "First"}, content_type="application/json", HTTP_IF_MATCH=etag)
    assert saved.status_code == 200 and saved["ETag"] != etag
    before = Event.objects.count()
    stale = client.post(step_url, {"reported_by": "Stale"}, content_type="application/json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale.json()["error"] == "precondition_failed"
    assert stale["ETag"] == saved["ETag"]
    action.refresh_from_db()
    assert action.reported_by == "First" and Event.objects.count() == before
    fresh = client.post(step_url, {"reported_by": "Fresh", "complete": True}, content_type="application/json",
                        HTTP_IF_MATCH=saved["ETag"])
    assert fresh.status_code == 200
    reopen_url = f"/api/v1/distrust/{action.pk}/steps/report/reopen/"
    refused = client.post(reopen_url, {"reason": "Typo"}, content_type="application/json", HTTP_IF_MATCH=saved["ETag"])
    assert refused.status_code == 412
    assert DistrustAction.objects.get(pk=action.pk).state == "decide"
    assert client.post(reopen_url, {"reason": "Typo"}, content_type="application/json",
                       HTTP_IF_MATCH=fresh["ETag"]).status_code == 200
    # Someone who may not manage distrust is refused first, whatever the If-Match says.
    assert client_for(reviewer).post(step_url, {"reported_by": "x"}, content_type="application/json",
                                     HTTP_IF_MATCH='"0"').status_code == 403


def test_a_closure_decision_made_meanwhile_is_not_overwritten_by_a_stale_page(make_action, staff, staff2, scenario,
                                                                              client_for):
    from django.contrib.messages import get_messages

    from distrust import actions
    from tests.distrust.distrust_helpers import advance

    action = advance(staff, make_action(), "implement", scenario)
    actions.artifacts_generate(actor=staff, action=action)
    item = action.closure_items.get()
    alice, bob = client_for(staff), client_for(staff2)
    page = bob.get(f"/distrust/{action.pk}/steps/implement/").content.decode()
    assert f'name="base_decision" value="{item.decision}"' in page
    url = f"/distrust/{action.pk}/closure/{item.pk}/"
    assert alice.post(url, {"decision": "waived", "reason": "Expires next week", "base_decision": item.decision,
                            "base_reason": ""}).status_code == 302
    refused = bob.post(url, {"decision": "added", "reason": "", "base_decision": item.decision, "base_reason": ""},
                       follow=True)
    said = [str(m) for m in get_messages(refused.wsgi_request)] + [refused.content.decode()]
    assert any("staff changed Decision from" in m and "since you opened this form" in m for m in said)
    item.refresh_from_db()
    assert item.decision == "waived" and item.reason == "Expires next week" and item.decided_by == staff
