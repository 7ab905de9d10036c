"""Reads of attachments for the incident page, the download path and /rest/, through accounts.permissions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts import permissions as perm
from compliance.models import Attachment, Incident


def visible_attachments(user: Any) -> QuerySet[Attachment]:
    """Every attachment `user` may see (its incident, and staff or the CA while private)."""
    return Attachment.objects.filter(perm.attachment_visibility_q(user)).select_related("incident", "uploader")


def attachments_for(incident: Incident, user: Any) -> QuerySet[Attachment]:
    """An incident's attachments `user` may see, oldest first: one query whatever their number."""
    return visible_attachments(user).filter(incident=incident).order_by("created_at", "pk")


def attachment_for(user: Any, pk: int) -> Attachment | None:
    """The attachment `pk` if `user` may see it (None otherwise: the download path answers 404)."""
    attachment = Attachment.objects.select_related("incident", "uploader").filter(pk=pk).first()
    if attachment is None or not perm.can_view_attachment(user, attachment):
        return None
    return attachment


def comment_attachment_ids(incident: Incident, user: Any) -> dict[int, int]:
    """comment pk -> the id of the (first) attachment posted with it, among those `user` may see."""
    out: dict[int, int] = {}
    rows = attachments_for(incident, user).filter(comment__isnull=False).values_list("comment_id", "pk")
    for comment_id, pk in rows:
        out.setdefault(comment_id, pk)
    return out
