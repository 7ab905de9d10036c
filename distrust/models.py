"""Active distrust actions. Owned by the distrust feature (issue 6).

Other code relies on: DistrustAction.is_embargoed (accounts.permissions), .incidents.

An action carries certificates through the seed's eight steps (distrust/workflow.py
holds the table). Each step's data lives on the action itself (one row, read by every
page), the state of each step in DistrustStep, its history in history.Event (subject: the action).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

__all__ = [
    "DistrustAction",
    "DistrustStep",
    "DistrustTarget",
    "UsageFigure",
    "ClosureItem",
    "Artifact",
    "TestCertificate",
    "TestRun",
    "OneCRLEntry",
]


class DistrustActionQuerySet(models.QuerySet):
    def for_list(self) -> DistrustActionQuerySet:
        """What the list page and API list show: fixed number of queries whatever the size."""
        # Explicit order: with the GROUP BY of the count, Meta.ordering would not count as ordered.
        return self.annotate(target_count=models.Count("targets", distinct=True)).order_by(
            "-created_at", "-pk"
        ).prefetch_related(
            "steps", models.Prefetch("incidents", queryset=_incident_model().objects.only(
                # and what accounts.permissions.can_view_incident reads: an action names only the incidents
                # its reader may open
                "pk", "number", "title", "security_sensitive", "ca_owner", "reporter", "assignee"))
        )

    def open(self) -> DistrustActionQuerySet:
        return self.exclude(state=DistrustAction.State.CLOSED)


def _incident_model():
    from compliance.models import Incident

    return Incident


class DistrustAction(models.Model):
    class State(models.TextChoices):
        # The step waiting to be completed; "closed" once the result is recorded.
        REPORT = "report", "1. Report"
        DECIDE = "decide", "2. Decide"
        IMPACT = "impact", "3. Measure impact"
        IMPLEMENT = "implement", "4. Implement"
        TEST = "test", "5. Test"
        RELEASE = "release", "6. Release"
        COMMUNICATE = "communicate", "7. Communicate"
        RESULT = "result", "8. Result"
        CLOSED = "closed", "Closed"

    class Kind(models.TextChoices):
        FULL = "full", "Full distrust (NSS trust objects set to not trusted)"
        DISTRUST_AFTER = "distrust_after", "Distrust after a date (NSS distrust-after)"
        ONECRL = "onecrl", "OneCRL revocation of intermediates or leaves"

    class Discussion(models.TextChoices):
        NONE = "", "—"
        PRIVATE = "private", "Private security group"
        PUBLIC = "public", "Public list (MDSP)"
        BOTH = "both", "Both"

    class ReleaseKind(models.TextChoices):
        NONE = "", "—"
        REGULAR = "regular", "Regular scheduled release"
        CHEMSPILL = "chemspill", "Off-schedule (chemspill) release"

    title = models.CharField(max_length=300)
    incidents = models.ManyToManyField("compliance.Incident", blank=True, related_name="distrust_actions")
    # Prepared under embargo (before a security release): staff only until released.
    is_embargoed = models.BooleanField(default=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.FULL)
    purpose_server = models.BooleanField("websites (TLS server authentication)", default=True)
    purpose_email = models.BooleanField("e-mail (S/MIME)", default=False)
    distrust_after = models.DateTimeField(null=True, blank=True)
    bug = models.CharField("Bugzilla bug", max_length=200, blank=True, help_text="Number or URL of the NSS/OneCRL bug.")
    state = models.CharField(max_length=20, choices=State.choices, default=State.REPORT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    # 1. Report
    reported_by = models.CharField(max_length=300, blank=True)
    reported_on = models.DateField(null=True, blank=True)
    # 2. Decide
    decision = models.TextField("course of action", blank=True)
    rationale = models.TextField(blank=True)
    discussed_in = models.CharField(max_length=10, choices=Discussion.choices, blank=True)
    discussion_url = models.URLField(blank=True)
    decided_on = models.DateField(null=True, blank=True)
    # 3. Measure impact (chain counts are a snapshot taken when the step is saved)
    impact_notes = models.TextField(blank=True)
    chain_count = models.PositiveIntegerField(null=True, blank=True)
    chain_intermediates = models.PositiveIntegerField(null=True, blank=True)
    chain_leaves = models.PositiveIntegerField(null=True, blank=True)
    # 4. Implement
    include_certificate_objects = models.BooleanField(
        default=False, help_text="Add the certificate object too (not only the trust object) when the registry has it."
    )
    # 6. Release
    nss_version = models.CharField("NSS version", max_length=40, blank=True)
    roots_module_version = models.CharField(max_length=40, blank=True)
    release_kind = models.CharField(max_length=20, choices=ReleaseKind.choices, blank=True)
    release_date = models.DateField(null=True, blank=True)
    onecrl_published_on = models.DateField("OneCRL publication date", null=True, blank=True)
    # What anyone who may see the action reads as its title, and the "why" of its OneCRL records: the
    # title itself may be copied from a confidential source (a security-sensitive incident), so the
    # published wording is chosen apart from it and confirmed by staff before Release completes.
    public_title = models.CharField(
        "public title", max_length=300, blank=True,
        help_text="Published on the distrust pages, in the API and as the OneCRL records' reason once released.")
    public_wording_confirmed = models.BooleanField(
        "the public title reveals nothing confidential and may be published", default=False)
    # Names of the fields whose text came from a confidential source (e.g. ["title", "reported_by"]):
    # only staff read them until staff chose what is published instead.
    confidential_fields = models.JSONField(default=list, blank=True)
    # 7. Communicate
    announcement = models.TextField(blank=True)
    is_security_incident = models.BooleanField(default=False)
    cve_id = models.CharField("CVE id", max_length=30, blank=True)
    all_cas_mailed = models.BooleanField("all CAs were mailed", default=False)
    blog_url = models.URLField("blog post", blank=True)
    # 8. Result
    user_visible_result = models.TextField("what users now see", blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DistrustActionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The list page and its API filter by state (open actions first).
            models.Index(fields=["state", "-created_at"], name="distrust_state_created_idx"),
        ]

    def __str__(self) -> str:
        return self.published_title

    def get_absolute_url(self) -> str:
        return reverse("distrust:detail", args=[self.pk])

    @property
    def published_title(self) -> str:
        """The title anyone who may see the action reads; the internal title only when it came from no
        confidential source and staff chose no other wording."""
        if self.public_title.strip():
            return self.public_title
        if "title" in (self.confidential_fields or ()):
            return f"Distrust action {self.pk}"
        return self.title

    @property
    def purposes(self) -> tuple[str, ...]:
        return tuple(p for p, on in (("server", self.purpose_server), ("email", self.purpose_email)) if on)


class DistrustStep(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Not started"
        OPEN = "open", "In progress"
        DONE = "done", "Done"

    action = models.ForeignKey(DistrustAction, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=20)
    position = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    reopen_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["action", "step"], name="unique_distrust_step")]

    def __str__(self) -> str:
        return f"{self.step}: {self.status}"


class DistrustTarget(models.Model):
    """One certificate to distrust: a registry certificate, or an issuer + serial alone."""

    action = models.ForeignKey(DistrustAction, on_delete=models.CASCADE, related_name="targets")
    certificate = models.ForeignKey("registry.Certificate", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="distrust_targets")
    issuer_der = models.BinaryField()
    serial_der = models.BinaryField()  # the whole DER INTEGER (NSS's CKA_SERIAL_NUMBER)
    serial_hex = models.CharField(max_length=80)  # content octets, uppercase hex, leading 00 kept
    label = models.CharField(max_length=255)
    cert_kind = models.CharField(max_length=20, blank=True)  # root / intermediate / leaf; "" when unknown
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.label


class UsageFigure(models.Model):
    action = models.ForeignKey(DistrustAction, on_delete=models.CASCADE, related_name="usage_figures")
    root = models.CharField(max_length=255, help_text="Root label or SHA-256 fingerprint.")
    certificate = models.ForeignKey("registry.Certificate", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    metric = models.CharField(max_length=200)
    value = models.DecimalField(max_digits=20, decimal_places=6)
    period = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=20, default="entered")  # entered / csv

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.root}: {self.metric} = {self.value}"


class ClosureItem(models.Model):
    """A certificate with a target's subject and key issued by another CA: added or waived."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        ADDED = "added", "Added to the distrust"
        WAIVED = "waived", "Waived"

    action = models.ForeignKey(DistrustAction, on_delete=models.CASCADE, related_name="closure_items")
    certificate = models.ForeignKey("registry.Certificate", on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(DistrustTarget, null=True, on_delete=models.CASCADE, related_name="closure_items")
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["action", "certificate"], name="unique_closure_item")]

    def __str__(self) -> str:
        return f"{self.certificate}: {self.decision}"


class Artifact(models.Model):
    class Kind(models.TextChoices):
        ONECRL = "onecrl", "OneCRL records (remote-settings JSON)"
        CERTDATA_DIFF = "certdata_diff", "NSS certdata.txt diff"

    action = models.ForeignKey(DistrustAction, on_delete=models.CASCADE, related_name="artifacts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    content = models.TextField()
    # Digest of what the artifact encodes (targets, closure, kind, purposes, date): a
    # change after generation makes the artifact stale and the implement gate says so.
    config_digest = models.CharField(max_length=64)
    generated_at = models.DateTimeField()
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["action", "kind"], name="unique_artifact_kind")]

    def __str__(self) -> str:
        return self.get_kind_display()


class TestCertificate(models.Model):
    """A bad (or, for distrust-after, a still-good) certificate the test step must judge."""

    __test__ = False  # not a pytest class

    action = models.ForeignKey(DistrustAction, on_delete=models.CASCADE, related_name="test_certificates")
    certificate = models.ForeignKey("registry.Certificate", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    der = models.BinaryField()  # kept for certificates not in the registry
    sha256 = models.CharField(max_length=64)
    label = models.CharField(max_length=255)
    cert_kind = models.CharField(max_length=20)
    not_before = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["action", "sha256"], name="unique_test_certificate")]

    def __str__(self) -> str:
        return self.label


class TestRun(models.Model):
    __test__ = False  # not a pytest class

    action = models.ForeignKey(DistrustAction, on_delete=models.CASCADE, related_name="test_runs")
    passed = models.BooleanField()
    config_digest = models.CharField(max_length=64)
    # [{sha256, label, kind, expect, purpose, ok, message, paths: [{path: [{sha256, label}], trusted, reasons}]}]
    results = models.JSONField(default=list)
    summary = models.TextField()
    ran_at = models.DateTimeField()
    ran_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")

    class Meta:
        ordering = ["-ran_at", "-pk"]

    def __str__(self) -> str:
        return f"Test run {self.pk}: {'passed' if self.passed else 'failed'}"


class OneCRLEntry(models.Model):
    """One record of the OneCRL collection Rootwatch manages (imported or published by an action)."""

    record_id = models.CharField(max_length=64, unique=True)
    issuer_der = models.BinaryField(null=True)
    serial_content = models.BinaryField(null=True)
    subject_der = models.BinaryField(null=True)
    pubkey_hash = models.BinaryField(null=True)
    # base64 of issuer + "/" + base64 of serial (or subject / key hash): the blocked certificate,
    # indexed so "is this target already blocked?" is one lookup.
    block_key = models.CharField(max_length=2000, db_index=True)
    enabled = models.BooleanField(default=True)
    bug = models.CharField(max_length=300, blank=True)
    who = models.CharField(max_length=300, blank=True)
    why = models.TextField(blank=True)
    name = models.CharField(max_length=500, blank=True)
    created = models.CharField(max_length=40, blank=True)
    schema = models.BigIntegerField(null=True, blank=True)
    last_modified = models.BigIntegerField(null=True, blank=True)
    action = models.ForeignKey(DistrustAction, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="onecrl_entries")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_modified", "record_id"]
        verbose_name = "OneCRL entry"
        verbose_name_plural = "OneCRL entries"

    def __str__(self) -> str:
        return self.name or self.record_id
