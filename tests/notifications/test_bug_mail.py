"""Bug-mail: an incident's events reach the people concerned at once, exactly once, through the outbox,
and never anyone who may not see what the mail shows."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.conftest import _user

pytestmark = pytest.mark.django_db


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    """Run an action as a request would: commit, then the queued sends (eager Celery, locmem mail)."""

    def run(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run


@pytest.fixture
def incident(act, owner_a, staff):
    from compliance.actions import incidents as actions

    made = act(actions.incident_create, actor=staff, ca_owner=owner_a, title="OCSP outage",
               description="OCSP responders answered unknown for 3 hours.")
    mail.outbox.clear()
    return made


def _to(message) -> str:
    return message.to[0]


def _by_address() -> dict[str, list]:
    out: dict[str, list] = {}
    for m in mail.outbox:
        out.setdefault(_to(m), []).append(m)
    return out


def test_a_question_to_the_ca_reaches_its_representative_at_once(act, incident, staff, rep_a, rep_b, reviewer):
    from compliance.actions import incidents as actions
    from notifications.models import Notification

    act(actions.question_ask, actor=staff, incident=incident, body="How many certificates are affected?")
    got = _by_address()
    assert [m.extra_headers["X-Rootwatch-Type"] for m in got["rep_a@example.test"]] == ["question_asked"]
    question = got["rep_a@example.test"][0]
    assert question.extra_headers["X-Rootwatch-Reason"] == "Asked"
    assert "How many certificates are affected?" in question.body
    assert "You get this mail because: You were asked." in question.body
    assert "List-Unsubscribe" in question.extra_headers
    # The asker is not mailed their own question; people with no tie to the incident are not mailed.
    assert set(got) == {"rep_a@example.test"}
    row = Notification.objects.get(recipient=rep_a)
    assert row.state == Notification.State.SENT and row.delivery == "immediate"


def test_a_question_to_a_named_person_goes_to_them_and_the_others_get_it_as_a_comment(
        act, incident, staff, rep_a, reviewer):
    from compliance.actions import incidents as actions

    actions.incident_cc_change(actor=staff, incident=incident, add=[reviewer])
    mail.outbox.clear()
    act(actions.question_ask, actor=staff, incident=incident, body="Can you reproduce?", asked_user=reviewer)
    got = {address: [m.extra_headers["X-Rootwatch-Type"] for m in ms] for address, ms in _by_address().items()}
    assert got == {"reviewer@example.test": ["question_asked"], "rep_a@example.test": ["comment_added"]}


def test_a_comment_reaches_reporter_cc_watchers_and_representatives_once_and_not_its_author(
        act, incident, staff, rep_a, reviewer, owner_a):
    from compliance.actions import incidents as actions
    from notifications import actions as notes

    watcher = _user("watcher")
    owner_watcher = _user("ownerwatch")
    from compliance.actions import cc

    cc.cc_add(actor=watcher, incident=incident, user=watcher)  # the Watch button: joining the CC list
    notes.watch_add(actor=owner_watcher, ca_owner=owner_a)
    actions.incident_cc_change(actor=staff, incident=incident, add=[reviewer])
    mail.outbox.clear()
    act(actions.comment_create, actor=rep_a, incident=incident, body="We have revoked the certificates.")
    got = _by_address()
    assert {a: len(ms) for a, ms in got.items()} == {
        "staff@example.test": 1, "reviewer@example.test": 1, "watcher@example.test": 1, "ownerwatch@example.test": 1,
    }
    assert got["staff@example.test"][0].extra_headers["X-Rootwatch-Reason"] == "Reporter"
    assert got["reviewer@example.test"][0].extra_headers["X-Rootwatch-Reason"] == "CC"
    assert got["watcher@example.test"][0].extra_headers["X-Rootwatch-Reason"] == "CC"
    assert got["ownerwatch@example.test"][0].extra_headers["X-Rootwatch-Reason"] == "Watch"
    assert "rep_a wrote a comment" in got["watcher@example.test"][0].body


def test_a_private_comment_reaches_staff_only(act, incident, staff, rep_a, reviewer):
    from compliance.actions import incidents as actions

    other_staff = _user("staff2", staff=True)
    actions.incident_cc_change(actor=staff, incident=incident, add=[reviewer, other_staff])
    mail.outbox.clear()
    act(actions.comment_create, actor=staff, incident=incident, body="Internal: compare with bug 1.", is_private=True)
    assert set(_by_address()) == {"staff2@example.test"}
    assert "private: root program staff only" in mail.outbox[0].body


def test_a_security_sensitive_incident_mails_nobody_who_cannot_see_it(act, owner_a, owner_b, staff, rep_a, rep_b, reviewer):
    from compliance.actions import incidents as actions
    from notifications.models import Notification, Watch

    other_staff = _user("staff2", staff=True)
    cc_person = _user("ccperson")
    # Watches made while they could see (or about another CA): they must not open a way in.
    Watch.objects.create(user=reviewer, ca_owner=owner_a)
    Watch.objects.create(user=rep_b, ca_owner=owner_a)
    incident = act(actions.incident_create, actor=staff, ca_owner=owner_a, title="Key compromise",
                   description="A private key was exposed.", security_sensitive=True)
    filed = _by_address()
    # A new security-sensitive incident goes to staff at once, and to the CA's representatives.
    assert set(filed) == {"staff2@example.test", "rep_a@example.test"}
    assert filed["staff2@example.test"][0].extra_headers["X-Rootwatch-Reason"] == "Staff"
    mail.outbox.clear()
    actions.incident_cc_change(actor=staff, incident=incident, add=[cc_person])
    from compliance.actions import cc

    cc.cc_add(actor=other_staff, incident=incident, user=other_staff)
    mail.outbox.clear()
    act(actions.comment_create, actor=rep_a, incident=incident, body="Revoked within 24 hours.")
    act(actions.incident_update, actor=staff, incident=incident, whiteboard="[ca-compliance] [dv-misissuance]")
    act(actions.question_ask, actor=staff, incident=incident, body="Which HSM?")
    addresses = {_to(m) for m in mail.outbox}
    # staff filed it (Reporter) and hears of rep_a's comment; nobody hears of their own change.
    assert addresses == {"staff@example.test", "staff2@example.test", "ccperson@example.test", "rep_a@example.test"}
    for outsider in (reviewer, rep_b):
        assert not Notification.objects.filter(recipient=outsider).exists()


def test_status_change_mail_shows_labels_and_threads_under_the_new_incident_mail(act, owner_a, staff, rep_a):
    from compliance.actions import incidents as actions

    incident = act(actions.incident_create, actor=staff, ca_owner=owner_a, title="CRL too large",
                   description="The CRL exceeded 10 MB.")
    root = mail.outbox[0]
    assert _to(root) == "rep_a@example.test" and root.extra_headers["X-Rootwatch-Type"] == "incident_filed"
    mail.outbox.clear()
    act(actions.incident_update, actor=staff, incident=incident, status="RESOLVED", resolution="FIXED",
        source="third_party")
    (change,) = mail.outbox
    assert "Status: Assigned → Resolved" in change.body
    assert "Resolution: (none) → Fixed" in change.body
    assert "Source: Self reported → Third party reported" in change.body
    assert change.extra_headers["In-Reply-To"] == root.extra_headers["Message-ID"]
    assert change.extra_headers["References"] == root.extra_headers["Message-ID"]
    assert change.subject == f"[Rootwatch] Bug {incident.number}: {incident.title}"


def test_a_posted_report_is_mailed_with_its_text(act, incident, staff, rep_a):
    from compliance.actions import incidents as actions
    act(actions.report_post, actor=rep_a, incident=incident, kind="preliminary", data={
        "incident_description": "OCSP down", "relevant_policies": "N/A", "source_of_disclosure": "Self Reported"})
    (report,) = mail.outbox
    assert _to(report) == "staff@example.test"
    assert report.extra_headers["X-Rootwatch-Type"] == "report_posted"
    assert "posted the preliminary report, version 1" in report.body


def test_each_person_chooses_per_kind_immediate_digest_or_nothing(act, incident, staff, rep_a, client_for):
    from compliance.actions import incidents as actions
    from notifications import actions as notes
    from notifications.models import Notification

    page = client_for(rep_a).post("/notifications/settings/", {
        "form": "delivery", "delivery": "immediate", "questions": "immediate", "comments": "digest", "changes": "none",
    })
    assert page.status_code == 302
    act(actions.comment_create, actor=staff, incident=incident, body="Please post the full report.")
    act(actions.incident_update, actor=staff, incident=incident, whiteboard="[ca-compliance]")
    act(actions.question_ask, actor=staff, incident=incident, body="When is the full report due?")
    assert [m.extra_headers["X-Rootwatch-Type"] for m in mail.outbox] == ["question_asked"]
    rows = dict(Notification.objects.filter(recipient=rep_a).values_list("kind", "state"))
    assert rows == {"comment_added": "pending", "incident_changed": "skipped", "question_asked": "sent"}
    # The comment waits for the daily digest; the change is shown in the app only.
    notes.digest_run()
    digest = mail.outbox[-1]
    assert "Daily digest: 1 notification" in digest.subject and "(New comment)" in digest.body
    # One click from any mail stops every kind.
    token = notes.unsubscribe_token(rep_a)
    notes.unsubscribe(token=token)
    mail.outbox.clear()
    act(actions.question_ask, actor=staff, incident=incident, body="Anyone there?")
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=rep_a, kind="question_asked", state="skipped").count() == 1


def test_a_refused_preference_keeps_everything_as_it_was(rep_a, client_for):
    from notifications.models import NotificationPreference

    page = client_for(rep_a).post("/notifications/settings/", {"form": "delivery", "delivery": "immediate",
                                                               "comments": "hourly"})
    assert page.status_code == 400
    assert "Select a valid choice" in page.content.decode()
    assert not NotificationPreference.objects.filter(user=rep_a).exists()


def test_events_show_in_the_app_with_their_reason_and_count(act, incident, staff, rep_a, reviewer, client_for):
    from compliance.actions import incidents as actions

    act(actions.question_ask, actor=staff, incident=incident, body="Is the root affected?")
    page = client_for(rep_a).get("/notifications/")
    text = page.content.decode()
    assert "Question for you" in text and "You were asked" in text and f"Bug {incident.number}" in text
    assert client_for(reviewer).get("/notifications/").content.decode().count('data-testid="notification"') == 0


def test_the_outbox_sends_an_event_once_and_retries_when_smtp_is_down(
        act, incident, staff, rep_a, settings, smtp_server, django_capture_on_commit_callbacks):
    from compliance.actions import incidents as actions
    from notifications import actions as notes
    from notifications.models import Notification

    port = smtp_server.port
    settings.EMAIL_PORT = 1  # nothing listens: the send fails, the row waits
    act(actions.question_ask, actor=staff, incident=incident, body="Status?")
    row = Notification.objects.get(recipient=rep_a, kind="question_asked")
    assert row.state == "pending" and row.attempts == 1 and row.last_error
    settings.EMAIL_PORT = port
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        notes.sweep_run()
    assert [to for to, key in smtp_server.keys()] == ["rep_a@example.test"]
    again = notes.notification_send(notification_id=row.pk)
    assert not again.claimed and len(smtp_server.keys()) == 1
