"""Reminders and notifications. Owned by the notifications feature (issue 7).

A separate app because incidents (compliance), audits and distrust all produce deadlines
and all need the same outbox: putting it in one of them would make the three import each
other in a cycle.

A Notification row is both the in-app message and the e-mail outbox (healthchecks' Flip):
it is unique per (subject, kind, due date, recipient), so a second sweep finds the row it
already made and inserts nothing, and a sender claims it with a compare-and-set before
mailing, so a retry, a second worker or a second sweep never mails it twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = ["Notification", "NotificationPreference", "Watch", "SweepRun", "Category", "Reason", "category_of"]


class Kind(models.TextChoices):
    # Incidents (IRG v3.2 deadlines, compliance/deadlines.py).
    FIRST_RESPONSE_SOON = "first_response_soon", "First response due soon"
    FIRST_RESPONSE_OVERDUE = "first_response_overdue", "First response overdue"
    FULL_REPORT_SOON = "full_report_soon", "Full report due soon"
    FULL_REPORT_OVERDUE = "full_report_overdue", "Full report overdue"
    UPDATE_SOON = "update_soon", "Update due soon"
    UPDATE_OVERDUE = "update_overdue", "Update overdue"
    REVOCATION_UPDATE_OVERDUE = "revocation_update_overdue", "Revocation-delay update missed"
    QUESTION_UNANSWERED = "question_unanswered", "Question unanswered for 7 days"
    # Audits.
    STATEMENT_DUE_SOON = "statement_due_soon", "Audit statement due within 30 days"
    STATEMENT_OVERDUE = "statement_overdue", "Audit statement overdue"
    VERIFICATION_REQUEST = "verification_request", "Statement verification request to the auditor"
    # Accounts.
    PASSWORD_RESET = "password_reset", "Password reset link"
    VERIFICATION_FOLLOW_UP = "verification_follow_up", "Statement verification request sent again"
    VERIFICATION_UNANSWERED = "verification_unanswered", "Auditor did not confirm a statement"
    AUDITOR_REVERIFICATION = "auditor_reverification", "Auditor qualification due for re-verification"
    # Active distrust.
    DISTRUST_STALLED = "distrust_stalled", "Distrust action has not moved for 14 days"
    # Events on incidents (bug-mail), made when they happen rather than by the sweep.
    INCIDENT_FILED = "incident_filed", "New incident"
    QUESTION_ASKED = "question_asked", "Question for you"
    COMMENT_ADDED = "comment_added", "New comment"
    REPORT_POSTED = "report_posted", "Incident report posted"
    INCIDENT_CHANGED = "incident_changed", "Incident changed"


class SubjectType(models.TextChoices):
    INCIDENT = "incident", "Incident"
    QUESTION = "question", "Question"
    AUDIT_STATEMENT = "audit_statement", "Audit statement"
    AUDIT_DUE = "audit_due", "CA owner's next audit"
    AUDITOR = "auditor", "Auditor qualification"
    VERIFICATION_REQUEST = "verification_request", "Verification request"
    ACCOUNT_EVENT = "account_event", "Account event"
    DISTRUST_ACTION = "distrust_action", "Distrust action"
    # Events: the comment posted, or (field changes) the first history row of the change.
    COMMENT = "comment", "Comment"
    CHANGE = "change", "Incident change"


class Category(models.TextChoices):
    """What a person chooses the delivery of, one choice per category (the settings page)."""

    REMINDERS = "reminders", "Deadline reminders"
    QUESTIONS = "questions", "Questions asked of you"
    COMMENTS = "comments", "New comments and answers"
    REPORTS = "reports", "Incident reports posted"
    CHANGES = "changes", "Status and field changes"
    NEW_INCIDENTS = "new_incidents", "New incidents"


EVENT_CATEGORY = {
    Kind.INCIDENT_FILED: Category.NEW_INCIDENTS,
    Kind.QUESTION_ASKED: Category.QUESTIONS,
    Kind.COMMENT_ADDED: Category.COMMENTS,
    Kind.REPORT_POSTED: Category.REPORTS,
    Kind.INCIDENT_CHANGED: Category.CHANGES,
}


def category_of(kind: str) -> str:
    """Every deadline kind is a reminder; each event kind has its own category."""
    return EVENT_CATEGORY.get(kind, Category.REMINDERS)


class Reason(models.TextChoices):
    """Why a person gets a mail (X-Rootwatch-Reason, like Bugzilla's X-Bugzilla-Reason); a row keeps all that apply."""

    ASKED = "Asked", "You were asked"
    REPORTER = "Reporter", "You filed the incident"
    ASSIGNED_TO = "AssignedTo", "The incident is assigned to you"
    CC = "CC", "You are on the CC list"
    CA_REPRESENTATIVE = "CARepresentative", "You represent the CA"
    WATCH = "Watch", "You watch the CA owner"
    STAFF = "Staff", "You are root program staff"
    NAMED = "Named", "You are named on it"
    AUDITOR = "Auditor", "You are the auditor's verification contact"
    ACCOUNT = "Account", "It is about your account"


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", "E-mail each reminder as it falls due"
    DIGEST = "digest", "One e-mail a day with all reminders"
    NONE = "none", "No e-mail (shown in Rootwatch only)"


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def sendable(self, *, now, delivery: str) -> NotificationQuerySet:
        """Rows waiting for mail whose (re)try time has come: what the sender and the digest claim."""
        return self.filter(state=Notification.State.PENDING, delivery=delivery, next_attempt_at__lte=now)

    def stale_claims(self, *, before) -> NotificationQuerySet:
        return self.filter(state=Notification.State.CLAIMED, claimed_at__lt=before)


class Notification(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        CLAIMED = "claimed", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"
        SKIPPED = "skipped", "Not mailed (in-app only)"

    Kind = Kind
    SubjectType = SubjectType
    Delivery = Delivery

    subject_type = models.CharField(max_length=20, choices=SubjectType.choices)
    subject_id = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=40, choices=Kind.choices)
    due_date = models.DateField(help_text="The day the deadline falls due (UTC): part of the uniqueness key.")
    due_at = models.DateTimeField(help_text="The exact deadline, for display.")
    # A user, or (auditors are not users) only an address.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    email = models.EmailField(blank=True)
    title = models.CharField(max_length=400)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="Path of the subject's page.")
    reason = models.CharField(max_length=100, blank=True, help_text="Why this recipient: Reason keys, space-separated.")
    thread = models.CharField(max_length=60, blank=True, help_text="Mails of one thread (one incident) share it.")
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.IMMEDIATE)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    sweep_run = models.ForeignKey(
        "notifications.SweepRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    created_at = models.DateTimeField()

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "kind", "due_date", "recipient"],
                condition=Q(recipient__isnull=False),
                name="unique_notification_per_user",
            ),
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "kind", "due_date", "email"],
                condition=Q(recipient__isnull=True),
                name="unique_notification_per_address",
            ),
        ]
        indexes = [
            # sendable(): the sender and the digest look for pending rows whose time has come.
            models.Index(fields=["state", "delivery", "next_attempt_at"], name="notif_sendable_idx"),
            # The notifications page and the navigation count: a user's rows, unread first.
            models.Index(fields=["recipient", "read_at"], name="notif_recipient_unread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient or self.email} ({self.due_date})"

    @property
    def address(self) -> str:
        return self.recipient.email if self.recipient_id else self.email

    @property
    def is_event(self) -> bool:
        return self.kind in EVENT_CATEGORY

    @property
    def reason_labels(self) -> list[str]:
        labels = dict(Reason.choices)
        return [labels.get(key, key) for key in self.reason.split()]


class NotificationPreference(models.Model):
    """How a user wants each category delivered. `delivery` is the reminders' choice (without a row: staff
    get a digest, everyone else immediate mail); `by_category` holds the other categories' choices (not
    there: immediate, as Bugzilla mails every change at once)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference")
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.IMMEDIATE)
    by_category = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.delivery}"


class Watch(models.Model):
    """A user follows a CA owner: they get the reminders and news of all its incidents and audits
    (Bugzilla's component watching). One incident is followed by joining its CC list
    (compliance.Incident.cc, compliance.actions.cc); migration 0003 moved the incident watches there."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches")
    ca_owner = models.ForeignKey("registry.CAOwner", on_delete=models.CASCADE, related_name="watches")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "ca_owner"], name="unique_watch_ca_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.user} watches {self.ca_owner}"


class SweepRun(models.Model):
    """One run of a periodic job: when, as of which instant, what it found, made and sent, and what failed."""

    class Job(models.TextChoices):
        SWEEP = "sweep", "Deadline sweep"
        DIGEST = "digest", "Daily digest"

    job = models.CharField(max_length=20, choices=Job.choices)
    as_of = models.DateTimeField(help_text="The instant the deadlines were judged at.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    found = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    by_kind = models.JSONField(default=dict, blank=True, help_text="Findings per kind.")
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            # The schedule page: the latest runs of each job.
            models.Index(fields=["job", "-started_at"], name="sweeprun_job_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_job_display()} at {self.started_at:%Y-%m-%d %H:%M}"

    # A run unfinished after this long was stopped (its worker killed): no run takes near this long.
    STOPPED_AFTER_SECONDS = 3600

    @property
    def by_kind_labels(self) -> list[tuple[str, int]]:
        """The findings per kind as people read them (stored keys are Kind values)."""
        labels = {**dict(Kind.choices), "stale_claims_released": "Claims of a stopped worker released"}
        return [(labels.get(key, key.replace("_", " ").capitalize()), n) for key, n in (self.by_kind or {}).items()]

    @property
    def stopped(self) -> bool:
        from django.utils import timezone

        return self.finished_at is None and (timezone.now() - self.started_at).total_seconds() > self.STOPPED_AFTER_SECONDS
