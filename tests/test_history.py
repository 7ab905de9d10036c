"""One history for every app: who, when, what changed from what to what, with one name for the system.

The cast: staff act; reviewer and anonymous must not read staff-only rows; an admin (superuser)
saves through Django admin, which must write the same rows as the pages.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts import actions as accounts_actions
from accounts import api_keys
from accounts.models import User
from audits import actions as audits_actions
from audits.actions._common import _label
from compliance.actions import incidents as incidents_actions
from compliance.actions.incidents_import import import_bugs
from compliance.models import Incident
from config.errors import NotPermitted
from distrust import actions as distrust_actions
from distrust.models import DistrustAction
from history import actions as history
from history.models import SYSTEM, Event
from history.selectors import for_subject
from registry.actions import ca_owner_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("admin", "admin@example.test", "x")


def _incident(actor, owner, title="Certificates with a bad OU"):
    return incidents_actions.incident_create(actor=actor, ca_owner=owner, title=title, description="What happened.")


def _only(qs) -> Event:
    (row,) = qs
    return row


# --- one mechanism, every app -------------------------------------------------------------------


def test_each_app_records_who_when_and_old_and_new_in_the_one_model(staff, owner_a):
    before = timezone.now()
    incident = _incident(staff, owner_a)
    incidents_actions.incident_update(actor=staff, incident=incident, title="Acme Trust: bad OU values")
    ca_owner_update(actor=staff, owner=owner_a, country="DE")
    auditor = audits_actions.auditor_create(actor=staff, name="Example Audit GmbH", location="Berlin")
    audits_actions.auditor_update(actor=staff, auditor=auditor, location="Munich")
    action = distrust_actions.action_create(actor=staff, title="Distrust the Acme issuing CA")
    after = timezone.now()

    title = _only(for_subject(incident).filter(field="title"))
    assert (title.old, title.new) == ("Acme Trust: Certificates with a bad OU", "Acme Trust: bad OU values")
    owner = _only(for_subject(owner_a).filter(action="owner_changed"))
    assert (owner.old, owner.new) == ({"country": "US"}, {"country": "DE"})
    changed = _only(for_subject(auditor).filter(action="auditor_changed"))
    assert (changed.old, changed.new) == ({"location": "Berlin"}, {"location": "Munich"})
    created = _only(for_subject(action))
    assert (created.action, created.field, created.old, created.new) == ("created", "report", "", "report")

    for row in (title, owner, changed, created):
        assert (row.actor, row.actor_name) == (staff, "staff")
        assert before <= row.at <= after
        assert row.action_label  # every row carries its human label


def test_the_system_has_one_name_in_every_app(owner_a, anonymous):
    incident = _incident(None, owner_a)
    ca_owner_update(actor=None, owner=owner_a, status="removed")
    import_bugs([{"id": 1700001, "summary": "Acme Trust: imported bug", "creation_time": "2024-01-02T03:04:05Z"}])
    history.record(actor=anonymous, subject_type="registry.certificate", action="certificates_imported")

    rows = Event.objects.all()
    assert rows.count() == 4 and {r.subject_type for r in rows} >= {"compliance.incident", "registry.caowner"}
    assert {(r.actor, r.actor_name) for r in rows} == {(None, SYSTEM)}
    assert for_subject(incident).first().actor_name == SYSTEM
    assert _label(None) == SYSTEM  # audits' verified_by_name for the system reads the same


def test_a_non_user_keeps_the_name_they_gave(owner_a):
    row = history.record(actor=None, subject=owner_a, action="verification_confirmed",
                         actor_name="Jane Auditor (auditor, by verification link)")
    assert (row.actor, row.actor_name) == (None, "Jane Auditor (auditor, by verification link)")


# --- API keys and role grants --------------------------------------------------------------------


def test_creating_and_revoking_an_api_key_writes_rows_without_the_key(rep_a):
    created = api_keys.api_key_create(actor=rep_a, name="CI dashboard", read_only=True)
    api_keys.api_key_revoke(actor=rep_a, key=created.key)
    api_keys.api_key_revoke(actor=rep_a, key=created.key)  # already revoked: nothing more to record

    rows = list(for_subject(created.key))
    assert [(r.action, r.actor, r.actor_name) for r in rows] == [
        ("api_key_created", rep_a, "rep_a"), ("api_key_revoked", rep_a, "rep_a")]
    assert rows[1].field == "revoked_at" and rows[1].new == created.key.revoked_at.isoformat()
    stored = repr([(r.summary, r.detail, r.old, r.new) for r in rows])
    assert created.plain not in stored and created.key.key_hash not in stored


def test_granting_and_removing_staff_and_representation_writes_rows(staff, reviewer, owner_a, owner_b):
    accounts_actions.user_set_staff(actor=staff, user=reviewer, is_staff=True)
    accounts_actions.user_set_staff(actor=staff, user=reviewer, is_staff=True)  # no change, no row
    accounts_actions.user_set_staff(actor=staff, user=reviewer, is_staff=False)
    accounts_actions.user_set_represented_owners(actor=staff, user=reviewer, owners=[owner_a, owner_b])
    accounts_actions.user_set_represented_owners(actor=staff, user=reviewer, owners=[owner_b])

    rows = [(r.action, r.field, r.old, r.new, r.actor_name) for r in for_subject(reviewer)]
    assert rows == [
        ("staff_granted", "is_staff", False, True, "staff"),
        ("staff_removed", "is_staff", True, False, "staff"),
        ("representation_changed", "represented_owners", [], ["Acme Trust", "Borealis PKI"], "staff"),
        ("representation_changed", "represented_owners", ["Acme Trust", "Borealis PKI"], ["Borealis PKI"], "staff"),
    ]
    reviewer.refresh_from_db()
    assert not reviewer.is_staff and list(reviewer.represented_owners.all()) == [owner_b]


def test_only_staff_grant_roles_and_a_refusal_records_nothing(rep_a, reviewer, owner_a):
    with pytest.raises(NotPermitted):
        accounts_actions.user_set_staff(actor=rep_a, user=reviewer, is_staff=True)
    with pytest.raises(NotPermitted):
        accounts_actions.user_set_represented_owners(actor=reviewer, user=reviewer, owners=[owner_a])
    reviewer.refresh_from_db()
    assert not reviewer.is_staff and not reviewer.represented_owners.exists()
    assert not Event.objects.exists()


# --- history outlives its subject ----------------------------------------------------------------


def test_deleting_a_subject_or_the_actor_leaves_the_history(staff, owner_a):
    incident = _incident(staff, owner_a)
    action = distrust_actions.action_create(actor=staff, title="Distrust the Acme issuing CA")
    incident_pk, action_pk = incident.pk, action.pk
    count = Event.objects.count()
    Incident.objects.filter(pk=incident_pk).delete()
    DistrustAction.objects.filter(pk=action_pk).delete()
    User.objects.filter(pk=staff.pk).delete()

    assert Event.objects.count() == count
    rows = Event.objects.filter(subject_id__in=[incident_pk, action_pk])
    assert {r.subject_type for r in rows} == {"compliance.incident", "distrust.distrustaction"}
    assert {(r.actor, r.actor_name) for r in rows} == {(None, "staff")}


def test_admin_cannot_delete_or_change_history_nor_delete_subjects_with_actions(admin_user, client_for, staff,
                                                                                owner_a):
    action = distrust_actions.action_create(actor=staff, title="Distrust the Acme issuing CA")
    row = for_subject(action).get()
    c = client_for(admin_user)
    assert c.get("/admin/history/event/").status_code == 200
    assert c.get(f"/admin/history/event/{row.pk}/change/").status_code == 200  # viewing is fine
    assert c.post(f"/admin/history/event/{row.pk}/change/", {"summary": "rewritten"}).status_code == 403
    assert c.post(f"/admin/history/event/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert c.post(f"/admin/distrust/distrustaction/{action.pk}/delete/", {"post": "yes"}).status_code == 403
    assert c.post(f"/admin/registry/caowner/{owner_a.pk}/delete/", {"post": "yes"}).status_code == 403
    c.post("/admin/history/event/", {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert DistrustAction.objects.filter(pk=action.pk).exists() and Event.objects.filter(pk=row.pk).exists()
    row.refresh_from_db()
    assert row.summary == ""
    # A user may still be deleted in admin; their rows stay, with their name.
    assert c.post(f"/admin/accounts/user/{staff.pk}/delete/", {"post": "yes"}).status_code == 302
    row.refresh_from_db()
    assert (row.actor, row.actor_name) == (None, "staff")


# --- staff-only rows ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["reviewer", "anonymous"])
def test_staff_only_rows_are_hidden_from_those_who_must_not_see_them(who, request, staff, owner_a, client_for):
    incident = _incident(staff, owner_a)
    incidents_actions.assessment_save(actor=staff, incident=incident, cert_type="tls", count=5, enumerable=True)
    assert for_subject(incident).filter(staff_only=True).exists()
    viewer = request.getfixturevalue(who)
    c = client_for(viewer)
    page = c.get(f"/incidents/{incident.number}/history/").content.decode()
    rest = c.get(f"/rest/bug/{incident.number}/history").content.decode()
    assert "assessment" not in page and "assessment" not in rest
    assert "assessment" in client_for(staff).get(f"/incidents/{incident.number}/history/").content.decode()
    from compliance import selectors

    assert not [e for e in selectors.events_for(incident, viewer) if e.staff_only]


# --- Django admin saves through the actions ------------------------------------------------------


def _user_form(user: User, **over) -> dict:
    data = {
        "username": user.username, "email": user.email, "first_name": "", "last_name": "",
        "is_active": "on", "last_login_0": "", "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"), "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_user_save_grants_roles_through_the_actions(admin_user, client_for, reviewer, owner_a):
    c = client_for(admin_user)
    response = c.post(f"/admin/accounts/user/{reviewer.pk}/change/",
                      _user_form(reviewer, is_staff="on", represented_owners=[owner_a.pk]))
    assert response.status_code == 302, response.content[:3000]
    reviewer.refresh_from_db()
    assert reviewer.is_staff and list(reviewer.represented_owners.all()) == [owner_a]
    rows = [(r.action, r.old, r.new, r.actor) for r in for_subject(reviewer)]
    assert rows == [("staff_granted", False, True, admin_user),
                    ("representation_changed", [], ["Acme Trust"], admin_user)]

    response = c.post(f"/admin/accounts/user/{reviewer.pk}/change/", _user_form(reviewer))
    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert not reviewer.is_staff and not reviewer.represented_owners.exists()
    assert [r.action for r in for_subject(reviewer)][2:] == ["staff_removed", "representation_changed"]
    assert "Staff status granted" in c.get(f"/admin/accounts/user/{reviewer.pk}/change/").content.decode()


def test_admin_ca_owner_save_goes_through_the_registry_action(admin_user, client_for, owner_a):
    c = client_for(admin_user)
    response = c.post(f"/admin/registry/caowner/{owner_a.pk}/change/",
                      {"name": owner_a.name, "ccadb_id": owner_a.ccadb_id, "country": "DE", "status": "included"})
    assert response.status_code == 302, response.content[:3000]
    owner_a.refresh_from_db()
    assert owner_a.country == "DE"
    row = _only(for_subject(owner_a))
    assert (row.action, row.old, row.new, row.actor) == ("owner_changed", {"country": "US"}, {"country": "DE"},
                                                         admin_user)
    assert c.get("/admin/registry/caowner/add/").status_code == 403  # owners come from the CCADB import


def test_record_needs_a_subject():
    with pytest.raises(ValueError):
        history.record(actor=None, action="nothing")
