"""Audit statements and auditors. Owned by the audits feature (issue 5).

Other code relies on: AuditStatement.ca_owner and .is_public (accounts.permissions).
The reminders feature relies on the named querysets below:
- AuditStatement.objects.awaiting_verification(): CA-provided statements still pending, with
  `unverified_since`, `verification_requests_sent` and `verification_last_sent_at`;
- AuditorQualification.objects.due(by=date): qualifications whose `next_due` has come.
Everything here is written by audits.actions only.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.urls import reverse

__all__ = [
    "AuditHistory",
    "AuditStatement",
    "Auditor",
    "AuditorQualification",
    "StatementCertificate",
    "StatementCriterion",
    "StatementFinding",
    "VerificationRequest",
]


class Auditor(models.Model):
    class Approval(models.TextChoices):
        APPROVED = "approved", "Approved"
        PENDING = "pending", "Pending"
        NOT_APPROVED = "not_approved", "Not approved"

    name = models.CharField(max_length=255, unique=True)
    location = models.CharField(max_length=255, blank=True)
    website = models.URLField(blank=True)
    approval = models.CharField(max_length=20, choices=Approval.choices, default=Approval.PENDING)
    # Who confirms statements a CA says this auditor issued; staff-only (accounts.permissions).
    # Created from a name a CA representative typed into a statement: private to the statements naming
    # it (accounts.permissions.can_view_auditor) until staff approve it, so a typed name never becomes
    # a public auditor record nor a choice in another CA's form.
    named_by_ca = models.BooleanField(default=False)
    contact_name = models.CharField(max_length=255, blank=True)
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("audits:auditor_detail", args=[self.pk])

    @property
    def is_approved(self) -> bool:
        return self.approval == self.Approval.APPROVED


class AuditorQualificationQuerySet(models.QuerySet):
    def due(self, *, by: date) -> AuditorQualificationQuerySet:
        """Qualifications that must be verified again on or before `by`."""
        return self.filter(next_due__lte=by)


class AuditorQualification(models.Model):
    """One accreditation of an auditor and how root program staff verified it."""

    class Scheme(models.TextChoices):
        WEBTRUST = "webtrust", "WebTrust licensed practitioner (CPA Canada)"
        ETSI = "etsi", "ETSI: ACAB'c member accredited by a national accreditation body"
        OTHER = "other", "Other accreditation (e.g. a government list)"

    class Method(models.TextChoices):
        LISTED = "listed", "Listed on the scheme's site"
        REPRESENTATIVE = "representative", "Confirmed by a representative of the accrediting organization"

    auditor = models.ForeignKey(Auditor, on_delete=models.CASCADE, related_name="qualifications")
    scheme = models.CharField(max_length=20, choices=Scheme.choices)
    # The national accreditation body (ETSI), "CPA Canada" (WebTrust) or the government body.
    accrediting_body = models.CharField(max_length=255, blank=True)
    evidence_url = models.URLField(max_length=500, blank=True)
    method = models.CharField(max_length=20, choices=Method.choices)
    representative = models.CharField(max_length=255, blank=True, help_text="Name of the person who confirmed.")
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_by_name = models.CharField(max_length=150, blank=True)  # stays readable if the user is deleted
    verified_on = models.DateField()
    next_due = models.DateField()
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditorQualificationQuerySet.as_manager()

    class Meta:
        ordering = ["auditor", "-verified_on", "pk"]
        indexes = [
            # AuditorQualification.objects.due(by=...): the yearly re-verification reminders.
            models.Index(fields=["next_due"], name="auditqual_next_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.auditor}: {self.get_scheme_display()} (verified {self.verified_on})"


class AuditStatementQuerySet(models.QuerySet):
    def awaiting_verification(self) -> AuditStatementQuerySet:
        """CA-provided statements the auditor has not confirmed or denied yet."""
        return self.filter(source=AuditStatement.Source.CA, verification=AuditStatement.Verification.PENDING)

    def legitimate(self) -> AuditStatementQuerySet:
        return self.filter(verification__in=AuditStatement.LEGITIMATE)


class AuditStatement(models.Model):
    class Source(models.TextChoices):
        AUDITOR = "auditor", "From the auditor"
        CA = "ca", "From the CA"

    class Kind(models.TextChoices):
        PERIOD = "period", "Period of time"
        POINT = "point", "Point in time"

    class Verification(models.TextChoices):
        FROM_AUDITOR = "from_auditor", "Legitimate (received from the auditor)"
        PENDING = "pending", "Pending: waiting for the auditor's confirmation"
        CONFIRMED = "confirmed", "Confirmed by the auditor"
        DENIED = "denied", "Denied by the auditor"

    LEGITIMATE = (Verification.FROM_AUDITOR, Verification.CONFIRMED)

    ca_owner = models.ForeignKey("registry.CAOwner", on_delete=models.PROTECT, related_name="audit_statements")
    auditor = models.ForeignKey(Auditor, null=True, blank=True, on_delete=models.PROTECT, related_name="statements")
    source = models.CharField(max_length=10, choices=Source.choices)
    # False while a CA-provided statement waits for its auditor's confirmation: only staff and that CA see it.
    is_public = models.BooleanField(default=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERIOD)
    # A point-in-time audit has period_start == period_end (its "as of" date).
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    statement_date = models.DateField(null=True, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    file = models.FileField(upload_to="audits/statements/%Y/", blank=True)
    verification = models.CharField(max_length=20, choices=Verification.choices, default=Verification.PENDING)
    # Set when a CA-provided statement starts waiting; cleared when answered.
    unverified_since = models.DateTimeField(null=True, blank=True)
    verification_requests_sent = models.PositiveIntegerField(default=0)
    verification_last_sent_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    ccadb_key = models.CharField(
        max_length=64, blank=True, db_index=True,
        help_text="Identity of a statement imported from CCADB (hash of owner, family, URL, period), for re-imports.",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditStatementQuerySet.as_manager()

    class Meta:
        ordering = ["-period_end", "pk"]
        indexes = [
            # The CA's audit page and the checks: every statement of one owner in period order.
            models.Index(fields=["ca_owner", "period_end"], name="auditstmt_owner_end_idx"),
            # awaiting_verification() for the reminders, oldest first.
            models.Index(fields=["verification", "unverified_since"], name="auditstmt_verif_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ca_owner} audit {self.period_start}–{self.period_end}"

    def get_absolute_url(self) -> str:
        return reverse("audits:statement_detail", args=[self.pk])

    @property
    def is_legitimate(self) -> bool:
        return self.verification in self.LEGITIMATE


class StatementCriterion(models.Model):
    """A criterion the statement reports against: a key of audits.domain.criteria.CRITERIA, its version, policies."""

    statement = models.ForeignKey(AuditStatement, on_delete=models.CASCADE, related_name="criteria")
    key = models.CharField(max_length=60)
    family = models.CharField(max_length=20, db_index=True)  # copied from the criterion for per-family queries
    version = models.CharField(max_length=30, blank=True)
    policies = models.CharField(max_length=120, blank=True)  # comma-separated ETSI policies, e.g. "DVCP,OVCP"

    class Meta:
        ordering = ["statement", "family", "key"]
        constraints = [models.UniqueConstraint(fields=["statement", "key"], name="unique_statement_criterion")]

    def __str__(self) -> str:
        return f"{self.key} {self.version}".strip()


class StatementCertificate(models.Model):
    """A SHA-256 fingerprint the statement names in scope, matched to the registry when known."""

    statement = models.ForeignKey(AuditStatement, on_delete=models.CASCADE, related_name="fingerprints")
    sha256 = models.CharField(max_length=64, db_index=True)  # uppercase hex, no colons
    certificate = models.ForeignKey(
        "registry.Certificate", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_scopes"
    )

    class Meta:
        ordering = ["statement", "sha256"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "sha256"], name="unique_statement_fingerprint")
        ]

    def __str__(self) -> str:
        return self.sha256


class StatementFinding(models.Model):
    """A qualification (finding) the audit statement reports, and the incident it caused."""

    class Severity(models.TextChoices):
        MINOR = "minor", "Minor"
        MAJOR = "major", "Major"
        CRITICAL = "critical", "Critical"

    statement = models.ForeignKey(AuditStatement, on_delete=models.CASCADE, related_name="findings")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    text = models.TextField()
    incident = models.ForeignKey(
        "compliance.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_findings"
    )

    class Meta:
        ordering = ["statement", "pk"]

    def __str__(self) -> str:
        return f"{self.get_severity_display()}: {self.text[:60]}"


class VerificationRequest(models.Model):
    """One e-mailed verification link. The signed token carries (pk, nonce); only the nonce's hash is stored."""

    class Answer(models.TextChoices):
        NONE = "", "Not answered"
        CONFIRMED = "confirmed", "Confirmed"
        DENIED = "denied", "Denied"

    statement = models.ForeignKey(AuditStatement, on_delete=models.CASCADE, related_name="verification_requests")
    nonce_hash = models.CharField(max_length=64)
    sent_to = models.EmailField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(max_length=10, choices=Answer.choices, default="", blank=True)
    answered_by_name = models.CharField(max_length=255, blank=True)
    note = models.TextField(blank=True)
    # SHA-256 of exactly what the link shows the auditor (audits.domain.binding); an answer counts only
    # while the statement still has this digest. Empty on links sent before links were bound: refused.
    content_digest = models.CharField(max_length=64, blank=True)
    # Set when the statement changed after the link was sent: the link is dead, a new request is needed.
    invalidated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Verification request {self.pk} for statement {self.statement_id}"


class OverdueStatementIncident(models.Model):
    """The compliance incident filed because a statement is overdue (issue 15), one row per CA owner,
    audit family and end of the period the missing statement covers: the unique key that makes a
    second sweep file nothing. Kept when the incident is deleted, so it is not filed again."""

    ca_owner = models.ForeignKey("registry.CAOwner", on_delete=models.CASCADE, related_name="+")
    family = models.CharField(max_length=20, blank=True)  # "" for a statement that names no criteria
    period_end = models.DateField()
    due = models.DateField()
    incident = models.ForeignKey(
        "compliance.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-period_end", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["ca_owner", "family", "period_end"], name="unique_overdue_statement")
        ]

    def __str__(self) -> str:
        return f"{self.ca_owner_id} {self.family or 'audit'} statement for the period ending {self.period_end}"


class AuditHistory(models.TextChoices):
    """The keys audits write into the shared history (history.Event.action); old and new are the
    changed fields' values as mappings, the summary is the message shown on the page."""

    STATEMENT_SUBMITTED = "statement_submitted", "Statement submitted"
    STATEMENT_CHANGED = "statement_changed", "Statement changed"
    STATEMENT_IMPORTED = "statement_imported", "Statement imported from CCADB"
    VERIFICATION_REQUESTED = "verification_requested", "Verification requested from the auditor"
    VERIFICATION_CONFIRMED = "verification_confirmed", "Auditor confirmed the statement"
    VERIFICATION_DENIED = "verification_denied", "Auditor denied the statement"
    VERIFICATION_LINK_INVALIDATED = "verification_link_invalidated", "Verification link invalidated by a change"
    VERIFICATION_ANSWERED_FROM = "verification_answered_from", "Verification contact the answered link was sent to"
    INCIDENT_FILED = "incident_filed", "Compliance incident filed for qualifications"
    AUDITOR_CREATED = "auditor_created", "Auditor created"
    AUDITOR_CHANGED = "auditor_changed", "Auditor changed"
    APPROVAL_CHANGED = "approval_changed", "Auditor approval changed"
    QUALIFICATION_VERIFIED = "qualification_verified", "Auditor qualification verified"
