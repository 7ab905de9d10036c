"""Audit statements and auditors. Owned by the audits feature (issue 5).

Other code relies on: AuditStatement.ca_owner and .is_public (accounts.permissions).
"""

from django.db import models

__all__ = ["Auditor", "AuditStatement"]


class Auditor(models.Model):
    class Approval(models.TextChoices):
        APPROVED = "approved", "Approved"
        PENDING = "pending", "Pending"
        NOT_APPROVED = "not_approved", "Not approved"

    name = models.CharField(max_length=255, unique=True)
    location = models.CharField(max_length=255, blank=True)
    website = models.URLField(blank=True)
    approval = models.CharField(max_length=20, choices=Approval.choices, default=Approval.PENDING)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AuditStatement(models.Model):
    class Source(models.TextChoices):
        AUDITOR = "auditor", "From the auditor"
        CA = "ca", "From the CA"

    ca_owner = models.ForeignKey("compliance.CAOwner", on_delete=models.PROTECT, related_name="audit_statements")
    auditor = models.ForeignKey(Auditor, null=True, blank=True, on_delete=models.PROTECT, related_name="statements")
    source = models.CharField(max_length=10, choices=Source.choices)
    # False while a CA-provided statement waits for its auditor's confirmation: only staff and that CA see it.
    is_public = models.BooleanField(default=False)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    statement_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "pk"]

    def __str__(self) -> str:
        return f"{self.ca_owner} audit {self.period_start}–{self.period_end}"
