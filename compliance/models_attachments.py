"""Attachments of incidents (and of the comment posted with them): files CAs and reviewers add.

Imported by compliance.models (its last line), so Django registers the model with the app; kept in its
own module so the attachments feature (issue 16) owns one file. The bytes live in the "attachments"
storage (settings.STORAGES: MEDIA_ROOT by default, an object store when a deployment says so) under a
random name; the person's file name, the description, the sniffed content type and the flags live here.
Files are served only by compliance.attachment_views.download, through accounts.permissions.
Written only by compliance.actions.attachments.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone


def attachment_storage():
    """The storage alias "attachments" (resolved when used, so tests and deployments may swap it)."""
    return storages["attachments"]


def attachment_upload_to(instance, filename: str) -> str:
    """A random name: nothing the uploader chose reaches the storage's paths."""
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    incident = models.ForeignKey("compliance.Incident", on_delete=models.CASCADE, related_name="attachments")
    # The comment posted with the file (Bugzilla's "Created attachment N" comment), if any.
    comment = models.ForeignKey(
        "compliance.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_upload_to, storage=attachment_storage, max_length=200)
    filename = models.CharField(max_length=255)
    description = models.CharField(max_length=400)
    # Sniffed from the bytes (compliance.domain.attachments.sniff), never the client's claim.
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField("SHA-256", max_length=64)
    # Visible to staff and the incident's CA only (accounts.permissions.can_view_attachment).
    is_private = models.BooleanField(default=False)
    # Superseded by a newer file: still listed and downloadable, shown struck through.
    is_obsolete = models.BooleanField(default=False)
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        app_label = "compliance"
        ordering = ["created_at", "pk"]
        indexes = [
            # The incident page's and /rest/bug/N/attachment's list, in time order.
            models.Index(fields=["incident", "created_at"], name="attachment_incident_time_idx"),
        ]

    def __str__(self) -> str:
        return f"Attachment {self.pk} ({self.filename}) on bug {self.incident_id}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("compliance:attachment_download", args=[self.pk])
