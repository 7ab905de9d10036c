"""A CA-provided statement the auditor does not confirm: request, 3 follow-ups 7 days apart, then staff.

The clock moves by passing `now=` to the sweep; the request itself is the audits feature's
(audits.actions.statement_request_verification), which stamps real time, so day 0 is now.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications import actions
from notifications.models import Kind, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_statement(staff, rep_a, owner_a, django_capture_on_commit_callbacks):
    from audits import actions as audit_actions

    auditor = audit_actions.auditor_create(actor=staff, name="Example Audit LLP", contact_name="Pat Auditor",
                                           contact_email="verify@auditor.example")
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        statement = audit_actions.statement_submit(
            actor=rep_a, ca_owner=owner_a, auditor=auditor, source="ca", kind="period",
            period_start=today - timedelta(days=400), period_end=today - timedelta(days=36),
            statement_date=today - timedelta(days=30), url="https://example.test/audit.pdf",
            criteria=[audit_actions.CriterionInput(key="webtrust-ca")],
        )
    return statement


def _sweep(now, callbacks):
    with callbacks(execute=True):
        return actions.sweep_run(now=now)


def test_request_then_three_follow_ups_seven_days_apart_then_staff(
    pending_statement, staff, rep_a, django_capture_on_commit_callbacks
):
    statement = pending_statement
    to_auditor = lambda: [m for m in mail.outbox if m.to == ["verify@auditor.example"]]  # noqa: E731
    assert len(to_auditor()) == 1  # day 0: the request made at submission
    day0 = timezone.now()

    timeline = []
    for day in (1, 6, 7, 8, 13, 14, 20, 21, 22, 27, 28, 29, 40):
        _sweep(day0 + timedelta(days=day, minutes=5), django_capture_on_commit_callbacks)
        statement.refresh_from_db()
        staff_told = Notification.objects.filter(recipient=staff, kind=Kind.VERIFICATION_UNANSWERED).count()
        timeline.append((day, len(to_auditor()), statement.verification_requests_sent, staff_told))

    assert timeline == [
        # day, mails to the auditor, requests counted, staff notifications
        (1, 1, 1, 0),
        (6, 1, 1, 0),
        (7, 2, 2, 0),   # follow-up 1
        (8, 2, 2, 0),
        (13, 2, 2, 0),
        (14, 3, 3, 0),  # follow-up 2
        (20, 3, 3, 0),
        (21, 4, 4, 0),  # follow-up 3
        (22, 4, 4, 0),
        (27, 4, 4, 0),
        (28, 4, 4, 1),  # no answer 7 days after the third follow-up: staff are told, the auditor is not mailed again
        (29, 4, 4, 1),
        (40, 4, 4, 1),
    ]
    follow_ups = Notification.objects.filter(kind=Kind.VERIFICATION_FOLLOW_UP).order_by("due_date")
    assert [n.state for n in follow_ups] == ["sent"] * 3
    assert [n.email for n in follow_ups] == ["verify@auditor.example"] * 3
    # The representative never hears of the chase (the auditor's contact is staff-only).
    assert not Notification.objects.filter(recipient=rep_a).exists()


def test_a_confirmed_statement_is_not_chased(pending_statement, django_capture_on_commit_callbacks):
    from audits.models import AuditStatement

    AuditStatement.objects.filter(pk=pending_statement.pk).update(verification=AuditStatement.Verification.CONFIRMED)
    run = _sweep(timezone.now() + timedelta(days=30), django_capture_on_commit_callbacks)
    assert run.by_kind.get(Kind.VERIFICATION_FOLLOW_UP) is None
    assert len(mail.outbox) == 1


def test_statement_due_soon_and_overdue_reach_the_ca_and_staff(owner_a, rep_a, staff):
    from audits.models import Auditor, AuditStatement, StatementCriterion

    auditor = Auditor.objects.create(name="Firm", approval="approved")
    st = AuditStatement.objects.create(ca_owner=owner_a, auditor=auditor, source="auditor", is_public=True,
                                       period_start=date(2023, 4, 1), period_end=date(2024, 3, 31),
                                       statement_date=date(2024, 5, 1), verification="from_auditor")
    StatementCriterion.objects.create(statement=st, key="webtrust-ca", family="webtrust-ca")
    # Next period ends 2025-03-31; its statement is due 92 days later, 2025-07-01.
    actions.sweep_run(now=datetime(2025, 6, 15, tzinfo=UTC), enqueue=False)
    assert list(Notification.objects.values_list("recipient__username", "kind")) == [("rep_a", Kind.STATEMENT_DUE_SOON)]
    actions.sweep_run(now=datetime(2025, 7, 2, 1, tzinfo=UTC), enqueue=False)
    assert set(Notification.objects.filter(kind=Kind.STATEMENT_OVERDUE).values_list("recipient__username", flat=True)) == {
        "rep_a", "staff"}


def test_auditor_qualification_and_stalled_distrust_reach_staff(staff, rep_a):
    from audits.models import Auditor, AuditorQualification
    from distrust.models import DistrustAction

    auditor = Auditor.objects.create(name="Firm", approval="approved")
    now = timezone.now()
    AuditorQualification.objects.create(auditor=auditor, scheme="webtrust", method="listed",
                                        verified_on=now.date() - timedelta(days=700), next_due=now.date() - timedelta(days=335))
    AuditorQualification.objects.create(auditor=auditor, scheme="webtrust", method="listed",
                                        verified_on=now.date() - timedelta(days=350), next_due=now.date() + timedelta(days=15))
    action = DistrustAction.objects.create(title="Distrust Example Root")
    run = actions.sweep_run(now=now + timedelta(days=15), enqueue=False)
    rows = set(Notification.objects.values_list("recipient__username", "kind", "subject_id"))
    newest = AuditorQualification.objects.order_by("-verified_on").first()
    assert rows == {("staff", Kind.AUDITOR_REVERIFICATION, newest.pk), ("staff", Kind.DISTRUST_STALLED, action.pk)}
    assert run.errors == []
