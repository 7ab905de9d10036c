"""Bugzilla's access rules for a security-sensitive incident: besides staff and the CA's
representatives, its reporter, its assignee and the people on its CC list see it, on every
surface (page, API, /rest/, feeds, export, notifications); nobody else does, and a person taken
off the CC list loses it. The CC list is changed only by those who may hand out that sight."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts import api_keys
from accounts import permissions as perm
from accounts.models import User
from compliance.actions import incidents as act
from compliance.models import Incident
from config.errors import DomainError, NotPermitted
from history.selectors import for_subject

pytestmark = pytest.mark.django_db

SECRET_TITLE = "Issuing CA key found on a public share"


def _person(name: str) -> User:
    return User.objects.create_user(username=name, email=f"{name}@example.test", password="x")


@pytest.fixture
def reporter(db):
    return _person("reporter")


@pytest.fixture
def assignee(db):
    return _person("assignee")


@pytest.fixture
def ccd(db):
    return _person("ccd")


@pytest.fixture
def secret(owner_a, reporter, assignee, ccd, staff):
    """A security-sensitive incident filed by a community reporter, assigned and with one person CC'd."""
    incident = act.incident_create(actor=reporter, ca_owner=owner_a, title=SECRET_TITLE,
                                   description="Found it while scanning.", security_sensitive=True)
    act.incident_update(actor=staff, incident=incident, assignee=assignee)
    act.incident_cc_change(actor=staff, incident=incident, add=[ccd])
    incident.refresh_from_db()
    return incident


def _sees_everywhere(client, incident) -> dict[str, bool]:
    n = incident.number
    return {
        "page": client.get(f"/incidents/{n}/").status_code == 200,
        "history": client.get(f"/incidents/{n}/history/").status_code == 200,
        "api": client.get(f"/api/v1/incidents/{n}/").status_code == 200,
        "api comments": client.get(f"/api/v1/incidents/{n}/comments/").status_code == 200,
        "api questions": client.get(f"/api/v1/incidents/{n}/questions/").status_code == 200,
        "api reports": client.get(f"/api/v1/incidents/{n}/reports/").status_code == 200,
        "rest bug": client.get(f"/rest/bug/{n}").status_code == 200,
        "rest comments": client.get(f"/rest/bug/{n}/comment").status_code == 200,
        "rest history": client.get(f"/rest/bug/{n}/history").status_code == 200,
        "list": SECRET_TITLE in client.get("/incidents/").content.decode(),
        "api list": n in [row["id"] for row in client.get("/api/v1/incidents/").json()["results"]],
        "rest search": n in [b["id"] for b in client.get("/rest/bug?product=CA Program").json()["bugs"]],
        "csv": SECRET_TITLE in client.get("/incidents/export.csv").content.decode(),
        "feed": SECRET_TITLE in client.get("/feeds/incidents.atom").content.decode(),
    }


@pytest.mark.parametrize("who", ["reporter", "assignee", "ccd", "staff", "rep_a"])
def test_reporter_assignee_and_cc_see_a_security_sensitive_incident_everywhere(who, request, secret, client_for):
    seen = _sees_everywhere(client_for(request.getfixturevalue(who)), secret)
    assert all(seen.values()), (who, seen)


@pytest.mark.parametrize("who", ["reviewer", "rep_b", "anonymous"])
def test_another_reviewer_another_cas_rep_and_anonymous_see_it_nowhere(who, request, secret, client_for):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    seen = _sees_everywhere(client_for(user), secret)
    assert not any(seen.values()), (who, seen)
    # The /rest/ answer is Bugzilla's "not authorized" (102), not a leak of the title.
    body = client_for(user).get(f"/rest/bug/{secret.number}").json()
    assert body["code"] == 102 and SECRET_TITLE not in str(body)


def test_a_person_taken_off_the_cc_list_loses_access_at_once(secret, ccd, staff, client_for):
    client = client_for(ccd)
    assert client.get(f"/incidents/{secret.number}/").status_code == 200
    act.incident_cc_change(actor=staff, incident=secret, remove=[ccd])
    assert client.get(f"/incidents/{secret.number}/").status_code == 404
    assert client.get(f"/api/v1/incidents/{secret.number}/").status_code == 404
    assert client.get(f"/rest/bug/{secret.number}").json()["code"] == 102
    assert not perm.can_view_incident(ccd, secret)
    assert not Incident.objects.visible_to(ccd).filter(pk=secret.pk).exists()


def test_leaving_the_cc_list_oneself_from_the_page(secret, ccd, client_for):
    client = client_for(ccd)
    page = client.get(f"/incidents/{secret.number}/").content.decode()
    assert "Take me off the CC list" in page and 'name="add"' not in page  # a CC'd person cannot add others
    response = client.post(f"/incidents/{secret.number}/cc/", {"leave": "1"})
    assert response.status_code == 302 and response["Location"] == "/incidents/"
    assert client.get(f"/incidents/{secret.number}/").status_code == 404


def test_a_previous_assignee_loses_access_unless_on_the_cc_list(secret, assignee, staff):
    act.incident_update(actor=staff, incident=secret, assignee=None)
    secret.refresh_from_db()
    assert not perm.can_view_incident(assignee, secret)


def test_cc_is_changed_by_staff_the_cas_rep_the_reporter_and_the_assignee_with_history(
    secret, staff, rep_a, reporter, assignee, ccd
):
    others = [_person(f"helper{n}") for n in range(4)]
    for actor, person in zip((staff, rep_a, reporter, assignee), others, strict=True):
        act.incident_cc_change(actor=actor, incident=secret, add=[person])
        assert perm.can_view_incident(person, secret)
    rows = list(for_subject(secret).filter(field="cc").values_list("actor_name", "old", "new", "staff_only"))
    assert rows == [("staff", "", "ccd", False), ("staff", "", "helper0", False), ("rep_a", "", "helper1", False),
                    ("reporter", "", "helper2", False), ("assignee", "", "helper3", False)]
    assert not any("@" in str(r) for r in rows)  # logins, never addresses


@pytest.mark.parametrize("who", ["ccd", "reviewer", "rep_b", "anonymous"])
def test_nobody_else_may_put_people_on_the_cc_list(who, request, secret, client_for):
    """Not the CC'd (sight is not passed from hand to hand), not outsiders, not another CA."""
    actor = request.getfixturevalue(who)
    intruder = _person("intruder")
    with pytest.raises(NotPermitted):
        act.incident_cc_change(actor=actor, incident=secret, add=[intruder])
    assert not perm.can_view_incident(intruder, secret)
    client = client_for(None if who == "anonymous" else actor)
    response = client.post(f"/incidents/{secret.number}/cc/", {"add": "intruder"})
    assert response.status_code in (302, 403, 404)
    assert not secret.cc.filter(pk=intruder.pk).exists()


def test_a_reviewer_cannot_place_people_on_a_public_incident_before_it_becomes_sensitive(
    owner_a, reviewer, staff, client_for
):
    public = act.incident_create(actor=None, ca_owner=owner_a, title="Public for now", description="d")
    friend = _person("friend")
    with pytest.raises(NotPermitted):
        act.incident_cc_change(actor=reviewer, incident=public, add=[friend])
    assert client_for(reviewer).post(f"/incidents/{public.number}/cc/", {"add": "friend"}).status_code == 403
    # Watching a public incident gives nothing once it is security-sensitive.
    act.incident_watch(actor=reviewer, incident=public, watching=True)
    act.incident_update(actor=staff, incident=public, security_sensitive=True)
    public.refresh_from_db()
    assert not perm.can_view_incident(reviewer, public)


def test_the_cc_form_refuses_an_unknown_login_keeps_what_was_typed_and_changes_nothing(secret, reporter, client_for):
    client = client_for(reporter)
    before = set(secret.cc.values_list("pk", flat=True))
    response = client.post(f"/incidents/{secret.number}/cc/", {"add": "ccd, nosuchperson"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "No active user with the login nosuchperson" in page and 'value="ccd, nosuchperson"' in page
    assert set(secret.cc.values_list("pk", flat=True)) == before


def test_the_cc_form_adds_and_removes_by_login(secret, reporter, ccd, client_for):
    newcomer = _person("newcomer")
    client = client_for(reporter)
    response = client.post(f"/incidents/{secret.number}/cc/", {"add": "newcomer", "remove": [ccd.pk]})
    assert response.status_code == 302
    assert list(secret.cc.values_list("username", flat=True)) == ["newcomer"]
    assert perm.can_view_incident(newcomer, secret) and not perm.can_view_incident(ccd, secret)
    assert 'data-testid="cc">newcomer<' in client.get(f"/incidents/{secret.number}/").content.decode()


def test_cc_change_refuses_bad_input_and_changes_nothing(secret, staff):
    inactive = _person("gone")
    inactive.is_active = False
    inactive.save()
    with pytest.raises(DomainError) as raised:
        act.incident_cc_change(actor=staff, incident=secret, add=[inactive])
    assert "add" in raised.value.errors
    assert not secret.cc.filter(pk=inactive.pk).exists()


def test_rest_bug_cc_is_the_cc_list_as_logins_not_the_watchers(secret, reporter, ccd, client_for):
    bug = client_for(reporter).get(f"/rest/bug/{secret.number}").json()["bugs"][0]
    # The reporter watches (filing watches), but the CC list is who was CC'd.
    assert bug["cc"] == ["ccd"]
    assert [d["email"] for d in bug["cc_detail"]] == ["ccd"]  # the login: addresses are never published
    assert "@" not in str(bug["cc_detail"]) and bug["creator"] == "reporter" and bug["assigned_to"] == "assignee"
    history = client_for(reporter).get(f"/rest/bug/{secret.number}/history").json()["bugs"][0]["history"]
    assert {"field_name": "cc", "removed": "", "added": "ccd"} in [c for h in history for c in h["changes"]]
    found = client_for(reporter).get("/rest/bug?cc=ccd").json()["bugs"]
    assert [b["id"] for b in found] == [secret.number]


def test_comments_questions_reports_and_affected_certificates_follow_the_rule(secret, ccd, reviewer, client_for):
    act.comment_create(actor=ccd, incident=secret, body="CC'd and commenting.")
    question = act.question_ask(actor=ccd, incident=secret, body="When is the key destroyed?")
    assert perm.can_answer_question(ccd, question) is False  # asked of the CA
    asked = act.question_ask(actor=ccd, incident=secret, body="Reporter, where?", asked_user=secret.reporter)
    assert perm.can_answer_question(secret.reporter, asked)
    with pytest.raises(DomainError):  # nobody may be asked who cannot see it
        act.question_ask(actor=ccd, incident=secret, body="?", asked_user=reviewer)
    with pytest.raises(NotPermitted):  # reports stay the CA's (and staff's)
        act.report_post(actor=ccd, incident=secret, kind="preliminary", data={})
    for user, allowed in ((ccd, True), (reviewer, False)):
        with pytest.raises(NotPermitted) if not allowed else _nothing():
            act.comment_create(actor=user, incident=secret, body="hello")
        assert perm.can_view_incident(user, secret) is allowed
    assert client_for(reviewer).get(f"/api/v1/incidents/{secret.number}/comments/").status_code == 404
    assert client_for(reviewer).get(f"/feeds/incidents/{secret.number}/comments.atom").status_code == 404
    assert client_for(ccd).get(f"/feeds/incidents/{secret.number}/comments.atom").status_code == 200


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_reporters_api_key_sees_their_security_sensitive_incident_and_anothers_does_not(secret, reporter, reviewer,
                                                                                         client):
    mine = api_keys.api_key_create(actor=reporter, name="mine", read_only=True).plain
    theirs = api_keys.api_key_create(actor=reviewer, name="theirs", read_only=True).plain
    assert client.get(f"/rest/bug/{secret.number}?api_key={mine}").status_code == 200
    assert client.get(f"/rest/bug/{secret.number}?api_key={theirs}").json()["code"] == 102
    csv = client.get("/incidents/export.csv", HTTP_AUTHORIZATION=f"Token {mine}").content.decode()
    assert csv.count(SECRET_TITLE) == 1
    assert SECRET_TITLE not in client.get("/incidents/export.csv", HTTP_AUTHORIZATION=f"Token {theirs}").content.decode()


def test_reminders_of_a_security_sensitive_incident_reach_the_cc_list_but_not_watchers_who_may_not_see(
    owner_a, rep_a, reviewer, staff
):
    from notifications import actions as notify
    from notifications.models import Notification
    from tests.notifications.notif_support import NOW

    disclosed = NOW - timedelta(days=4)
    secret = Incident.objects.create(number=1990001, ca_owner=owner_a, title="Acme Trust: secret", status="ASSIGNED",
                                     security_sensitive=True, first_disclosed_at=disclosed, created_at=disclosed,
                                     updated_at=disclosed)
    on_cc, outsider = _person("oncc"), _person("outsider")
    secret.cc.add(on_cc)
    # Watching its CA (watching one incident is being on its CC list) gives no sight of it.
    from notifications.models import Watch

    Watch.objects.bulk_create([Watch(user=outsider, ca_owner=owner_a), Watch(user=reviewer, ca_owner=owner_a)])
    notify.sweep_run(now=NOW, enqueue=False)
    recipients = set(Notification.objects.filter(subject_id=secret.pk).values_list("recipient__username", flat=True))
    assert "oncc" in recipients and "rep_a" in recipients
    assert "outsider" not in recipients and "reviewer" not in recipients
    secret.cc.remove(on_cc)
    Notification.objects.all().delete()
    notify.sweep_run(now=NOW, enqueue=False)
    assert not Notification.objects.filter(recipient=on_cc).exists()


def test_list_query_count_does_not_grow_with_the_cc_list(owner_a, reviewer, client_for):
    """The CC rule is a subquery of the list's own query: a reviewer on many CC lists costs nothing more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(reviewer)
    counts = []
    for n in (2, 30):
        for i in range(n - Incident.objects.count()):
            incident = act.incident_create(actor=None, ca_owner=owner_a, title=f"Secret {i}", description="d",
                                           security_sensitive=True)
            incident.cc.add(reviewer)
        client.get("/incidents/")
        with CaptureQueriesContext(connection) as ctx:
            page = client.get("/incidents/").content.decode()
        counts.append(len(ctx.captured_queries))
        assert page.count("Secret ") >= n
    assert counts[0] == counts[1], counts


@pytest.mark.django_db(transaction=True)
def test_python_bugzilla_sees_what_the_reporter_and_cc_may_see_and_nothing_for_others(live_server, owner_a, staff):
    import bugzilla

    reporter, on_cc, outsider = _person("reporter2"), _person("oncc2"), _person("outsider2")
    incident = act.incident_create(actor=reporter, ca_owner=owner_a, title=SECRET_TITLE, description="d",
                                   security_sensitive=True)
    act.incident_cc_change(actor=staff, incident=incident, add=[on_cc])
    url = f"{live_server.url}/rest"
    for user in (reporter, on_cc):
        bz = bugzilla.Bugzilla(url, force_rest=True, api_key=api_keys.api_key_create(actor=user, name="k").plain)
        bug = bz.getbug(incident.number)
        # The CC list's logins are read by those who may edit it (the reporter), not by those on it.
        assert bug.summary.endswith(SECRET_TITLE) and bug.cc == (["oncc2"] if user == reporter else [])
        assert bug.cc_count == 1
        assert [b.id for b in bz.query(bz.build_query(component="CA Security Vulnerability"))] == [incident.number]
    bz = bugzilla.Bugzilla(url, force_rest=True, api_key=api_keys.api_key_create(actor=outsider, name="k").plain)
    with pytest.raises(bugzilla.BugzillaError) as raised:
        bz.getbug(incident.number)
    assert raised.value.code == 102
    assert bz.query(bz.build_query(component="CA Security Vulnerability")) == []


# --- Staff decisions and the assessment ----------------------------------------------------

DECISION_NOTE = "MARKER-7f3a staff decided to distrust quietly"


def _everything_shown(client, incident) -> str:
    """Every surface that shows an incident's decisions or history, as one text."""
    n = incident.number
    parts = [
        client.get(f"/incidents/{n}/").content.decode(),
        client.get(f"/incidents/{n}/history/").content.decode(),
        client.get(f"/api/v1/incidents/{n}/").content.decode(),
        client.get(f"/rest/bug/{n}").content.decode(),
        client.get(f"/rest/bug/{n}/history").content.decode(),
        client.get(f"/feeds/incidents/{n}/comments.atom").content.decode(),
        client.get("/feeds/incidents.atom").content.decode(),
        client.get("/incidents/export.csv").content.decode(),
    ]
    return "\n".join(parts)


def _rest_history_fields(client, incident) -> list[str]:
    history = client.get(f"/rest/bug/{incident.number}/history").json()["bugs"][0]["history"]
    return [c["field_name"] for h in history for c in h["changes"]]


def test_a_decision_recorded_on_the_assessment_page_is_staff_only_unless_published(
    secret, staff, rep_a, rep_b, reporter, ccd, reviewer, client_for
):
    before = Incident.objects.get(pk=secret.pk).updated_at
    response = client_for(staff).post(f"/incidents/{secret.number}/decisions/",
                                      {"action": "distrust_intermediate", "note": DECISION_NOTE})
    assert response.status_code == 302
    decision = secret.decisions.get()
    assert decision.is_private  # the form's default, and a post without the field
    row = for_subject(secret).get(field="decision")
    assert row.staff_only
    # Public lists, feeds and /rest/ last_change_time do not move for a change their readers cannot see.
    assert Incident.objects.get(pk=secret.pk).updated_at == before
    # Everyone who may see the incident but is not staff: not the decision, anywhere.
    for user in (rep_a, reporter, ccd):
        client = client_for(user)
        shown = _everything_shown(client, secret)
        assert DECISION_NOTE not in shown and "distrust_intermediate" not in shown, user
        assert "decision" not in _rest_history_fields(client, secret), user
    for user in (rep_b, reviewer, None):
        assert DECISION_NOTE not in _everything_shown(client_for(user), secret)
    staff_client = client_for(staff)
    assert DECISION_NOTE in staff_client.get(f"/incidents/{secret.number}/").content.decode()
    assert "decision" in _rest_history_fields(staff_client, secret)


def test_a_public_decision_shows_to_everyone_who_may_see_the_incident(owner_a, staff, rep_b, client_for):
    public = act.incident_create(actor=None, ca_owner=owner_a, title="Public one", description="d")
    response = client_for(staff).post(f"/incidents/{public.number}/decisions/",
                                      {"action": "no_action", "note": DECISION_NOTE, "is_private": "public"})
    assert response.status_code == 302 and not public.decisions.get().is_private
    assert not for_subject(public).get(field="decision").staff_only
    for user in (None, rep_b):
        client = client_for(user)
        assert DECISION_NOTE in client.get(f"/incidents/{public.number}/").content.decode()
        assert "decision" in _rest_history_fields(client, public)


def test_staff_publish_a_private_decision_and_nobody_else_may(secret, staff, rep_a, reporter, client_for):
    decision = act.decision_record(actor=staff, incident=secret, action="no_action", note=DECISION_NOTE)
    url = f"/incidents/{secret.number}/decisions/{decision.pk}/publish/"
    for user in (rep_a, reporter):
        with pytest.raises(NotPermitted):
            act.decision_publish(actor=user, decision=decision)
        assert client_for(user).post(url).status_code == 403
    decision.refresh_from_db()
    assert decision.is_private
    assert client_for(staff).post(url).status_code == 302
    decision.refresh_from_db()
    assert not decision.is_private
    assert DECISION_NOTE in client_for(reporter).get(f"/incidents/{secret.number}/").content.decode()
    rows = list(for_subject(secret).filter(field="decision").values_list("staff_only", flat=True))
    assert rows == [True, False]  # the recording stays staff-only; the publication is public
    assert _rest_history_fields(client_for(reporter), secret).count("decision") == 1
    with pytest.raises(DomainError):
        act.decision_publish(actor=staff, decision=decision)


def test_the_assessment_and_its_history_stay_staff_only_everywhere(secret, staff, rep_a, reporter, ccd, client_for):
    act.assessment_save(actor=staff, incident=secret, cert_type="tls", count=3, enumerable=True,
                        notes="MARKER-assessment-note")
    assert all(e.staff_only for e in for_subject(secret).filter(field__startswith="assessment."))
    for user in (rep_a, reporter, ccd):
        client = client_for(user)
        assert client.get(f"/incidents/{secret.number}/assessment/").status_code == 403
        shown = _everything_shown(client, secret)
        assert "MARKER-assessment-note" not in shown and "assessment." not in shown, user
        assert not [f for f in _rest_history_fields(client, secret) if f.startswith("assessment")]
    assert [f for f in _rest_history_fields(client_for(staff), secret) if f.startswith("assessment")]


def test_a_reviewer_who_files_a_security_sensitive_incident_lands_on_it_and_keeps_it(owner_a, reviewer, rep_b,
                                                                                      client_for):
    client = client_for(reviewer)
    response = client.post("/incidents/new/", {"ca_owner": owner_a.pk, "title": "Exposed key", "source": "third_party",
                                               "description": "Found a key.", "security_sensitive": "on"})
    assert response.status_code == 302
    incident = Incident.objects.get(title="Acme Trust: Exposed key")
    assert incident.security_sensitive and incident.reporter == reviewer
    assert client.get(response["Location"]).status_code == 200
    act.comment_create(actor=reviewer, incident=incident, body="More detail for the CA.")
    assert client.get(f"/api/v1/incidents/{incident.number}/comments/").json()["count"] == 2
    assert client_for(rep_b).get(response["Location"]).status_code == 404


def test_affected_certificates_of_a_security_sensitive_incident_follow_the_rule(secret, reporter, ccd, reviewer,
                                                                                 rep_b, client_for):
    from django.utils import timezone

    from compliance.models import AffectedCertificate

    now = timezone.now()
    AffectedCertificate.objects.create(incident=secret, sha256="ab" * 32, subject="CN=MARKER-affected.example",
                                       issuer="CN=Acme Issuing CA", serial_hex="01", not_before=now, not_after=now)
    for user in (reporter, ccd):
        assert "MARKER-affected.example" in client_for(user).get(f"/incidents/{secret.number}/").content.decode()
    for user in (reviewer, rep_b, None):
        response = client_for(user).get(f"/incidents/{secret.number}/")
        assert response.status_code == 404 and "MARKER-affected" not in response.content.decode()
