"""The CC list is the one way to follow an incident (issue 16): the page's Watch button and the
settings page join and leave the same list, its mail follows the incident (reason "CC"), the REST
`cc` shows its logins only to staff, the CA and those who edit it, and marking an incident
security-sensitive takes off those who joined it with no right of their own."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core import mail

from accounts import permissions as perm
from compliance.actions import cc
from compliance.actions import incidents as act
from config.errors import NotPermitted
from history.models import Event
from tests.conftest import _user

pytestmark = pytest.mark.django_db


def _logins(incident) -> list[str]:
    return sorted(incident.cc.values_list("username", flat=True))


def test_the_watch_button_and_the_settings_page_are_the_same_cc_list(public_a, reviewer, client_for):
    c = client_for(reviewer)
    page = c.get(public_a.get_absolute_url()).content.decode()
    assert ">Watch</button>" in page and 'data-testid="cc">0 people<' in page
    assert c.post(f"/incidents/{public_a.number}/watch/", {"watch": "1"}).status_code == 302
    assert _logins(public_a) == ["reviewer"]
    page = c.get(public_a.get_absolute_url()).content.decode()
    assert ">Stop watching</button>" in page and "1 person (you among them)" in page
    # One history row naming the login, as Bugzilla's CC field.
    assert list(Event.objects.filter(subject_id=public_a.pk, field="cc").values_list("old", "new")) == [("", "reviewer")]
    # The settings page lists the same entry and leaves it.
    settings_page = c.get("/notifications/settings/").content.decode()
    assert f"Leave the CC list of bug {public_a.number}" in settings_page
    assert c.post("/notifications/settings/", {"form": "leave_cc", "number": public_a.number}).status_code == 302
    assert _logins(public_a) == []
    # Joining from the settings page is the button again.
    assert c.post("/notifications/settings/", {"form": "watch_incident", "number": public_a.number}).status_code == 302
    assert _logins(public_a) == ["reviewer"]
    assert c.post(f"/incidents/{public_a.number}/watch/", {"watch": "0"}).status_code == 302
    assert _logins(public_a) == []


def test_joining_follows_the_incident_with_reason_cc(public_a, reviewer, rep_a, django_capture_on_commit_callbacks):
    cc.cc_add(actor=reviewer, incident=public_a, user=reviewer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        act.comment_create(actor=rep_a, incident=public_a, body="Revoked all 12 certificates.")
    mine = [m for m in mail.outbox if m.to == ["reviewer@example.test"]]
    assert len(mine) == 1 and mine[0].extra_headers["X-Rootwatch-Reason"] == "CC"
    cc.cc_remove(actor=reviewer, incident=public_a, user=reviewer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        act.comment_create(actor=rep_a, incident=public_a, body="Closing soon.")
    assert not [m for m in mail.outbox if m.to == ["reviewer@example.test"]]


def test_who_may_join_add_and_remove(public_a, secret_a, staff, rep_a, rep_b, reviewer, anonymous):
    friend = _user("friend")
    # Nobody joins what they may not see; anonymous joins nothing.
    for user in (rep_b, reviewer):
        with pytest.raises(NotPermitted):
            cc.cc_add(actor=user, incident=secret_a, user=user)
    with pytest.raises(NotPermitted):
        cc.cc_add(actor=anonymous, incident=public_a, user=reviewer)
    with pytest.raises(NotPermitted):
        cc.cc_set_watching(actor=anonymous, incident=public_a, watching=True)
    # Joining oneself needs sight only; adding someone else needs the right to edit the list.
    cc.cc_add(actor=rep_b, incident=public_a, user=rep_b)
    for user in (rep_b, reviewer):
        with pytest.raises(NotPermitted):
            cc.cc_add(actor=user, incident=public_a, user=friend)
        with pytest.raises(NotPermitted):
            cc.cc_add(actor=user, incident=secret_a, user=friend)
    with pytest.raises(NotPermitted):  # taking someone else off
        cc.cc_remove(actor=reviewer, incident=public_a, user=rep_b)
    assert _logins(public_a) == ["rep_b"] and _logins(secret_a) == []
    cc.cc_add(actor=rep_a, incident=secret_a, user=friend)
    assert perm.can_view_incident(friend, secret_a)
    cc.cc_remove(actor=staff, incident=secret_a, user=friend)
    assert not perm.can_view_incident(friend, secret_a)
    assert cc.cc_add(actor=rep_b, incident=public_a, user=rep_b) == []  # already on it: no row


def test_marking_security_sensitive_takes_off_those_without_a_right_of_their_own(public_a, staff, rep_a, rep_b,
                                                                                reviewer, client_for):
    for user in (reviewer, rep_b, rep_a, staff):
        cc.cc_add(actor=user, incident=public_a, user=user)
    act.incident_update(actor=staff, incident=public_a, security_sensitive=True)
    public_a.refresh_from_db()
    assert _logins(public_a) == ["rep_a", "staff"]
    for user in (reviewer, rep_b):
        assert not perm.can_view_incident(user, public_a)
        assert client_for(user).get(public_a.get_absolute_url()).status_code == 404
    removed = set(Event.objects.filter(subject_id=public_a.pk, field="cc", new="").values_list("old", flat=True))
    assert removed == {"reviewer", "rep_b"}
    # Afterwards, those who may edit the list give sight deliberately.
    cc.cc_add(actor=rep_a, incident=public_a, user=reviewer)
    assert perm.can_view_incident(reviewer, public_a)


def test_the_cc_logins_are_shown_to_staff_the_ca_and_the_editors_only(make_incident, owner_a, staff, rep_a, rep_b,
                                                                      reviewer, client_for):
    reporter = _user("filer")
    incident = make_incident(owner_a, title="Public with a CC list", actor=reporter)
    on_cc = _user("oncc")
    cc.cc_add(actor=staff, incident=incident, user=on_cc)
    cc.cc_add(actor=reviewer, incident=incident, user=reviewer)
    for user, sees in ((staff, True), (rep_a, True), (reporter, True), (rep_b, False), (reviewer, False),
                       (on_cc, False), (None, False)):
        c = client_for(user)
        bug = c.get(f"/rest/bug/{incident.number}").json()["bugs"][0]
        assert bug["cc_count"] == 2
        assert bug["cc"] == (["oncc", "reviewer"] if sees else []), user
        assert len(bug["cc_detail"]) == (2 if sees else 0)
        page = c.get(incident.get_absolute_url()).content.decode()
        assert ('data-testid="cc">oncc, reviewer<' in page) is sees, user
        if not sees:
            assert "2 people" in page


def test_rest_list_of_many_bugs_with_cc_runs_a_fixed_number_of_queries(make_incident, owner_a, staff, rep_a,
                                                                          client_for, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(rep_a)
    counts = []
    for n in (3, 15):
        while owner_a.incidents.count() < n:
            made = make_incident(owner_a, title=f"Bug {owner_a.incidents.count()}")
            cc.cc_add(actor=staff, incident=made, user=staff)
        with CaptureQueriesContext(connection) as ctx:
            bugs = c.get("/rest/bug?include_fields=id,cc,cc_count").json()["bugs"]
        assert len(bugs) == n and all(b["cc"] == ["staff"] for b in bugs)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_the_migration_moves_only_people_who_may_see_the_incident(public_a, secret_a, rep_a, rep_b, reviewer, staff):
    """compliance 0006's rule (also notifications 0003's): a watcher goes on the CC list only if they
    may see the incident now, so moving them never gives sight of a security-sensitive incident."""
    import importlib

    migration = importlib.import_module("compliance.migrations.0006_cc_saved_searches_owner_aliases")
    pairs = [(public_a.pk, reviewer.pk), (public_a.pk, rep_b.pk), (secret_a.pk, reviewer.pk),
             (secret_a.pk, rep_b.pk), (secret_a.pk, rep_a.pk), (secret_a.pk, staff.pk)]
    kept = migration.may_see(apps, pairs)
    assert sorted(kept) == sorted([(public_a.pk, reviewer.pk), (public_a.pk, rep_b.pk),
                                   (secret_a.pk, rep_a.pk), (secret_a.pk, staff.pk)])
    assert all(perm.can_view_incident(u, i) for i, u in (
        (public_a, reviewer), (public_a, rep_b), (secret_a, rep_a), (secret_a, staff)))


def test_history_and_search_by_cc_follow_who_may_read_the_cc_list(make_incident, owner_a, staff, rep_a, rep_b,
                                                                    reviewer, client_for):
    incident = make_incident(owner_a, title="Public, CC'd")
    on_cc = _user("quietwatcher")
    cc.cc_add(actor=staff, incident=incident, user=on_cc)
    for user, sees in ((staff, True), (rep_a, True), (rep_b, False), (reviewer, False), (None, False)):
        c = client_for(user)
        history = c.get(f"/rest/bug/{incident.number}/history").json()["bugs"][0]["history"]
        assert any(ch["field_name"] == "cc" for h in history for ch in h["changes"]) is sees, user
        assert ("quietwatcher" in c.get(incident.get_absolute_url()).content.decode()) is sees, user
        found = [b["id"] for b in c.get("/rest/bug?cc=quietwatcher").json()["bugs"]]
        assert found == ([incident.number] if sees else []), user
