"""The sweep turns incident deadlines into notifications for the right people, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from notifications import actions
from notifications.models import Delivery, Kind, Notification, NotificationPreference, Watch
from tests.notifications.notif_support import NOW

pytestmark = pytest.mark.django_db


def kinds_for(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_overdue_first_response_reaches_reps_and_staff_not_other_cas_or_reviewers(
    make_incident, owner_a, rep_a, rep_b, staff, reviewer, django_capture_on_commit_callbacks
):
    make_incident(owner_a, disclosed=NOW - timedelta(days=4))  # 72 h first response overdue
    with django_capture_on_commit_callbacks(execute=True):
        run = actions.sweep_run(now=NOW)
    assert Kind.FIRST_RESPONSE_OVERDUE in kinds_for(rep_a)
    assert Kind.FIRST_RESPONSE_OVERDUE in kinds_for(staff)
    assert kinds_for(rep_b) == [] and kinds_for(reviewer) == []
    # rep_a: immediate mail; staff default to the daily digest, so no mail yet.
    assert [m.to for m in mail.outbox] == [[rep_a.email]]
    assert "Bug " in mail.outbox[0].subject
    assert "/notifications/unsubscribe/" in mail.outbox[0].body
    assert mail.outbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert Notification.objects.get(recipient=rep_a).state == Notification.State.SENT
    assert Notification.objects.get(recipient=staff, kind=Kind.FIRST_RESPONSE_OVERDUE).state == "pending"
    assert run.found >= 1 and run.created == Notification.objects.count() and run.errors == []


def test_second_sweep_makes_and_sends_nothing_new(make_incident, owner_a, rep_a, staff, django_capture_on_commit_callbacks):
    make_incident(owner_a, disclosed=NOW - timedelta(days=20))
    with django_capture_on_commit_callbacks(execute=True):
        first = actions.sweep_run(now=NOW)
    rows, mails = Notification.objects.count(), len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        second = actions.sweep_run(now=NOW + timedelta(minutes=15))
    assert first.created == rows and rows > 0
    assert second.found == first.found and second.created == 0
    assert Notification.objects.count() == rows and len(mail.outbox) == mails


def test_due_soon_reminds_the_ca_but_not_staff(make_incident, owner_a, rep_a, staff):
    make_incident(owner_a, disclosed=NOW - timedelta(hours=60))  # 12 h left of 72
    actions.sweep_run(now=NOW, enqueue=False)
    assert kinds_for(rep_a) == [Kind.FIRST_RESPONSE_SOON]
    assert kinds_for(staff) == []


def test_nothing_for_deadlines_far_away_or_met_or_closed_incidents(make_incident, owner_a, rep_a):
    from compliance.models import Incident

    make_incident(owner_a, disclosed=NOW - timedelta(hours=2))
    make_incident(owner_a, disclosed=NOW - timedelta(days=30), status=Incident.Status.RESOLVED)
    make_incident(owner_a, disclosed=NOW - timedelta(days=2), first_response_at=NOW - timedelta(days=1),
                  full_report_at=NOW - timedelta(days=1))
    run = actions.sweep_run(now=NOW, enqueue=False)
    assert run.found == 0 and Notification.objects.count() == 0


def test_question_unanswered_for_seven_days_goes_to_the_asked_person(make_incident, owner_a, rep_a, reviewer, staff):
    from compliance.models import Comment, Question

    incident = make_incident(owner_a, disclosed=NOW - timedelta(days=30), first_response_at=NOW - timedelta(days=29),
                             full_report_at=NOW - timedelta(days=20), last_update_at=NOW - timedelta(hours=1))
    comment = Comment.objects.create(incident=incident, author=staff, kind="question", body="Why?",
                                     created_at=NOW - timedelta(days=8))
    Question.objects.create(incident=incident, comment=comment, asked_user=reviewer, asked_at=NOW - timedelta(days=8))
    comment2 = Comment.objects.create(incident=incident, author=staff, kind="question", body="And?",
                                      created_at=NOW - timedelta(days=6))
    Question.objects.create(incident=incident, comment=comment2, asked_user=None, asked_at=NOW - timedelta(days=6))
    actions.sweep_run(now=NOW, enqueue=False)
    assert kinds_for(reviewer) == [Kind.QUESTION_UNANSWERED]  # asked 8 days ago
    assert kinds_for(rep_a) == []  # the question to the CA is 6 days old


def test_missed_revocation_delay_update(make_incident, owner_a, rep_a, staff):
    make_incident(owner_a, whiteboard="[ca-compliance] [leaf-revocation-delay]", disclosed=NOW - timedelta(days=30),
                  first_response_at=NOW - timedelta(days=29), full_report_at=NOW - timedelta(days=20),
                  last_update_at=NOW - timedelta(days=4))
    actions.sweep_run(now=NOW, enqueue=False)
    assert kinds_for(rep_a) == [Kind.REVOCATION_UPDATE_OVERDUE]
    assert kinds_for(staff) == [Kind.REVOCATION_UPDATE_OVERDUE]


def test_watchers_get_overdue_reminders_but_never_of_a_security_incident_they_cannot_see(
    make_incident, owner_a, owner_b, rep_a, rep_b, reviewer
):
    public = make_incident(owner_a, disclosed=NOW - timedelta(days=4))
    secret = make_incident(owner_a, disclosed=NOW - timedelta(days=4), security_sensitive=True)
    Watch.objects.create(user=reviewer, ca_owner=owner_a)
    # (Watching one incident is being on its CC list: tests/incidents/test_cc_list.py.)
    actions.sweep_run(now=NOW, enqueue=False)
    assert set(Notification.objects.filter(recipient=reviewer).values_list("subject_id", flat=True)) == {public.pk}
    assert kinds_for(rep_b) == []
    assert set(Notification.objects.filter(recipient=rep_a).values_list("subject_id", flat=True)) == {public.pk, secret.pk}


def test_delivery_choice_decides_mail_digest_or_app_only(make_incident, owner_a, rep_a, staff, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=rep_a, delivery=Delivery.NONE)
    NotificationPreference.objects.create(user=staff, delivery=Delivery.IMMEDIATE)
    make_incident(owner_a, disclosed=NOW - timedelta(days=4))
    with django_capture_on_commit_callbacks(execute=True):
        actions.sweep_run(now=NOW)
    assert Notification.objects.get(recipient=rep_a).state == Notification.State.SKIPPED
    assert [m.to for m in mail.outbox] == [[staff.email]]


def test_daily_digest_sends_one_mail_per_reader_once(make_incident, owner_a, staff, rep_a):
    make_incident(owner_a, disclosed=NOW - timedelta(days=4))
    make_incident(owner_a, disclosed=NOW - timedelta(days=20))
    actions.sweep_run(now=NOW, enqueue=False)
    pending = Notification.objects.filter(recipient=staff, state="pending").count()
    assert pending >= 3
    run = actions.digest_run()
    again = actions.digest_run()
    digests = [m for m in mail.outbox if m.to == [staff.email]]
    assert len(digests) == 1 and f"{pending} notifications" in digests[0].subject
    assert run.sent == 1 and again.sent == 0
    assert not Notification.objects.filter(recipient=staff).exclude(state="sent").exists()


def test_a_broken_finder_is_recorded_and_the_others_still_run(monkeypatch, make_incident, owner_a, rep_a):
    from notifications import finders

    def broken(*, now):
        raise RuntimeError("source not ready")

    monkeypatch.setattr(finders, "FINDERS", (broken, *finders.FINDERS))
    make_incident(owner_a, disclosed=NOW - timedelta(days=4))
    run = actions.sweep_run(now=NOW, enqueue=False)
    assert run.errors == ["broken: RuntimeError: source not ready"]
    assert kinds_for(rep_a) == [Kind.FIRST_RESPONSE_OVERDUE]
