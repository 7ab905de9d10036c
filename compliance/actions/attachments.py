"""Every write to attachments: add one (optionally with a comment), change its flags or description.

Same contract as compliance.actions.incidents: keyword `actor`, accounts.permissions enforced here,
config.errors raised for bad input (nothing stored), a history row in the same transaction. The
content type is sniffed from the bytes (compliance.domain.attachments); the client's claim is ignored.
The file is written to storage first and deleted again if anything after it fails.

A private attachment's history rows are staff-only and it sends no bug-mail (the history and the mails
have no "staff and the CA" audience); its CA still sees it in the list, at its path and through /rest/.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts import permissions as perm
from compliance import signals
from compliance.actions import incidents as incident_actions
from compliance.domain import attachments as sniffing
from compliance.models import Attachment, Incident, IncidentHistory
from config.errors import DomainError, NotPermitted
from history import actions as history
from history.models import Event

DESCRIPTION_MAX = 400
UNSET: Any = object()


def max_bytes() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES)


def _size_text(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def check_size(size: int) -> None:
    """Refuse an empty or too large file before anything is read further or stored."""
    if size <= 0:
        raise DomainError("The file is empty; nothing was attached.", errors={"file": ["The file is empty."]})
    limit = max_bytes()
    if size > limit:
        message = (f"The file is {_size_text(size)} ({size} bytes); attachments may be at most "
                   f"{_size_text(limit)} ({limit} bytes).")
        raise DomainError(message + " Nothing was attached.", errors={"file": [message]})


def _history(actor: Any, attachment: Attachment, field: str, old: str, new: str, now) -> Event:
    return history.record(actor=actor, subject=attachment.incident, action=IncidentHistory.CHANGED, field=field,
                          old=old, new=new, at=now, staff_only=attachment.is_private)


def _announce(actor: Any, attachment: Attachment, events: list[Event], now) -> None:
    """Public changes move the incident's last-change time and go out as bug-mail; private ones do neither."""
    if attachment.is_private or not events:
        return
    incident_actions._touch(attachment.incident, now)
    signals.announce(signals.CHANGED, incident=attachment.incident, actor=actor, at=now, changes=tuple(events))


@transaction.atomic
def attachment_add(
    *,
    actor: Any,
    incident: Incident,
    data: bytes,
    filename: str,
    description: str,
    is_private: bool = False,
    comment: str = "",
) -> Attachment:
    """Attach a file to an incident. With `comment`, a comment is posted with it (private like the file)."""
    if actor is not None:
        if not perm.can_add_attachment(actor, incident):
            raise NotPermitted("Sign in to attach a file (you must be able to comment on this incident).")
        if is_private and not perm.can_add_private_attachment(actor, incident):
            raise NotPermitted("Only root program staff and the CA's representatives attach private files.",
                               errors={"is_private": ["only staff and the CA's representatives"]})
        if is_private and (comment or "").strip() and not perm.can_post_private_comment(actor):
            raise NotPermitted(
                "A comment posted with a private file would be private too, and only root program staff post "
                "private comments: put what the file is in its description, and leave the comment empty.",
                errors={"comment": ["leave empty for a private file; use the description"]})
    errors: dict[str, list[str]] = {}
    data = bytes(data or b"")
    try:
        check_size(len(data))
    except DomainError as exc:
        errors.update(exc.errors)
    name = sniffing.clean_filename(filename)
    if not name:
        errors["filename"] = ["A file name is required."]
    description = " ".join((description or "").split())
    if not description:
        errors["description"] = ["Say what the file is."]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [f"at most {DESCRIPTION_MAX} characters"]
    if errors:
        raise DomainError("Nothing was attached: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
                          errors=errors)
    now = timezone.now()
    attachment = Attachment(
        incident=incident, filename=name, description=description, content_type=sniffing.sniff(data),
        size=len(data), sha256=hashlib.sha256(data).hexdigest(), is_private=bool(is_private),
        uploader=incident_actions._actor_id(actor), created_at=now, updated_at=now,
    )
    attachment.file.save(name, ContentFile(data), save=False)
    try:
        if (comment or "").strip():
            attachment.comment = incident_actions.comment_create(actor=actor, incident=incident, body=comment,
                                                                 is_private=bool(is_private))
        attachment.save()
        event = _history(actor, attachment, "attachment", "", f"#{attachment.pk} {name}", now)
        _announce(actor, attachment, [event], now)
    except BaseException:
        # Nothing was attached: the stored bytes go too. (A caller's transaction that rolls back after
        # this returned leaves the file behind, unnamed by any row: never served, only disk.)
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


@transaction.atomic
def attachment_update(
    *,
    actor: Any,
    attachment: Attachment,
    is_obsolete: Any = UNSET,
    is_private: Any = UNSET,
    description: Any = UNSET,
) -> list[Event]:
    """Mark obsolete (or current again), private (or public), or change the description."""
    attachment = Attachment.objects.select_for_update().select_related("incident").get(pk=attachment.pk)
    if actor is not None:
        if not perm.can_change_attachment(actor, attachment):
            raise NotPermitted("Only root program staff and the person who attached a file change it.")
        if is_private is not UNSET and bool(is_private) != attachment.is_private and not perm.can_add_private_attachment(
                actor, attachment.incident):
            raise NotPermitted("Only root program staff and the CA's representatives make a file private or public.",
                               errors={"is_private": ["only staff and the CA's representatives"]})
    now = timezone.now()
    changes: list[tuple[str, str, str]] = []
    if description is not UNSET:
        description = " ".join((description or "").split())
        if not description:
            raise DomainError("Say what the file is.", errors={"description": ["Say what the file is."]})
        if len(description) > DESCRIPTION_MAX:
            raise DomainError(f"The description is too long (at most {DESCRIPTION_MAX} characters).",
                              errors={"description": [f"at most {DESCRIPTION_MAX} characters"]})
        if description != attachment.description:
            changes.append((f"attachment #{attachment.pk} description", attachment.description, description))
            attachment.description = description
    if is_obsolete is not UNSET and bool(is_obsolete) != attachment.is_obsolete:
        changes.append((f"attachment #{attachment.pk} obsolete", _yes(attachment.is_obsolete), _yes(bool(is_obsolete))))
        attachment.is_obsolete = bool(is_obsolete)
    was_private = attachment.is_private
    if is_private is not UNSET and bool(is_private) != attachment.is_private:
        changes.append((f"attachment #{attachment.pk} private", _yes(attachment.is_private), _yes(bool(is_private))))
        attachment.is_private = bool(is_private)
    if not changes:
        return []
    attachment.updated_at = now
    attachment.save(update_fields=["description", "is_obsolete", "is_private", "updated_at"])
    # A row about a file that is or was private is staff-only (its name must not leak either way).
    private_row = was_private or attachment.is_private
    events = [history.record(actor=actor, subject=attachment.incident, action=IncidentHistory.CHANGED, field=field,
                             old=old, new=new, at=now, staff_only=private_row) for field, old, new in changes]
    if not private_row:
        _announce(actor, attachment, events, now)
    return events


def _yes(value: bool) -> str:
    return "yes" if value else "no"
