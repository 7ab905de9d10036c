"""One history for every app: who did what to which object, when, and what changed from what to what.

Every app's actions write here through `history.record` in the transaction of the change; pages,
APIs, the Bugzilla-compatible /rest/bug/N/history, the audit and distrust pages and the
notification finders read it through `history.selectors`. The subject is a type string and an id,
not a foreign key, so deleting an object (in admin or anywhere else) never deletes its history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["SYSTEM", "Event"]

# The one name shown for changes no signed-in person made (tasks, imports, the reminder sweep).
SYSTEM = "Rootwatch"


class Event(models.Model):
    """One change to one object (or, with no subject_id, to many objects of one type, e.g. an import)."""

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Snapshot, so the row stays readable after the user is deleted: the username, SYSTEM when
    # no person acted, or the name a non-user gave (an auditor answering a verification link).
    actor_name = models.CharField(max_length=255)
    # "<app_label>.<model_name>" of the changed object, e.g. "compliance.incident".
    subject_type = models.CharField(max_length=60)
    subject_id = models.BigIntegerField(null=True, blank=True)
    # The app's key for what happened (e.g. "incident_changed", "completed", "api_key_revoked")
    # and its human label at the time of writing.
    action = models.CharField(max_length=60)
    action_label = models.CharField(max_length=120)
    # What changed from what to what: a field (an incident field, a distrust step) with its old and
    # new values, or mappings of several fields (an audit statement's snapshot before and after).
    field = models.CharField(max_length=60, blank=True)
    old = models.JSONField(default=str, blank=True)
    new = models.JSONField(default=str, blank=True)
    # Free text: a summary (registry imports), a message (audits), a reason (distrust reopening).
    summary = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # Rows only root program staff may read (changes to an incident's staff assessment).
    staff_only = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            # history.selectors.for_subject: one object's history in time order (incident history page
            # and /rest/bug/N/history, statement, auditor and distrust pages); and latest_at: the
            # stale-distrust finder's last change per action.
            models.Index(fields=["subject_type", "subject_id", "at"], name="history_subject_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action_label}: {self.subject_type} {self.subject_id or ''} by {self.actor_name}".strip()
