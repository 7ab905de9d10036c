"""Compliance incidents ("bugs"), their comments, questions, reports, assessment and history.

Owned by the incidents feature (issue 4). Other apps rely on: Incident.number, .ca_owner,
.security_sensitive, .title; Comment.incident, .is_private; Question.incident, .asked_user;
Incident.objects.open(); distrust.DistrustAction.incidents (related name `distrust_actions`).

Deadline inputs are kept as columns (first_disclosed_at, became_aware_at, first_response_at,
full_report_at, last_update_at, action_item_changed_at, open questions' asked_at) so a sweep
can recompute them; `next_due_at` / `next_due_kind` cache the earliest pending deadline for
the list's "overdue" filter and column, refreshed by every action that changes an input.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

__all__ = [
    "Incident",
    "IncidentTag",
    "IncidentRelation",
    "AffectedCertificate",
    "Comment",
    "Question",
    "ReportVersion",
    "Assessment",
    "Decision",
    "IncidentHistory",
    "SavedSearch",
    "OwnerAlias",
    "UnmatchedOwnerPrefix",
]


# Where imported incidents came from: the compliance component of Mozilla's Bugzilla (same bug numbers).
BUGZILLA_SHOW_BUG = "https://bugzilla.mozilla.org/show_bug.cgi?id={number}"


class IncidentQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status=Incident.Status.RESOLVED)

    def visible_to(self, user):
        from accounts.permissions import incident_visibility_q

        return self.filter(incident_visibility_q(user))

    def overdue(self, now=None):
        return self.open().filter(next_due_at__lt=now or timezone.now())

    def with_open_questions(self):
        return self.filter(Exists(Question.objects.filter(incident=OuterRef("pk"), closed_at__isnull=True)))

    def tagged(self, tag: str):
        return self.filter(Exists(IncidentTag.objects.filter(incident=OuterRef("pk"), tag=tag)))


class Incident(models.Model):
    class Status(models.TextChoices):
        UNCONFIRMED = "UNCONFIRMED", "Unconfirmed"
        NEW = "NEW", "New"
        ASSIGNED = "ASSIGNED", "Assigned"
        REOPENED = "REOPENED", "Reopened"
        RESOLVED = "RESOLVED", "Resolved"

    class Resolution(models.TextChoices):
        NONE = "", "—"
        FIXED = "FIXED", "Fixed"
        INVALID = "INVALID", "Invalid"
        WONTFIX = "WONTFIX", "Won't fix"
        DUPLICATE = "DUPLICATE", "Duplicate"
        WORKSFORME = "WORKSFORME", "Works for me"
        # Found in the Bugzilla dump (2 bugs); kept so imported bugs keep their resolution.
        INCOMPLETE = "INCOMPLETE", "Incomplete"

    class Source(models.TextChoices):
        SELF_REPORTED = "self_reported", "Self reported"
        THIRD_PARTY = "third_party", "Third party reported"
        AUDIT = "audit", "Audit"

    class Severity(models.TextChoices):
        """Staff's judgement at triage of the impact and risk to end-users (the seed's "differing levels
        of severity"), on Bugzilla's S1-S4 scale; the stored keys are Bugzilla's values (see /rest/).
        What each level means: SEVERITY_MEANING below (the triage form's help)."""

        NONE = "", "Not set"
        S1 = "S1", "S1 Critical"
        S2 = "S2", "S2 High"
        S3 = "S3", "S3 Moderate"
        S4 = "S4", "S4 Low"

    SEVERITY_MEANING = {
        "S1": "users at risk now: un-enumerated or intermediate mis-issuance, key compromise, deception",
        "S2": "many (e.g. hundreds of) mis-issued certificates, or missing, late or seriously qualified audits",
        "S3": "a small set of mis-issued certificates the CA can enumerate",
        "S4": "a process, disclosure or reporting failure without mis-issued certificates",
    }

    # The Bugzilla bug number for imported incidents; new incidents are numbered above the highest.
    number = models.PositiveIntegerField(unique=True)
    ca_owner = models.ForeignKey(
        "registry.CAOwner", null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    title = models.CharField(max_length=400)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW, db_index=True)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, default="", blank=True)
    security_sensitive = models.BooleanField(default=False)
    whiteboard = models.TextField(blank=True)
    # The whiteboard's "Next update" date, parsed; staff triage writes it back into the whiteboard.
    next_update = models.DateField(null=True, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reported_incidents"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_incidents"
    )
    # Bugzilla's CC list, the one way to follow an incident (the page's Watch button joins it, the
    # notification settings list it; bug-mail reason "CC"). Its people, besides staff, the CA's
    # representatives, the reporter and the assignee, may see the incident while it is
    # security-sensitive (accounts.permissions). Changed only through compliance.actions.cc
    # (incident_cc_change), with history rows.
    cc = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="cc_incidents")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SELF_REPORTED)
    # Set by staff at triage (compliance.actions.incidents.incident_update); "" until then. The database
    # default too, so bulk writers that name their columns (the data generator's COPY) need not know it.
    severity = models.CharField(max_length=2, choices=Severity.choices, default="", db_default="", blank=True,
                                db_index=True)
    became_aware_at = models.DateTimeField(null=True, blank=True)
    first_disclosed_at = models.DateTimeField()
    # Deadline inputs written by the actions (see module docstring).
    first_response_at = models.DateTimeField(null=True, blank=True)
    full_report_at = models.DateTimeField(null=True, blank=True)
    last_update_at = models.DateTimeField(null=True, blank=True)
    action_item_changed_at = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True)
    next_due_kind = models.CharField(max_length=30, blank=True)
    # Imported from Bugzilla: the report history lives there, so report deadlines are not computed.
    imported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        indexes = [
            # The list filtered by CA, newest first (the CA page and ?ca=).
            models.Index(fields=["ca_owner", "-number"], name="incident_owner_number_idx"),
            # Incident.objects.overdue(): open incidents whose earliest pending deadline has passed.
            models.Index(fields=["status", "next_due_at"], name="incident_status_due_idx"),
            # Sorting the list by last change.
            models.Index(fields=["-updated_at"], name="incident_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"Bug {self.number}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("compliance:incident_detail", args=[self.number])

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED

    @property
    def bugzilla_url(self) -> str | None:
        """The bug's page on Mozilla's Bugzilla, for incidents imported from there (None otherwise)."""
        return BUGZILLA_SHOW_BUG.format(number=self.number) if self.imported_at else None


class IncidentTag(models.Model):
    """A known whiteboard tag of an incident, rebuilt from the whiteboard on every change."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(max_length=40)

    class Meta:
        ordering = ["tag"]
        constraints = [models.UniqueConstraint(fields=["incident", "tag"], name="unique_incident_tag")]
        indexes = [
            # Incident.objects.tagged(tag): the list's tag filter.
            models.Index(fields=["tag", "incident"], name="incident_tag_idx"),
        ]

    def __str__(self) -> str:
        return self.tag


class IncidentRelation(models.Model):
    """source <kind> target. "A blocks B" is stored as "B depends on A"."""

    class Kind(models.TextChoices):
        DEPENDS_ON = "depends_on", "Depends on"
        DUPLICATE_OF = "duplicate_of", "Duplicate of"
        SEE_ALSO = "see_also", "See also"

    INVERSE_LABELS = {"depends_on": "Blocks", "duplicate_of": "Has duplicate", "see_also": "See also"}

    source = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="relations_out")
    target = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="relations_in")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="unique_incident_relation"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="incident_relation_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


class Comment(models.Model):
    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        PRELIMINARY_REPORT = "preliminary_report", "Preliminary report"
        FULL_REPORT = "full_report", "Full report"
        CLOSURE_REPORT = "closure_report", "Closure report"
        UPDATE = "update", "Update"
        QUESTION = "question", "Question"
        ANSWER = "answer", "Answer"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.COMMENT)
    body = models.TextField()
    # Sanitized HTML rendered from `body` when the comment is written (compliance.domain.markdown).
    body_html = models.TextField(blank=True)
    is_private = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The incident page's story, in time order.
            models.Index(fields=["incident", "created_at"], name="comment_incident_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on bug {self.incident_id}"


class Question(models.Model):
    """A needinfo: a comment that asks the CA (asked_user None) or a named person for information."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="questions")
    comment = models.OneToOneField(Comment, on_delete=models.CASCADE, related_name="question")
    asked_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="questions_asked_of"
    )
    asked_at = models.DateTimeField()
    answered_by = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers_question"
    )
    # The first reply that counts as an answer: the answer, or an acknowledgement with a date.
    answered_at = models.DateTimeField(null=True, blank=True)
    # An acknowledgement may promise the full answer by a date (IRG: it counts as an answer).
    promised_date = models.DateField(null=True, blank=True)
    # When the question was fully answered (equal to answered_at unless a date was promised).
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "pk"]
        indexes = [
            # IncidentQuerySet.with_open_questions() and the reminders sweep.
            models.Index(fields=["incident", "closed_at"], name="question_open_idx"),
        ]

    def __str__(self) -> str:
        return f"Question on bug {self.incident_id}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ReportVersion(models.Model):
    """One posted version of an IRG report; `data` validates again with compliance.domain.reports.validate."""

    class Kind(models.TextChoices):
        PRELIMINARY = "preliminary", "Preliminary report"
        FULL = "full", "Full report"
        CLOSURE = "closure", "Closure report"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="report_versions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    version = models.PositiveIntegerField()
    data = models.JSONField()
    markdown = models.TextField()
    # [{"field": ..., "old": ..., "new": ...}] against the previous version of the same kind.
    changes = models.JSONField(default=list, blank=True)
    comment = models.OneToOneField(Comment, on_delete=models.CASCADE, related_name="report_version")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["incident", "kind", "version"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "kind", "version"], name="unique_report_version")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version} on bug {self.incident_id}"


class AffectedCertificate(models.Model):
    """A row of the latest full report's affected-certificates CSV, linked to the registry when known."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected_certificates")
    report_version = models.ForeignKey(ReportVersion, null=True, blank=True, on_delete=models.SET_NULL)
    sha256 = models.CharField("Certificate SHA-256", max_length=64, blank=True)
    precertificate_sha256 = models.CharField("Precertificate SHA-256", max_length=64, blank=True)
    certificate = models.ForeignKey(
        "registry.Certificate", null=True, blank=True, on_delete=models.SET_NULL, related_name="incident_rows"
    )
    subject = models.TextField()
    issuer = models.TextField()
    serial_hex = models.CharField(max_length=80)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    dns_names = models.TextField(blank=True)
    is_revoked = models.BooleanField(default=False)
    revocation_date = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            # "Which incidents name this certificate?" from the certificate page.
            models.Index(fields=["sha256"], name="affected_cert_sha256_idx"),
        ]

    def __str__(self) -> str:
        return self.sha256 or self.precertificate_sha256


class Assessment(models.Model):
    """Staff's structured judgement of an incident (the seed's considerations + classification)."""

    class CertType(models.TextChoices):
        NONE = "", "Not classified"
        TLS = "tls", "TLS certificates"
        EMAIL = "email", "E-mail certificates"
        INTERMEDIATE = "intermediate", "Intermediate certificates"

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="assessment")
    # {consideration key: {"answer": "yes"|"no"|"unknown"|"", "note": str}} (compliance.domain.responses.CONSIDERATIONS)
    considerations = models.JSONField(default=dict, blank=True)
    cert_type = models.CharField(max_length=20, choices=CertType.choices, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    enumerable = models.BooleanField(null=True, blank=True)
    audit_problem = models.BooleanField(default=False)
    # compliance.domain.responses.Problem value derived by classify(), "" when not classifiable yet.
    problem = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Assessment of bug {self.incident_id}"


class Decision(models.Model):
    """A decision staff took on an incident; `action` is a compliance.domain.responses.ACTIONS key or "other"."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=40)
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField()
    # Staff-only until staff publish it (accounts.permissions.decision_visibility_q): a decision is
    # recorded on the staff-only assessment page, often before the CA is told. Decisions recorded
    # before this flag existed had been shown publicly and stay public (migration 0003).
    is_private = models.BooleanField(default=True)

    class Meta:
        ordering = ["decided_at", "pk"]

    def __str__(self) -> str:
        return f"{self.action} on bug {self.incident_id}"

    @property
    def is_active_distrust(self) -> bool:
        return self.action.startswith("distrust_")


class IncidentHistory(models.TextChoices):
    """The keys incidents write into the shared history (history.Event.action), one row per changed
    field (Event.field, old, new as text); staff-only rows cover the staff assessment."""

    CREATED = "incident_created", "Incident filed"
    CHANGED = "incident_changed", "Incident changed"
    IMPORTED = "incident_imported", "Incident imported from Bugzilla"


class SavedSearch(models.Model):
    """A user's named incident-list filter (Bugzilla's saved search): the list's query string, shown in
    the navigation with its Atom feed and CSV. Only its owner sees it (accounts.permissions)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=2000, blank=True, help_text="The list's query string, without page.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="unique_saved_search_name")]

    def __str__(self) -> str:
        return self.name


class OwnerAlias(models.Model):
    """A brand name Bugzilla titles use for a CA owner ("Let's Encrypt" -> Internet Security Research
    Group): the Bugzilla import's alias table, edited by staff (seeded from the 26 aliases found in the
    real dump, migration 0006). `owner_name` is the CCADB name; it applies while that owner exists."""

    alias = models.CharField(max_length=200, unique=True)
    owner_name = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["alias"]

    def __str__(self) -> str:
        return f"{self.alias} -> {self.owner_name}"


class UnmatchedOwnerPrefix(models.Model):
    """A title prefix the last Bugzilla import could not match to a CA owner, with its bug count, for
    staff to map through an alias. An import replaces the whole list."""

    prefix = models.CharField(max_length=200, unique=True)
    bugs = models.PositiveIntegerField()
    example_number = models.PositiveIntegerField(help_text="One bug with this prefix.")
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["-bugs", "prefix"]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.bugs})"


# Attachments live in their own module (issue 16); imported here so Django registers the model.
from compliance.models_attachments import Attachment  # noqa: E402,F401
